"""The issuer's identity: its ``did:web`` identifier, its Ed25519 keys and its DID document.

Private keys are stored only encrypted under ENCRYPTION_KEY and never logged; a retired key
loses its private half but keeps its public half in the DID document for ever, so every
credential it signed still verifies.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app
from sqlalchemy import select, update

from credentials.endorsements.models import IssuerKey, StatusList
from credentials.endorsements.multibase import decode_multikey_public, encode_multikey_public
from lms.audit import services as audit
from lms.platform import clock, crypto
from lms.platform.extensions import db

_PURPOSE = "issuer-signing-key"
#: Decrypted signing keys by their public key, so signing many credentials decrypts once.
_unsealed: dict[str, Ed25519PrivateKey] = {}


def issuer_did() -> str:
    """``did:web`` for the host in BASE_URL (a port is percent-encoded, a path becomes
    colon-separated segments, as the did:web method says)."""
    parts = urlsplit(current_app.config["BASE_URL"])
    did = "did:web:" + quote(parts.netloc, safe="")
    path = [segment for segment in parts.path.split("/") if segment]
    return ":".join([did, *path])


def did_document_path() -> str:
    """Where the DID document is served: /.well-known/did.json for a bare host."""
    path = [segment for segment in urlsplit(current_app.config["BASE_URL"]).path.split("/")
            if segment]
    return "/" + "/".join([*path, "did.json"]) if path else "/.well-known/did.json"


def verification_method(key: IssuerKey) -> str:
    return f"{issuer_did()}#{key.public_key_multibase}"


def active_key() -> IssuerKey:
    """The key new credentials are signed with; made on first use."""
    key = db.session.scalar(select(IssuerKey).where(IssuerKey.retired_at.is_(None))
                            .order_by(IssuerKey.id.desc()))
    return key or _new_key(actor=None)


def _new_key(actor) -> IssuerKey:
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    key = IssuerKey(
        public_key_multibase=encode_multikey_public(
            private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)),
        private_key_encrypted=crypto.encrypt(seed, _PURPOSE),
    )
    db.session.add(key)
    db.session.flush()
    audit.record("issuer_key.created", key, actor=actor,
                 changes={"public_key_multibase": (None, key.public_key_multibase)})
    return key


def rotate_key(*, actor=None) -> IssuerKey:
    """Retire the signing key (its private half is erased) and start a new one. Status lists
    are signed afresh with the new key; old credentials keep verifying with the old one."""

    for key in db.session.scalars(select(IssuerKey).where(IssuerKey.retired_at.is_(None))):
        key.retired_at = clock.now()
        key.private_key_encrypted = None
        _unsealed.pop(key.public_key_multibase, None)
        audit.record("issuer_key.retired", key, actor=actor,
                     changes={"retired_at": (None, key.retired_at)})
    new = _new_key(actor)
    # Every status list is signed again with the new key, by the sweep or the next change.
    db.session.execute(update(StatusList).values(changed_at=clock.now()))
    return new


def signing_key(key: IssuerKey) -> Ed25519PrivateKey:
    if key.private_key_encrypted is None:
        raise RuntimeError("this issuer key is retired and can no longer sign")
    private = _unsealed.get(key.public_key_multibase)
    if private is None:
        private = Ed25519PrivateKey.from_private_bytes(
            crypto.decrypt(key.private_key_encrypted, _PURPOSE))
        _unsealed[key.public_key_multibase] = private
    return private


def forget_unsealed_keys() -> None:
    _unsealed.clear()


def public_keys() -> dict[str, Ed25519PublicKey]:
    """Every key ever used, by verification method id."""
    return {verification_method(key): Ed25519PublicKey.from_public_bytes(
                decode_multikey_public(key.public_key_multibase))
            for key in db.session.scalars(select(IssuerKey).order_by(IssuerKey.id))}


def did_document() -> dict:
    did = issuer_did()
    keys = db.session.scalars(select(IssuerKey).order_by(IssuerKey.id)).all()
    methods = [{"id": verification_method(key), "type": "Multikey", "controller": did,
                "publicKeyMultibase": key.public_key_multibase} for key in keys]
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }
