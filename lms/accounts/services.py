"""People: finding and creating them, signing in, passwords and email verification."""

from __future__ import annotations

from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select

from lms.accounts.models import User
from lms.accounts.security import (
    check_password_strength,
    clear_sign_in_failures,
    hash_password,
    make_token,
    password_matches,
    read_token,
    record_sign_in_failure,
    sign_in_throttle,
    spend_token,
)
from lms.audit import services as audit
from lms.notifications.services import link_to, send_email
from lms.platform import clock
from lms.platform.counters import RateLimited, client_key, counters, wait_in_words
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.validation import required

PASSWORD_RESET = "password-reset"
EMAIL_VERIFICATION = "email-verification"


# --- validation shared by forms, CSV imports and the API ---------------------------------


def normalise_email(email: str) -> str:
    try:
        result = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise DomainError(f"Enter a valid email address: {exc}", field="email") from exc
    return result.normalized.lower()


# --- people and memberships ---------------------------------------------------------------


def find_user_by_email(email: str) -> User | None:
    try:
        email = normalise_email(email)
    except DomainError:
        return None
    return db.session.scalar(select(User).where(User.email == email))


def create_user(email: str, name: str, *, actor: User | None, password: str | None = None) -> User:
    email = normalise_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise DomainError("Someone with that email address already has an account", field="email")
    user = User(email=email, name=required(name, "name", "name"))
    if password is not None:
        user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", user, actor=actor)
    return user


def user_from_token(purpose: str, token: str, max_age_key: str) -> tuple[User, dict]:
    payload = read_token(purpose, token, current_app.config[max_age_key])
    user = db.session.get(User, payload.get("user"))
    if user is None or not user.is_active:
        from lms.platform.errors import TokenInvalid

        raise TokenInvalid("This link is not valid any more.")
    return user, payload


#: Reset emails one address may be sent in an hour, and reset requests one network address
#: may make: plenty for someone who lost the link, too few to flood an inbox or to probe.
RESETS_PER_EMAIL = 5
RESETS_PER_ADDRESS = 20
RESET_WINDOW = timedelta(hours=1)


def request_password_reset(email: str, address: str | None = None) -> None:
    """Email a reset link if the address has an account; say nothing either way.

    At most ``RESETS_PER_EMAIL`` emails an hour to one address, known or not (past that
    nothing is sent, and nothing different said); past ``RESETS_PER_ADDRESS`` requests an
    hour from one network ``address``, ``RateLimited``.
    """
    if address:
        allowed, retry_after = counters.hit(client_key("reset:addr", address),
                                            RESETS_PER_ADDRESS, RESET_WINDOW)
        if not allowed:
            raise RateLimited("Too many password resets have been asked for from your network. "
                              f"Try again in {wait_in_words(retry_after)}. If that address has "
                              "an account, a link we have already sent still works.",
                              retry_after)
    try:
        email = normalise_email(email)
    except DomainError:
        email = (email or "").strip().lower()
    if not counters.hit(client_key("reset:email", email), RESETS_PER_EMAIL, RESET_WINDOW)[0]:
        return
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return
    token = make_token(PASSWORD_RESET, {"user": user.id, "pw": (user.password_hash or "")[-12:]})
    link = link_to("lms.reset_password", token=token)
    minutes = int(current_app.config["PASSWORD_RESET_MAX_AGE"].total_seconds() // 60)
    send_email(user.email, "Reset your password", "password_reset", user=user, link=link,
               minutes=minutes)


def check_password_reset(token: str) -> User:
    user, payload = user_from_token(PASSWORD_RESET, token, "PASSWORD_RESET_MAX_AGE")
    if payload.get("pw") != (user.password_hash or "")[-12:]:
        from lms.platform.errors import TokenInvalid

        raise TokenInvalid("This link has already been used. Ask for a new one if you need it.")
    return user


def reset_password(token: str, password: str) -> User:
    user = check_password_reset(token)
    payload = read_token(PASSWORD_RESET, token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    new_hash = hash_password(password)
    spend_token(PASSWORD_RESET, payload)
    user.password_hash = new_hash
    if user.email_verified_at is None:
        user.email_verified_at = clock.now()
    clear_sign_in_failures(user.email)
    audit.record("user.password_reset", user, actor=user)
    return user


def change_password(user: User, current_password: str, new_password: str) -> User:
    if not password_matches(user.password_hash, current_password):
        raise DomainError("Your current password is not right", field="current_password")
    check_password_strength(new_password)
    user.password_hash = hash_password(new_password)
    audit.record("user.password_changed", user, actor=user)
    return user


def request_email_verification(user: User) -> None:
    token = make_token(EMAIL_VERIFICATION, {"user": user.id, "email": user.email})
    link = link_to("lms.verify_email", token=token)
    send_email(user.email, "Confirm your email address", "verify_email", user=user, link=link)


def verify_email(token: str) -> User:
    user, payload = user_from_token(EMAIL_VERIFICATION, token, "EMAIL_VERIFICATION_MAX_AGE")
    if payload.get("email") != user.email:
        from lms.platform.errors import TokenInvalid

        raise TokenInvalid("This link was for a different email address.")
    spend_token(EMAIL_VERIFICATION, payload)
    changes = audit.diff(user, email_verified_at=clock.now())
    audit.record("user.email_verified", user, actor=user, changes=changes)
    return user


SIGN_IN_FAILED = "Enter a correct email address and password"


def authenticate(email: str, password: str, address: str | None) -> User:
    """Check a sign-in, throttled per account and per address; the same message for a wrong
    password and an unknown email."""
    try:
        # Count failures against the address as stored, so spelling variants that reach the
        # same account (case, full-width letters in the domain) share one lock.
        email = normalise_email(email)
    except DomainError:
        pass
    throttle = sign_in_throttle(email, address)
    if not throttle.allowed:
        raise DomainError(throttle.message)
    user = find_user_by_email(email)
    if (
        user is None
        or not password_matches(user.password_hash if user else None, password)
        or not user.is_active
    ):
        record_sign_in_failure(email, address)
        throttle = sign_in_throttle(email, address)
        raise DomainError(SIGN_IN_FAILED if throttle.allowed else throttle.message)
    clear_sign_in_failures(email)
    user.last_signed_in_at = clock.now()
    return user



# --- erased accounts ----------------------------------------------------------------------


def erased_email(user_id: int) -> str:
    """The address an erased account keeps: unique, and deliverable nowhere."""
    return f"erased-{user_id}@invalid.example"


def is_erased(user: User | None) -> bool:
    """Whether this account's personal data has been erased (so nothing may show its name)."""
    return user is not None and user.email == erased_email(user.id)
