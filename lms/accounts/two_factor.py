"""Two-factor sign-in: setting it up, checking codes, recovery codes, turning it off, resets.

Central team, trustee and programme admin roles must use it (``User.two_factor_required``);
anyone else may turn it on. A code is a 6-digit TOTP from an authenticator app or one of ten
single-use recovery codes. The secret is kept encrypted and the recovery codes only as keyed
hashes; audit entries and logs name the person by id and never hold either.

Each function stages its change, audits it, flushes and returns; the caller commits. The
half-finished sign-in (password accepted, second factor pending) is the views' business:
``lms.two_factor_views``.
"""

from __future__ import annotations

import logging
from typing import NoReturn

from sqlalchemy import delete, func, or_, select, update

from lms.accounts.models import RecoveryCode, User
from lms.accounts.security import (
    clear_second_factor_failures,
    new_recovery_codes,
    normalise_recovery_code,
    otpauth_uri,
    record_second_factor_failure,
    second_factor_throttle,
    totp_key,
    totp_match,
)
from lms.audit import services as audit
from lms.notifications.services import send_email
from lms.platform import clock
from lms.platform.crypto import decrypt, encrypt, keyed_hash
from lms.platform.errors import DomainError
from lms.platform.extensions import db

log = logging.getLogger(__name__)

#: The name an authenticator app shows next to the account.
ISSUER = "Tutor Endorsement Platform"
SECRET_PURPOSE = "totp-secret"
RECOVERY_PURPOSE = "recovery-code"
#: One message whatever was wrong (a wrong, old or reused code, a used recovery code), so a
#: guesser learns nothing.
CODE_NOT_RIGHT = ("Enter a correct code: the 6 digits your authenticator app shows now, or "
                  "one of your unused recovery codes")
TOTP = "totp"
RECOVERY = "recovery"


def needs_second_factor(user: User) -> bool:
    """Whether signing in takes a second factor: it is on, or one of their roles needs it."""
    return user.two_factor_enabled or user.two_factor_required


def setup_uri(user: User, secret: str) -> str:
    return otpauth_uri(secret, user.email, ISSUER)


def secret_of(user: User) -> str:
    """The person's TOTP secret, decrypted (for checking a code; never shown or logged)."""
    if user.totp_secret_encrypted is None:
        raise DomainError("Two-factor sign-in is not set up")
    return decrypt(user.totp_secret_encrypted, SECRET_PURPOSE).decode()


def enable_two_factor(user: User, secret: str, code: str) -> list[str]:
    """Turn two-factor sign-in on with ``secret`` once ``code`` shows the person's app holds
    it. Returns the new recovery codes, to be shown once and never again."""
    if user.two_factor_enabled:
        raise DomainError("Two-factor sign-in is already on for this account")
    _refuse_if_throttled(user)
    step = totp_match(totp_key(secret), code or "", clock.now(), after=None)
    if step is None:
        _failed(user)
    clear_second_factor_failures(user.id)
    user.totp_secret_encrypted = encrypt(secret.encode(), SECRET_PURPOSE)
    user.totp_last_step = step
    changes = audit.diff(user, two_factor_enabled_at=clock.now())
    codes = _replace_recovery_codes(user)
    audit.record("user.two_factor_enabled", user, actor=user, changes=changes)
    log.info("two-factor sign-in turned on for user %s", user.id)
    return codes


def check_second_factor(user: User, code: str) -> str:
    """Accept a current code from the app (each time step once only) or an unused recovery
    code (once only); say which. Wrong codes are throttled like wrong passwords."""
    if not user.two_factor_enabled:
        raise DomainError("Two-factor sign-in is not set up")
    _refuse_if_throttled(user)
    used = _accept_totp(user, code or "") or _accept_recovery_code(user, code or "")
    if used is None:
        _failed(user)
    clear_second_factor_failures(user.id)
    return used


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def replace_recovery_codes(user: User, code: str) -> list[str]:
    """New recovery codes for old, after a current code; the old ones stop working."""
    check_second_factor(user, code)
    codes = _replace_recovery_codes(user)
    audit.record("user.recovery_codes_replaced", user, actor=user)
    return codes


