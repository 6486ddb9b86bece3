"""A credential as received: parsed strictly (duplicate keys, constants and oversized input
refused) and held to size limits before any JSON-LD processing."""

from __future__ import annotations

import json
import math
import re
from typing import Any

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def shorten(value: Any, limit: int = 80) -> str:
    """``repr`` for refusal messages, cut short: keys and values come from untrusted input."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."



MAX_BYTES = 64 * 1024
MAX_DEPTH = 12
MAX_VALUES = 2000
MAX_STRING_BYTES = 8 * 1024


class CredentialFormatError(ValueError):
    """A document that cannot be signed or verified; ``reason`` is fit to show a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LimitExceeded(CredentialFormatError):
    """The document is bigger or deeper than a credential ever needs to be."""

    def __init__(self, limit: str, reason: str) -> None:
        super().__init__(reason)
        self.limit = limit


def check_limits(raw_or_obj: str | bytes | Any) -> None:
    """Refuse input that could stall the verifier: text is checked for size only, a parsed
    document for size, depth, number of values, string length and JSON types."""
    if isinstance(raw_or_obj, str | bytes):
        _check_size(raw_or_obj)
        return
    _check_structure(raw_or_obj)
    _check_size(json.dumps(raw_or_obj, ensure_ascii=False, separators=(",", ":")))


def parse(text: str | bytes) -> dict[str, Any]:
    """Parse untrusted JSON strictly: no duplicate keys, no NaN or Infinity, an object at the
    top, and within every limit."""
    _check_size(text)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CredentialFormatError("the document is not UTF-8 text") from exc
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except CredentialFormatError:
        raise
    except RecursionError as exc:
        raise _too_deep() from exc
    except json.JSONDecodeError as exc:
        raise CredentialFormatError(f"the document is not valid JSON ({exc.msg} at line "
                                    f"{exc.lineno}, column {exc.colno})") from exc
    except ValueError as exc:
        raise CredentialFormatError(f"the document is not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise CredentialFormatError("the document is not a JSON object")
    _check_structure(value)
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Two values for one key would let different readers see different documents."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise CredentialFormatError(
                f"the document has the key {shorten(key)} twice in one object")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON and have no canonical form."""
    raise CredentialFormatError(f"the document contains {name}, which is not valid JSON")


def _too_deep() -> LimitExceeded:
    return LimitExceeded("depth", f"the document is nested more than {MAX_DEPTH} levels deep")


def _check_size(text: str | bytes) -> None:
    if isinstance(text, str):
        size = len(text) if len(text) > MAX_BYTES else len(_utf8(text))
    else:
        size = len(text)
    if size > MAX_BYTES:
        raise LimitExceeded("size", f"the document is larger than {MAX_BYTES // 1024} KiB")


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CredentialFormatError("the document contains an invalid Unicode character") from exc


def _check_structure(root: Any) -> None:
    """Walk without recursion, so the depth check itself cannot overflow the stack."""
    count = 0
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise LimitExceeded("values", f"the document has more than {MAX_VALUES} values")
        if isinstance(value, dict | list):
            if depth + 1 > MAX_DEPTH:
                raise _too_deep()
            if isinstance(value, dict):
                for key in value:
                    if not isinstance(key, str):
                        raise CredentialFormatError("the document has a key that is not text")
                    _check_string(key)
                children = value.values()
            else:
                children = value
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(value, str):
            _check_string(value)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise CredentialFormatError("the document contains a number JSON cannot hold")
        elif not (value is None or isinstance(value, bool | int)):
            raise CredentialFormatError(
                f"the document contains a {type(value).__name__}, which is not a JSON value")


def _check_string(text: str) -> None:
    if len(text) > MAX_STRING_BYTES or len(_utf8(text)) > MAX_STRING_BYTES:
        raise LimitExceeded("string", f"the document has a text value longer than "
                                      f"{MAX_STRING_BYTES // 1024} KiB")


def _json_path(parent: str, step: str | int) -> str:
    """Readable JSONPath-style location, used in every refusal so the key can be found."""
    if isinstance(step, int):
        return f"{parent}[{step}]"
    if _IDENTIFIER.fullmatch(step) and len(step) <= 60:
        return f"{parent}.{step}"
    name = json.dumps(step)
    return f"{parent}[{name if len(name) <= 60 else name[:56] + '...' + name[-1]}]"

