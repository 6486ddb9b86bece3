"""Tutoring providers: their API keys, and verifying endorsements for them.

A key is ``tep_<prefix>_<secret>``: the prefix finds the key, the secret is checked against a
SHA-256 hash (the secret is 32 random bytes, so a slow hash would add nothing), and the whole
key is shown to the provider once, when it is made.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app
from sqlalchemy import select

from credentials.endorsements import services
from credentials.endorsements.keys import public_keys
from credentials.endorsements.models import Endorsement, StatusList, VerificationCheck
from credentials.endorsements.verify import Resolver, verify_credential
from credentials.providers.models import ApiKey
from credentials.register.models import ProviderAccess
from lms.accounts.services import is_erased
from lms.audit import services as audit
from lms.organisations.models import Provider
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db

KEY_PREFIX = "tep_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_key(provider: Provider, *, name: str, actor) -> tuple[ApiKey, str]:
    """Make a key; returns it with the full secret, which is never stored or shown again."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise DomainError("Name the key (up to 100 characters), e.g. the system that uses it",
                          field="name")
    prefix = secrets.token_hex(6)
    token = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(provider_id=provider.id, name=name, prefix=prefix, secret_hash=_digest(token),
                 created_by_id=getattr(actor, "id", None))
    db.session.add(key)
    db.session.flush()
    audit.record("api_key.created", key, actor=actor, changes={"name": (None, name)})
    return key, token


def revoke_api_key(key: ApiKey, *, actor) -> ApiKey:
    if key.revoked_at is not None:
        raise DomainError("This key is already revoked.")
    key.revoked_at = clock.now()
    audit.record("api_key.revoked", key, actor=actor, changes={"revoked": (False, True)})
    return key


def key_for(token: str | None) -> ApiKey | None:
    """The active key this token belongs to, or None (wrong, revoked or malformed)."""
    if not token or not token.startswith(KEY_PREFIX) or len(token) > 200:
        return None
    prefix, _, secret = token[len(KEY_PREFIX):].partition("_")
    if not secret or not re.fullmatch(r"[0-9a-f]{12}", prefix):
        return None
    key = db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or not hmac.compare_digest(key.secret_hash, _digest(token)):
        return None
    return key if key.is_active else None


# --- verifying for a provider -------------------------------------------------------------


class LocalResolver(Resolver):
    """The platform's own keys and status lists, from its database (no network)."""

    def __init__(self) -> None:
        self._keys = public_keys()

    def key(self, verification_method: str) -> Ed25519PublicKey | None:
        return self._keys.get(verification_method)

    def status_list(self, url: str) -> dict | None:
        import json

        base = urlsplit(current_app.config["BASE_URL"])
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or \
                not parts.path.startswith("/status/"):
            return None
        listing = db.session.scalar(select(StatusList).where(
            StatusList.public_id == parts.path[len("/status/"):]))
        return json.loads(listing.credential) if listing and listing.credential else None


@dataclass(frozen=True)
class Result:
    """What a provider learns about one endorsement."""

    credential_id: str
    status: str
    valid: bool
    reason: str
    endorsement: Endorsement | None = None
    register: dict | None = None

    def as_dict(self) -> dict:
        e = self.endorsement
        return {
            "credential_id": self.credential_id,
            "status": self.status,
            "valid": self.valid,
            "reason": self.reason,
            "tutor_name": e.user.name if e and not is_erased(e.user) else None,
            "pathway": e.pathway.value if e else None,
            "pathway_label": e.pathway.short_label if e else None,
            "phase": e.phase.value if e else None,
            "issued": e.issued_at if e else None,
            "valid_until": e.valid_until if e else None,
            "page_url": services.credential_url(e.public_id) if e else None,
            **({"register": self.register} if self.register is not None else {}),
        }


def _granted_trusts(provider: Provider) -> set[int]:
    return set(db.session.scalars(select(ProviderAccess.trust_id).where(
        ProviderAccess.provider_id == provider.id, ProviderAccess.revoked_at.is_(None))))


def _result(endorsement: Endorsement, granted: set[int], now: datetime) -> Result:
    from credentials.register.services import register_status_for

    status = services.public_status(endorsement, now)
    register = register_status_for(endorsement, granted)
    return Result(endorsement.public_id, status.code, status.valid, status.detail, endorsement,
                  register)


def verify_ids(public_ids: list[str], *, provider: Provider, key: ApiKey | None,
               now: datetime | None = None) -> list[Result]:
    """Live status for each id, in the order asked, every check logged for the tutor."""
    now = now or clock.now()
    wanted = [i for i in dict.fromkeys(public_ids) if services.is_public_id(i)]
    found = {e.public_id: e for e in db.session.scalars(
        select(Endorsement).where(Endorsement.public_id.in_(wanted)))} if wanted else {}
    granted = _granted_trusts(provider)
    results = []
    for public_id in public_ids:
        endorsement = found.get(public_id)
        if endorsement is None:
            status = services.public_status(None)
            results.append(Result(public_id, status.code, False, status.detail))
            continue
        results.append(_result(endorsement, granted, now))
    _log(found.values(), provider, key, now)
    return results


#: Verdicts reached only once the proof holds. For the platform's own credentials the live
#: record then says which: the single status bit reads the same for suspended and revoked.
_LIVE_CODES = ("suspended", "revoked", "expired")


def verify_document(document: dict, *, provider: Provider, key: ApiKey | None,
                    now: datetime | None = None) -> Result:
    """A whole credential, checked as an independent verifier would (proof, dates, status),
    then, when it is one of the platform's, with its live status."""
    now = now or clock.now()
    verdict = verify_credential(document, LocalResolver(), now)
    credential_id = verdict.credential_id or ""
    prefix = services.credential_url("")
    endorsement = (services.find_endorsement(credential_id[len(prefix):])
                   if credential_id.startswith(prefix) else None)
    if endorsement is None or not (verdict.valid or verdict.code in _LIVE_CODES):
        # A credential that fails its own checks says nothing about any tutor: no details.
        code = verdict.code if not verdict.valid else "not_found"
        return Result(credential_id, code if code in _LIVE_CODES else "invalid", False,
                      verdict.reason)
    _log([endorsement], provider, key, now)
    return _result(endorsement, _granted_trusts(provider), now)


def _log(endorsements, provider: Provider, key: ApiKey | None, now: datetime) -> None:
    for endorsement in endorsements:
        db.session.add(VerificationCheck(endorsement_id=endorsement.id, provider_id=provider.id,
                                         api_key_id=key.id if key else None, checked_at=now))
