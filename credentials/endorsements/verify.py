"""Verifying an endorsement as any independent verifier would: the proof against the issuer's
DID document, the validity dates, and the status list. Used by the offline command
(``flask credentials verify``), by the provider API for credentials sent whole, and by tests.

Every failure has its own reason, in words a school business manager can act on.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPException
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from credentials.endorsements.json_input import CredentialFormatError, check_limits, parse
from credentials.endorsements.multibase import decode_multikey_public
from credentials.endorsements.proofs import verify as verify_proof

#: The largest DID document or status list the verifier will read.
MAX_FETCH_BYTES = 256 * 1024


@dataclass(frozen=True)
class Verdict:
    valid: bool
    #: One of: valid, malformed, unknown_context, undefined_term, not_a_badge, bad_proof,
    #: unknown_key, wrong_issuer, tampered, not_yet_valid, expired, status_unavailable,
    #: suspended, revoked.
    code: str
    reason: str
    credential_id: str | None = None
    valid_until: str | None = None

    def line(self) -> str:
        return f"{'VALID' if self.valid else 'NOT VALID'}: {self.reason}"


class Resolver:
    """Where the verifier finds public keys and status lists."""

    def key(self, verification_method: str) -> Ed25519PublicKey | None:
        raise NotImplementedError

    def status_list(self, url: str) -> dict | None:
        raise NotImplementedError


class StaticResolver(Resolver):
    """Keys and status lists given up front (from the database or from files)."""

    def __init__(self, keys: dict[str, Ed25519PublicKey], lists: dict[str, dict]) -> None:
        self.keys = keys
        self.lists = lists

    def key(self, verification_method: str) -> Ed25519PublicKey | None:
        return self.keys.get(verification_method)

    def status_list(self, url: str) -> dict | None:
        return self.lists.get(url)


def keys_from_did_document(document: dict) -> dict[str, Ed25519PublicKey]:
    """Multikey Ed25519 keys listed for assertion in a DID document."""
    assertion = set(document.get("assertionMethod") or [])
    keys = {}
    for method in document.get("verificationMethod") or []:
        if not isinstance(method, dict) or method.get("id") not in assertion:
            continue
        if method.get("type") != "Multikey" or method.get("revoked"):
            continue
        try:
            keys[method["id"]] = Ed25519PublicKey.from_public_bytes(
                decode_multikey_public(str(method.get("publicKeyMultibase"))))
        except ValueError:
            continue
    return keys


def did_web_url(did: str, *, allow_http: bool = False) -> str:
    """Where a ``did:web`` identifier's DID document lives."""
    if not did.startswith("did:web:"):
        raise ValueError(f"only did:web issuers can be resolved, not {did[:40]!r}")
    host, *path = did[len("did:web:"):].split(":")
    host = urllib.request.unquote(host)
    scheme = "http" if allow_http else "https"
    return (f"{scheme}://{host}/{'/'.join(path)}/did.json" if path
            else f"{scheme}://{host}/.well-known/did.json")


def fetch_json(url: str, *, timeout: float = 10.0) -> dict:
    """GET a JSON document over HTTP(S), refusing anything large."""
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"cannot fetch {url[:60]!r}")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        body = response.read(MAX_FETCH_BYTES + 1)
    if len(body) > MAX_FETCH_BYTES:
        raise ValueError(f"{url} sent more than {MAX_FETCH_BYTES // 1024} KiB")
    return json.loads(body)


class NetworkResolver(Resolver):
    """Fetches what it was not given: the issuer's DID document and the status lists."""

    def __init__(self, did_document: dict | None = None, lists: dict[str, dict] | None = None,
                 *, allow_http: bool = False,
                 fetch: Callable[[str], dict] = fetch_json) -> None:
        self.did_document = did_document
        self.lists = dict(lists or {})
        self.allow_http = allow_http
        self.fetch = fetch

    def _fetch(self, url: str) -> dict | None:
        """What ``url`` serves, or None when it cannot be used: unreachable, not a JSON
        object, or plain HTTP when that was not allowed (anyone on the way could change it)."""
        if url.startswith("http://") and not self.allow_http:
            return None
        try:
            document = self.fetch(url)
        except (OSError, ValueError, HTTPException):
            return None
        return document if isinstance(document, dict) else None

    def key(self, verification_method: str) -> Ed25519PublicKey | None:
        if self.did_document is None:
            try:
                url = did_web_url(verification_method.split("#", 1)[0],
                                  allow_http=self.allow_http)
            except ValueError:
                return None
            self.did_document = self._fetch(url)
            if self.did_document is None:
                return None
        return keys_from_did_document(self.did_document).get(verification_method)

    def status_list(self, url: str) -> dict | None:
        if url not in self.lists:
            listing = self._fetch(url)
            if listing is None:
                return None
            self.lists[url] = listing
        return self.lists[url]


def lists_from_files(paths: list[Path]) -> dict[str, dict]:
    """Status list credentials saved as files, by their ``id``."""
    lists = {}
    for path in paths:
        document = parse(path.read_bytes())
        lists[str(document.get("id"))] = document
    return lists


# --- the checks ---------------------------------------------------------------------------


def _types(value: Any) -> set[str]:
    return {value} if isinstance(value, str) else set(value or [])


def _issuer_id(document: dict) -> str | None:
    issuer = document.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_PROOF_CODES = (
    ("unknown context", "unknown_context"),
    ("not defined", "undefined_term"),
    ("verification method", "unknown_key"),
    ("altered", "tampered"),
)