def turn_off_two_factor(user: User, code: str) -> User:
    """Someone who chose two-factor sign-in may stop, after a current code; a role that
    needs it cannot."""
    if user.two_factor_required:
        raise DomainError("Your role needs two-factor sign-in, so it cannot be turned off")
    check_second_factor(user, code)
    changes = _clear(user)
    audit.record("user.two_factor_disabled", user, actor=user, changes=changes)
    _tell(user, "disabled")
    return user


def reset_two_factor(user: User, *, actor: User | None, reason: str | None) -> User:
    """Clear a person's set-up (a lost or replaced phone): they set it up again at their next
    sign-in if a role needs it. Done by a programme admin, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason for resetting two-factor sign-in", field="reason")
    if actor is not None and actor.id == user.id:
        raise DomainError("You cannot reset your own two-factor sign-in. Ask another "
                          "programme admin.")
    if not user.two_factor_enabled:
        raise DomainError(f"{user.name} has not set up two-factor sign-in")
    changes = _clear(user)
    clear_second_factor_failures(user.id)
    audit.record("user.two_factor_reset", user, actor=actor, changes=changes, reason=reason)
    _tell(user, "reset")
    log.info("two-factor sign-in reset for user %s", user.id)
    return user


# --- helpers ------------------------------------------------------------------------------


def _refuse_if_throttled(user: User) -> None:
    throttle = second_factor_throttle(user.id)
    if not throttle.allowed:
        raise DomainError(throttle.message, field="code")


def _failed(user: User) -> NoReturn:
    record_second_factor_failure(user.id)
    throttle = second_factor_throttle(user.id)
    raise DomainError(CODE_NOT_RIGHT if throttle.allowed else throttle.message, field="code")


def _accept_totp(user: User, code: str) -> str | None:
    step = totp_match(totp_key(secret_of(user)), code, clock.now(), after=user.totp_last_step)
    if step is None:
        return None
    # Claimed in the database, so two requests racing with one code cannot both pass.
    claimed = db.session.execute(
        update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None),
                                                   User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    db.session.expire(user, ["totp_last_step"])
    return TOTP if claimed.rowcount == 1 else None


def _accept_recovery_code(user: User, code: str) -> str | None:
    normalised = normalise_recovery_code(code)
    if normalised is None:
        return None
    code_id = db.session.scalar(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id,
        RecoveryCode.code_hash == keyed_hash(normalised, RECOVERY_PURPOSE),
        RecoveryCode.used_at.is_(None)))
    if code_id is None:
        return None
    claimed = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.id == code_id, RecoveryCode.used_at.is_(None))
        .values(used_at=clock.now()).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return None
    audit.record("user.recovery_code_used", user, actor=user,
                 changes={"recovery_code_id": (None, code_id)})
    return RECOVERY


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = new_recovery_codes()
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=keyed_hash(normalise_recovery_code(code),
                                                           RECOVERY_PURPOSE))
        for code in codes)
    db.session.flush()
    return codes


def _clear(user: User) -> dict:
    """Forget the secret, the last step and the recovery codes; the audited change is only
    the time it was turned on (never the secret)."""
    user.totp_secret_encrypted = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    return audit.diff(user, two_factor_enabled_at=None)


def _tell(user: User, change: str) -> None:
    """Changes that weaken someone's sign-in are emailed to them, in case it was not them."""
    subjects = {"disabled": "Two-factor sign-in is now off for your account",
                "reset": "Your two-factor sign-in has been reset"}
    send_email(user.email, subjects[change], "two_factor_changed", user=user, change=change,
               required=user.two_factor_required)
