"""Passwords, signed single-use links, sign-in throttling, and the second factor's one-time
codes (RFC 6238 TOTP) and recovery codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import UsedToken
from lms.platform import clock
from lms.platform.counters import client_key, counters
from lms.platform.errors import DomainError, TokenInvalid
from lms.platform.extensions import db

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
    """Timestamps from ``lms.platform.clock``, so link expiry follows the platform's clock."""

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
    keys = [client_key("signin:acct", email.strip().lower())]
    if address:
        keys.append(client_key("signin:addr", address))
    return keys


def sign_in_throttle(email: str, address: str | None) -> Throttle:
    """Failures past ``SIGN_IN_SLOW_AFTER`` must wait, doubling each time; past the maximum
    the account (and address) is locked for ``SIGN_IN_LOCK``.

    Counted for every email tried, known or not, so the answer reveals nothing.
    """
    return _throttle(_throttle_keys(email, address))


def _throttle(keys: list[str]) -> Throttle:
    config = current_app.config
    slow_after = config["SIGN_IN_SLOW_AFTER"]
    longest = timedelta(0)
    for key in keys:
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


# --- the second factor: one-time codes (RFC 6238) and recovery codes -----------------------

#: RFC 6238 as authenticator apps use it: HMAC-SHA-1, 30-second steps, 6 digits.
TOTP_PERIOD = 30
TOTP_DIGITS = 6
#: Steps either side of now a code may come from, for a phone's clock running a little off.
TOTP_DRIFT = 1
#: Recovery codes: Crockford's base32 (no i, l, o, u), read as ``xxxx-xxxx-xx`` (50 bits).
RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
RECOVERY_CODE_LENGTH = 10
RECOVERY_CODE_COUNT = 10


def new_totp_secret() -> str:
    """A random 160-bit key (the length RFC 4226 recommends) in base32, without padding."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def totp_key(secret: str) -> bytes:
    compact = secret.replace(" ", "").upper()
    return base64.b32decode(compact + "=" * (-len(compact) % 8))


def hotp(key: bytes, counter: int, digits: int = TOTP_DIGITS, digest: str = "sha1") -> str:
    """RFC 4226: an HMAC of the counter, dynamically truncated to ``digits`` digits."""
    mac = hmac.new(key, counter.to_bytes(8, "big"), digest).digest()
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(digits)


def totp_step(moment: datetime) -> int:
    return int(moment.timestamp()) // TOTP_PERIOD


def totp(key: bytes, moment: datetime, digits: int = TOTP_DIGITS, digest: str = "sha1") -> str:
    """RFC 6238: the HOTP of the number of whole periods since the Unix epoch."""
    return hotp(key, totp_step(moment), digits, digest)


def totp_match(key: bytes, code: str, moment: datetime, *, after: int | None) -> int | None:
    """The time step, within ``TOTP_DRIFT`` of ``moment`` and later than ``after`` (the last
    step this person used), whose code is ``code``; ``None`` if there is none."""
    code = code.strip().replace(" ", "")
    if len(code) != TOTP_DIGITS or not code.isascii() or not code.isdigit():
        return None
    now = totp_step(moment)
    for step in range(now - TOTP_DRIFT, now + TOTP_DRIFT + 1):
        if (after is None or step > after) and hmac.compare_digest(hotp(key, step), code):
            return step
    return None


def group_secret(secret: str) -> str:
    """The secret in groups of four, for reading out or typing into an app."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def otpauth_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI authenticator apps read from a QR code (Key Uri Format)."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode({"secret": secret, "issuer": issuer, "algorithm": "SHA1",
                       "digits": TOTP_DIGITS, "period": TOTP_PERIOD}, quote_via=quote)
    return f"otpauth://totp/{label}?{query}"


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    codes = set()
    while len(codes) < count:
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.add(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return sorted(codes)


def normalise_recovery_code(code: str) -> str | None:
    """A recovery code as stored (hyphens, spaces and case ignored; o read as 0, i and l as
    1, as Crockford's base32 does), or ``None`` if it cannot be one."""
    compact = (code or "").strip().lower().replace("-", "").replace(" ", "")
    compact = compact.translate(str.maketrans("oil", "011"))
    if len(compact) != RECOVERY_CODE_LENGTH or any(c not in RECOVERY_ALPHABET for c in compact):
        return None
    return compact


# --- throttling the second factor ---------------------------------------------------------


def _second_factor_key(user_id: int) -> str:
    return f"2fa:user:{user_id}"


def second_factor_throttle(user_id: int) -> Throttle:
    """Wrong codes for one person are slowed and then locked as wrong passwords are."""
    return _throttle([_second_factor_key(user_id)])


def record_second_factor_failure(user_id: int) -> None:
    counters.add_failure(_second_factor_key(user_id), current_app.config["SIGN_IN_LOCK"] * 2)


def clear_second_factor_failures(user_id: int) -> None:
    counters.clear(_second_factor_key(user_id))