def _proof_verdict(document: dict, resolver: Resolver) -> Verdict | None:
    check = verify_proof(document, resolver.key)
    if check.valid:
        method = check.verification_method or ""
        if method.split("#", 1)[0] != _issuer_id(document):
            return Verdict(False, "wrong_issuer",
                           "it was signed with a key that does not belong to its issuer")
        return None
    reason = check.reason
    code = next((code for words, code in _PROOF_CODES if words in reason.lower()), "bad_proof")
    return Verdict(False, code, reason)


def verify_credential(document: str | bytes | dict, resolver: Resolver,
                      now: datetime | None = None) -> Verdict:
    """Check a credential completely; never raises for bad input."""
    now = now or datetime.now(UTC)
    try:
        if isinstance(document, dict):
            check_limits(document)
        else:
            document = parse(document)
    except CredentialFormatError as error:
        return Verdict(False, "malformed", error.reason)
    credential_id = document.get("id") if isinstance(document.get("id"), str) else None
    if not {"VerifiableCredential", "OpenBadgeCredential"} <= _types(document.get("type")):
        return Verdict(False, "not_a_badge",
                       "it is not an Open Badges 3.0 credential (OpenBadgeCredential)",
                       credential_id)
    problem = _proof_verdict(document, resolver)
    if problem is not None:
        return Verdict(False, problem.code, problem.reason, credential_id)
    valid_from, valid_until = _moment(document.get("validFrom")), _moment(
        document.get("validUntil"))
    if valid_from is None:
        return Verdict(False, "malformed", "it has no valid validFrom date", credential_id)
    if now < valid_from:
        return Verdict(False, "not_yet_valid",
                       f"it is not valid before {valid_from:%-d %B %Y %H:%M} UTC", credential_id)
    if valid_until is not None and now >= valid_until:
        return Verdict(False, "expired", f"it expired on {valid_until:%-d %B %Y}",
                       credential_id, document.get("validUntil"))
    status = _status_verdict(document, resolver, now)
    if status is not None:
        return Verdict(False, status.code, status.reason, credential_id,
                       document.get("validUntil"))
    issuer = document.get("issuer")
    name = issuer.get("name") if isinstance(issuer, dict) else issuer
    until = f", valid until {valid_until:%-d %B %Y}" if valid_until else ""
    return Verdict(True, "valid", f"signed by {name}{until}, not suspended or revoked",
                   credential_id, document.get("validUntil"))


def _status_verdict(document: dict, resolver: Resolver, now: datetime) -> Verdict | None:
    from credentials.endorsements.status import decoded_list, is_set

    entries = document.get("credentialStatus")
    if entries is None:
        return None
    for entry in entries if isinstance(entries, list) else [entries]:
        if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
            return Verdict(False, "status_unavailable", "its status entry is not understood")
        url = entry.get("statusListCredential")
        listing = resolver.status_list(url) if isinstance(url, str) else None
        if listing is None:
            return Verdict(False, "status_unavailable",
                           f"its status list could not be read ({url}), so its status is "
                           "unknown")
        problem = _checked_list(resolver, listing, document, entry, now)
        if problem:
            return Verdict(False, "status_unavailable", f"its status list {problem}")
        subject = listing["credentialSubject"]
        try:
            bits = decoded_list(subject["encodedList"])
            index = int(entry.get("statusListIndex"))
        except (KeyError, TypeError, ValueError, OSError):
            return Verdict(False, "status_unavailable", "its status list cannot be decoded")
        if not 0 <= index < len(bits) * 8:
            return Verdict(False, "status_unavailable", "its status index is outside the list")
        if is_set(bits, index):
            purpose = entry.get("statusPurpose")
            if purpose == "revocation":
                return Verdict(False, "revoked", "it has been revoked by its issuer")
            return Verdict(False, "suspended",
                           "it is suspended or revoked by its issuer: do not rely on it")
    return None


def _checked_list(resolver: Resolver, listing: dict, document: dict, entry: dict,
                  now: datetime) -> str | None:
    """A list's checks, done once per resolver for a given list and entry (a verifier checking
    many credentials against one list verifies its signature once)."""
    key = (entry.get("statusListCredential"), entry.get("statusPurpose"), _issuer_id(document),
           hashlib.sha256(json.dumps(listing, sort_keys=True, default=str).encode()).digest())
    cache = resolver.__dict__.setdefault("_checked_lists", {})
    if key not in cache:
        cache[key] = _status_list_problem(listing, document, entry, resolver, now)
    return cache[key]


def _status_list_problem(listing: dict, document: dict, entry: dict, resolver: Resolver,
                         now: datetime) -> str | None:
    if "BitstringStatusListCredential" not in _types(listing.get("type")):
        return "is not a BitstringStatusListCredential"
    if listing.get("id") != entry.get("statusListCredential"):
        # Another genuine list of the issuer's, served in its place, says nothing about this
        # credential's bit.
        return f"is not the one at {entry.get('statusListCredential')}"
    if _issuer_id(listing) != _issuer_id(document):
        return "was not issued by the credential's issuer"
    check = verify_proof(listing, resolver.key)
    if not check.valid:
        return f"is not properly signed ({check.reason})"
    subject = listing.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("statusPurpose") != entry.get(
            "statusPurpose"):
        return "is for another purpose"
    until = _moment(listing.get("validUntil"))
    if until is not None and now >= until:
        return "has expired"
    return None
