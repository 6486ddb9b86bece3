"""JSON-LD processing for credentials: shipped contexts only, bounded input, and canonical
N-Quads that refuse to leave any part of the JSON out of what gets signed.

A JSON key that JSON-LD expansion drops (an undefined term, a typo such as ``nmae``) is not
covered by a Data Integrity signature, yet a reader of the JSON still sees it. ``canonize``
therefore refuses such documents instead of signing or verifying around the missing part.
"""

from __future__ import annotations

import copy
import inspect
import json
import math
import re
import threading
from collections.abc import Callable, Hashable, Iterator
from importlib import resources
from typing import Any

from pyld.canon import URDNA2015
from pyld.context_resolver import ContextResolver
from pyld.jsonld import KEYWORDS, JsonLdError, JsonLdProcessor, freeze

from credentials.endorsements.json_input import (
    CredentialFormatError,
    LimitExceeded,
    _json_path,
    check_limits,
    shorten,
)

Loader = Callable[..., dict[str, Any]]
#: Upper bound on the blank-node permutations RDFC-1.0 may try, so a crafted graph of
#: look-alike blank nodes cannot make canonicalisation run for hours.
MAX_CANONICALISATION_WORK = 10_000
#: Processed contexts kept per loader. Our credentials need a few dozen; the bound only stops
#: documents with ever new lists of context URLs from growing the cache without end.
MAX_CACHED_CONTEXTS = 512

_CONTEXT_FILES = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-context-3.0.3.json",
    "https://www.w3.org/ns/did/v1": "did-v1.json",
}
_DATA_KEYWORDS = frozenset({"@id", "@type", "@value", "@language", "@list"})


class UnknownContext(CredentialFormatError):
    """The document refers to a JSON-LD context this platform does not ship."""

    def __init__(self, url: str) -> None:
        super().__init__(f"the document uses a JSON-LD context this platform does not "
                         f"recognise: {url}")
        self.url = url


class UndefinedTerm(CredentialFormatError):
    """A key or type that the contexts do not define, so the signature would not cover it."""

    def __init__(self, key: str, path: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key
        self.path = path


def _load_contexts() -> dict[str, dict[str, Any]]:
    """Read the shipped contexts from package data so an installed wheel works too."""
    folder = resources.files("credentials") / "contexts"
    return {url: json.loads(folder.joinpath(name).read_text(encoding="utf-8"))
            for url, name in _CONTEXT_FILES.items()}


CONTEXTS: dict[str, dict[str, Any]] = _load_contexts()


_FROZEN = type(freeze({}))


class _ContextCache:
    """Active contexts pyld has processed, keyed by the active context they were processed
    in (its ``_uuid``), the local context and the processing flags; shared by every call and
    thread using one loader.

    pyld's own cache lives in the ``ContextResolver`` of a single call, so without this every
    call processed the same contexts again. Entries are written under a lock; the contexts
    they hold are frozen and pyld never changes one once built (it clones, then changes the
    clone), so readers need no lock and may keep using a context after it is evicted.
    """

    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, local_ctx: Any) -> Any:
        """The processed context, or None; an identity key must still name ``local_ctx``."""
        entry = self._entries.get(key)
        if entry is None or (entry[0] is not None and entry[0] is not local_ctx):
            return None
        return entry[1]

    def put(self, key: Hashable, local_ctx: Any, processed: Any) -> None:
        """An object keyed by identity is kept alive with its entry, so its id cannot be
        reused by another object while the entry exists."""
        owner = None if isinstance(local_ctx, str) or _urls(local_ctx) else local_ctx
        with self._lock:
            if len(self._entries) >= MAX_CACHED_CONTEXTS:
                self._entries.clear()
            self._entries[key] = (owner, processed)


