"""Secrets at rest: encryption and keyed hashes under the platform's ``ENCRYPTION_KEY``.

Each purpose (issuer signing keys, DBS certificate numbers, ...) gets its own key, derived from
the one in the environment, so a value encrypted for one purpose cannot be read as another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


class DecryptionFailed(RuntimeError):
    """The value was encrypted under another key (or altered): it cannot be read."""


@lru_cache(maxsize=32)
def _derived(master: str, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"tutor-platform:{purpose}".encode()).derive(
        base64.urlsafe_b64decode(master))


def _fernet(purpose: str) -> Fernet:
    return _fernet_for(current_app.config["ENCRYPTION_KEY"], purpose)


@lru_cache(maxsize=32)
def _fernet_for(master: str, purpose: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derived(master, purpose)))


def encrypt(data: bytes, purpose: str) -> bytes:
    return _fernet(purpose).encrypt(data)


def decrypt(token: bytes, purpose: str) -> bytes:
    try:
        return _fernet(purpose).decrypt(token)
    except InvalidToken as exc:
        raise DecryptionFailed(f"cannot decrypt a {purpose} value with this ENCRYPTION_KEY") \
            from exc


def keyed_hash(value: str, purpose: str) -> str:
    """An HMAC-SHA256 of ``value``: lets a secret be found by exact match without storing it
    in a form that could be reversed or guessed offline."""
    key = _derived(current_app.config["ENCRYPTION_KEY"], f"{purpose}:lookup")
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
