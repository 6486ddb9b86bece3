"""Passwords, signed single-use links, and sign-in throttling."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from lms import clock
from lms.counters import counters
from lms.errors import DomainError, TokenInvalid
from lms.extensions import db
from lms.models import UsedToken

MIN_PASSWORD_LENGTH = 12
_hashers: dict[tuple, tuple[PasswordHasher, str]] = {}


def _hasher() -> tuple[PasswordHasher, str]:
    """Argon2id with the library's memory-hard defaults (cheaper settings only in tests), and
    a hash of a random password to check when an email is unknown, so timing reveals nothing."""
    params = current_app.config.get("PASSWORD_HASHER_PARAMS") or {}
    key = tuple(sorted(params.items()))
    if key not in _hashers:
        hasher = PasswordHasher(**params)
        _hashers[key] = (hasher, hasher.hash(secrets.token_urlsafe(16)))
    return _hashers[key]


def hash_password(password: str) -> str:
    check_password_strength(password)
    return _hasher()[0].hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters long", field="password"
        )
    if len(set(password)) < 5:
        raise DomainError("Password is too easy to guess: use more different characters",
                          field="password")


def password_matches(password_hash: str | None, password: str) -> bool:
    try:
        hasher, dummy = _hasher()
        return hasher.verify(password_hash or dummy, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# --- signed links -------------------------------------------------------------------------


class _ClockSigner(TimestampSigner):
    """Timestamps from ``lms.clock``, so link expiry follows the platform's clock."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"lms.{purpose}", signer=_ClockSigner
    )


def make_token(purpose: str, payload: dict) -> str:
    """Sign ``payload`` for one ``purpose``; each token carries a random id so it works once."""
    return _serializer(purpose).dumps({**payload, "jti": secrets.token_urlsafe(16)})


def read_token(purpose: str, token: str, max_age: timedelta) -> dict:
    """Return the payload of a valid, unused token, or raise ``TokenInvalid``."""
    try:
        payload = _serializer(purpose).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as exc:
        raise TokenInvalid("This link has expired. Ask for a new one.") from exc
    except BadSignature as exc:
        raise TokenInvalid("This link is not valid. Check you copied all of it.") from exc
    if db.session.get(UsedToken, _token_key(payload["jti"])) is not None:
        raise TokenInvalid("This link has already been used. Ask for a new one if you need it.")
    return payload


def spend_token(purpose: str, payload: dict) -> None:
    """Mark a token used, in the same transaction as the change it authorises."""
    try:
        with db.session.begin_nested():
            db.session.add(UsedToken(token_id=_token_key(payload["jti"]), purpose=purpose))
    except IntegrityError as exc:
        raise TokenInvalid("This link has already been used.") from exc


def _token_key(jti: str) -> str:
    return hashlib.sha256(jti.encode()).hexdigest()


# --- sign-in throttling -------------------------------------------------------------------


@dataclass(frozen=True)
class Throttle:
    """Whether a sign-in may be tried now, and if not, for how long it must wait."""

    allowed: bool
    retry_after: timedelta = timedelta(0)

    @property
    def message(self) -> str:
        minutes = max(1, int(-(-self.retry_after.total_seconds() // 60)))
        unit = "minute" if minutes == 1 else "minutes"
        return f"Too many failed sign-in attempts. Try again in {minutes} {unit}."


def _throttle_keys(email: str, address: str | None) -> list[str]:
    keys = ["signin:acct:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]]
    if address:
        keys.append("signin:addr:" + hashlib.sha256(address.encode()).hexdigest()[:32])
    return keys


def sign_in_throttle(email: str, address: str | None) -> Throttle:
    """Failures past ``SIGN_IN_SLOW_AFTER`` must wait, doubling each time; past the maximum
    the account (and address) is locked for ``SIGN_IN_LOCK``.

    Counted for every email tried, known or not, so the answer reveals nothing.
    """
    config = current_app.config
    slow_after = config["SIGN_IN_SLOW_AFTER"]
    longest = timedelta(0)
    for key in _throttle_keys(email, address):
        failures, last_at = counters.failures(key)
        if failures < slow_after or last_at is None:
            continue
        if failures >= config["SIGN_IN_MAX_FAILURES"]:
            wait = config["SIGN_IN_LOCK"]
        else:
            wait = timedelta(seconds=2 ** (failures - slow_after + 1))
        remaining = last_at + wait - clock.now()
        longest = max(longest, remaining)
    if longest > timedelta(0):
        return Throttle(False, longest)
    return Throttle(True)


def record_sign_in_failure(email: str, address: str | None) -> None:
    window = current_app.config["SIGN_IN_LOCK"] * 2
    for key in _throttle_keys(email, address):
        counters.add_failure(key, window)


def clear_sign_in_failures(email: str) -> None:
    counters.clear(_throttle_keys(email, None)[0])