class StaticLoader:
    """A document loader over a fixed set of context documents, copied when it is made.

    Because its documents can never change, ``canonize`` may keep the contexts it has
    processed for this loader and reuse them in later calls and other threads.
    """

    def __init__(self, documents: dict[str, dict[str, Any]]) -> None:
        self._documents = copy.deepcopy(documents)
        # pyld merges an @import into the imported document in place, so the same document
        # could read differently the second time; none of ours uses @import.
        sharable = '"@import"' not in json.dumps(self._documents)
        self.contexts = _ContextCache() if sharable else None

    def __call__(self, url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resolve only the known contexts, by exact URL, so nothing is ever fetched."""
        return _remote_document(self._documents, url)

    def require(self, url: Any) -> None:
        """Refuse an unknown context without copying a known one, as loading would."""
        if not isinstance(url, str) or url not in self._documents:
            raise UnknownContext(str(url))


#: Resolves only the shipped contexts, by exact URL, so nothing is ever fetched.
document_loader = StaticLoader(CONTEXTS)


def loader_with(extra: dict[str, dict[str, Any]]) -> StaticLoader:
    """A loader that also knows ``extra``; for published test vectors, never production."""
    return StaticLoader({**CONTEXTS, **extra})


def _remote_document(known: dict[str, dict[str, Any]], url: str) -> dict[str, Any]:
    """Hand pyld a private copy, since context processing may rewrite what it is given."""
    if not isinstance(url, str) or url not in known:
        raise UnknownContext(str(url))
    return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(known[url])}


class _Located(dict):
    """A JSON object that remembers where it sits in the input.

    ``_locate`` builds a fresh tree of these for a single expansion and nothing else holds
    it, so the defensive deep copy pyld makes before expanding is skipped: whatever pyld
    does to the tree, neither the caller's document nor any other call can see it.
    """

    __slots__ = ("path",)

    def __deepcopy__(self, memo: dict[int, Any]) -> _Located:
        return self


def _locate(value: Any, path: str) -> Any:
    if isinstance(value, dict):
        node = _Located((key, _locate(item, _json_path(path, key))) for key, item in value.items())
        node.path = path
        return node
    if isinstance(value, list):
        return [_locate(item, _json_path(path, index)) for index, item in enumerate(value)]
    return value


def _context_key(local_ctx: Any) -> Hashable | None:
    """URLs by value. Objects (scoped contexts inside a loaded context document, the only
    objects that reach context processing, since documents may only list URLs) by identity:
    they belong to the cached contexts and are never changed."""
    if isinstance(local_ctx, str):
        return ("url", local_ctx)
    if _urls(local_ctx):
        return ("urls", tuple(local_ctx))
    if isinstance(local_ctx, dict | list):
        return ("object", id(local_ctx))
    return None


def _urls(local_ctx: Any) -> bool:
    """A list of context URLs, as a document's ``@context`` always is here."""
    return isinstance(local_ctx, list) and all(isinstance(entry, str) for entry in local_ctx)


def _is_absolute(iri: Any) -> bool:
    """pyld's own test: RDF serialisation silently skips anything that fails it."""
    return isinstance(iri, str) and re.match(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$", iri) \
        is not None


class _StrictProcessor(JsonLdProcessor):
    """pyld's expansion, refusing instead of skipping whatever would not reach the RDF.

    pyld reports each key it drops through ``on_property_dropped``. The overrides below keep
    track of which JSON object is being expanded, and under which active context, so that the
    refusal can name the key and its path. They also refuse what expansion or RDF
    serialisation loses without reporting it: null values and empty arrays, structural
    keywords, embedded contexts, relative or undefined ``@type`` values, relative identifiers
    (pyld would resolve them against a made-up base), blank-node properties, ``@index`` and
    ``@direction``.
    """

    def __init__(self, loader: Loader) -> None:
        super().__init__(on_property_dropped=self._property_dropped)
        self._loader = loader
        self._contexts = loader.contexts if isinstance(loader, StaticLoader) else None
        self._frames: list[tuple[Any, _Located]] = []

    def _process_context(self, active_ctx: Any, local_ctx: Any, options: dict[str, Any],
                         override_protected: bool = False, propagate: bool = True,
                         validate_scoped: bool = True, cycles: set[str] | None = None) -> Any:
        """pyld's context processing, remembered across calls for a static loader.

        The result depends only on the active context, the local context, the flags and the
        loader's documents, so it can be reused. Calls pyld makes on a context it is still
        building (``cycles`` given) and active contexts that are not frozen are left alone.
        Failures are not remembered: they are raised again each time.
        """
        key = _context_key(local_ctx)
        if (self._contexts is None or cycles is not None or key is None
                or not isinstance(active_ctx, _FROZEN) or "_uuid" not in active_ctx):
            return super()._process_context(active_ctx, local_ctx, options,
                                            override_protected, propagate, validate_scoped,
                                            cycles)
        key = (active_ctx["_uuid"], key, override_protected, propagate, validate_scoped,
               options.get("base"), options.get("processingMode"))
        processed = self._contexts.get(key, local_ctx)
        if processed is None:
            processed = super()._process_context(active_ctx, local_ctx, options,
                                                 override_protected, propagate,
                                                 validate_scoped)
            if isinstance(processed, _FROZEN) and "_uuid" in processed:
                self._contexts.put(key, local_ctx, processed)
        return processed

    def _prepare_nested_context(self, active_ctx: Any, element: Any,
                                options: dict[str, Any]) -> Any:
        """Only the shipped contexts, by URL, may give keys a meaning."""
        if "@context" in element:
            where = _json_path(getattr(element, "path", "$"), "@context")
            local = element["@context"]
            entries = local if isinstance(local, list) else [local]
            for entry in entries or [None]:
                if not isinstance(entry, str):
                    raise CredentialFormatError(
                        f"the @context at {where} must list context URLs; embedded or empty "
                        f"contexts are not accepted")
                if isinstance(self._loader, StaticLoader):
                    self._loader.require(entry)
                else:
                    self._loader(entry, {})
        return super()._prepare_nested_context(active_ctx, element, options)

    def _expand_object(self, active_ctx: Any, active_property: Any,
                       expanded_active_property: Any, element: Any, expanded_parent: Any,
                       *args: Any, **kwargs: Any) -> Any:
        """Remember the object and context being expanded, then inspect the result."""
        if isinstance(element, _Located):
            self._check_keywords(active_ctx, element)
        self._frames.append((active_ctx, element))
        try:
            result = super()._expand_object(active_ctx, active_property,
                                             expanded_active_property, element,
                                             expanded_parent, *args, **kwargs)
        finally:
            self._frames.pop()
        if isinstance(element, _Located):
            self._check_expanded(active_ctx, element, expanded_parent)
        return result

    def _check_keywords(self, active_ctx: Any, element: _Located) -> None:
        """Most keywords are structure, not data, and several vanish from the RDF when misused
        (``@vocab`` in a node, ``@language`` without ``@value``, an empty ``@graph``); a
        credential needs none of them, so only the ones that carry data are accepted. Null
        values and empty lists vanish too, while a reader of the JSON still sees the key."""
        for key, value in element.items():
            if key != "@context" and _vanishes(value, self._is_list(active_ctx, key)):
                path = _json_path(element.path, key)
                raise UndefinedTerm(key, path, f"the value at {path} is null or an empty list, "
                                               f"which a signature would not cover")
        for key in self._keys_expanding(active_ctx, element, lambda iri: iri in KEYWORDS):
            keyword = self._expand_iri(active_ctx, key, vocab=True)
            path = _json_path(element.path, key)
            if keyword not in _DATA_KEYWORDS:
                raise UndefinedTerm(key, path, f"the keyword {shorten(key)} at {path} is not "
                                               f"accepted in a credential")
            if keyword == "@language" and not self._keys_expanding(
                    active_ctx, element, lambda iri: iri == "@value"):
                raise UndefinedTerm(key, path, f"@language at {path} is not attached to a "
                                               f"@value, so a signature would not cover it")

    def _is_list(self, active_ctx: Any, key: str) -> bool:
        """An empty JSON-LD list is data (rdf:nil), unlike an empty set."""
        container = JsonLdProcessor.get_context_value(active_ctx, key, "@container") or []
        return self._expand_iri(active_ctx, key, vocab=True) == "@list" or "@list" in container

    def _keys_expanding(self, active_ctx: Any, element: dict[str, Any],
                        test: Callable[[Any], bool]) -> list[str]:
        return [key for key in element
                if key != "@context" and test(self._expand_iri(active_ctx, key, vocab=True))]

    def _property_dropped(self, expanded_property: str | None) -> None:
        active_ctx, element = self._frames[-1]
        keys = self._keys_expanding(active_ctx, element,
                                    lambda iri: not (_is_absolute(iri) or iri in KEYWORDS))
        key = keys[0] if keys else str(expanded_property)
        path = _json_path(getattr(element, "path", "$"), key)
        raise UndefinedTerm(key, path, f"the property {shorten(key)} at {path} is not defined by "
                                       f"the document's JSON-LD contexts, so a signature would "
                                       f"not cover it")

    def _check_expanded(self, active_ctx: Any, element: _Located,
                        expanded: dict[str, Any]) -> None:
        def where(keyword: str) -> tuple[str, str]:
            keys = self._keys_expanding(active_ctx, element, lambda iri: iri == keyword)
            key = keys[0] if keys else keyword
            return key, _json_path(element.path, key)

        types = expanded.get("@type", [])
        for value in types if isinstance(types, list) else [types]:
            if _is_absolute(value) or (value == "@json" and "@value" in expanded):
                continue
            key, path = where("@type")
            if not isinstance(value, str):
                value = element.get(key)
            raise UndefinedTerm(str(value), path, f"the type {shorten(value)} at {path} is not "
                                                  f"defined by the document's JSON-LD contexts")
        if "@id" in expanded and not _is_absolute(expanded["@id"]):
            _, path = where("@id")
            raise _relative(expanded["@id"], path)
        for keyword in ("@index", "@direction"):
            if keyword in expanded:
                _, path = where(keyword)
                raise CredentialFormatError(f"{keyword} at {path} is not covered by a signature")
        for iri, values in expanded.items():
            if iri in KEYWORDS:
                continue
            if iri.startswith("_:"):
                _, path = where(iri)
                raise UndefinedTerm(iri, path, f"the property at {path} is a blank node, which "
                                               f"a signature would not cover")
            for reference in _references(values):
                if not _is_absolute(reference):
                    _, path = where(iri)
                    raise _relative(reference, path)


def _vanishes(value: Any, ordered: bool = False) -> bool:
    """Null and empty arrays expand to nothing, so the key carrying them is dropped; only an
    ordered list keeps its emptiness."""
    if isinstance(value, list):
        return (not value and not ordered) or any(_vanishes(item) for item in value)
    return value is None


def _references(values: Any) -> Iterator[Any]:
    """Identifiers given as property values, including inside @list."""
    for value in values if isinstance(values, list) else [values]:
        if isinstance(value, dict):
            if "@id" in value:
                yield value["@id"]
            if "@list" in value:
                yield from _references(value["@list"])


def _relative(value: Any, path: str) -> CredentialFormatError:
    return CredentialFormatError(f"the identifier {shorten(value)} at {path} is not an absolute "
                                 f"IRI, so a signature would not cover what it identifies")


class _BoundedURDNA2015(URDNA2015):
    """RDFC-1.0 (URDNA2015) with a budget on the permutations of look-alike blank nodes."""

    def __init__(self) -> None:
        super().__init__()
        self.work = 0

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        """Count the permutations this step will try before trying them."""
        work = 1
        for group in self.create_hash_to_related(id_, issuer).values():
            work *= math.factorial(len(group))
            if work > MAX_CANONICALISATION_WORK:
                break
        self.work += work
        if self.work > MAX_CANONICALISATION_WORK:
            raise LimitExceeded("blank nodes", "the document has too many look-alike unnamed "
                                               "objects to canonicalise")
        return super().hash_n_degree_quads(id_, issuer)


def _check_pyld() -> None:
    """The strict checks rely on pyld 3's expansion hooks; fail loudly rather than sign
    documents with the checks silently gone."""
    expected = {
        JsonLdProcessor.__init__: ["self", "on_property_dropped"],
        JsonLdProcessor._expand_object: ["self", "active_ctx", "active_property",
                                         "expanded_active_property", "element",
                                         "expanded_parent"],
        JsonLdProcessor._prepare_nested_context: ["self", "active_ctx", "element", "options"],
        JsonLdProcessor._process_context: ["self", "active_ctx", "local_ctx", "options",
                                           "override_protected", "propagate",
                                           "validate_scoped", "cycles"],
        URDNA2015.hash_n_degree_quads: ["self", "id_", "issuer"],
    }
    for function, names in expected.items():
        found = list(inspect.signature(function).parameters)[:len(names)]
        if found != names:
            raise ImportError(f"credentials.jsonld needs pyld 3.3 or a compatible release: "
                              f"{function.__qualname__} has changed")


_check_pyld()


def canonize(doc: dict[str, Any], loader: Loader = document_loader, *,
             root: str = "$") -> str:
    """RDF Dataset Canonicalization (RDFC-1.0, pyld's URDNA2015) of ``doc`` as N-Quads.

    These are the two steps of pyld's ``normalize(algorithm="URDNA2015")``, taken one by one
    so that the strict processor and the bounded algorithm can stand in; the output is the
    same. No base IRI is set, so a relative IRI stays relative and is refused rather than
    resolved against pyld's placeholder base. ``root`` is the JSON path of ``doc`` inside a
    larger document, for refusal messages. With a ``StaticLoader`` the processed contexts
    are reused from earlier calls, which is most of the saving.
    """
    if not isinstance(doc, dict):
        raise CredentialFormatError("the document is not a JSON object")
    check_limits(doc)
    if "@context" not in doc:
        raise CredentialFormatError("the document has no JSON-LD @context")
    options = {
        "base": None,
        "documentLoader": loader,
        "contextResolver": ContextResolver({}, loader),
        "processingMode": "json-ld-1.1",
        "produceGeneralizedRdf": False,
    }
    try:
        dataset = _StrictProcessor(loader).to_rdf(_locate(doc, root), options)
        return _BoundedURDNA2015().main(dataset, {"format": "application/n-quads"})
    except CredentialFormatError:
        raise
    except JsonLdError as exc:
        raise _explain(exc) from exc
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise CredentialFormatError(f"the document could not be read as JSON-LD ({exc})") \
            from exc


def _explain(error: JsonLdError) -> CredentialFormatError:
    """pyld wraps the real cause in generic errors; report the innermost one."""
    innermost: BaseException = error
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, CredentialFormatError):
            return cause
        innermost = cause
        cause = cause.__cause__ or cause.__context__
    message = innermost.args[0] if innermost.args else type(innermost).__name__
    return CredentialFormatError(f"the document is not valid JSON-LD: {message}")
