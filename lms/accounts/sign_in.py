"""Who is signed in, and who is half-way through signing in.

Between the password and the second factor nobody is signed in: the session holds a marker
("password accepted for this person, second factor pending") that lasts 10 minutes and is
dropped by going back to the sign-in page. Only the pages declared
``Access.SECOND_FACTOR`` accept it; every other page treats the person as signed out.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Response, flash, redirect, session, url_for
from flask_login import current_user, login_user, logout_user

from lms.accounts import two_factor
from lms.accounts.models import User
from lms.platform import clock
from lms.platform.authz import pending_sign_in_loader
from lms.platform.extensions import db, login_manager


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    # A closed (or erased) account is signed out of every session it still has.
    return user if user is not None and user.is_active else None



#: How long a password stays accepted while the second factor is pending.
PENDING_FOR = timedelta(minutes=10)
PENDING = "tfa_pending"


def begin_sign_in(user: User, next_url: str, message: str | None = None) -> Response:
    """Sign ``user`` in after their password (or a link) was accepted, or, if they need a
    second factor, send them for it with a pending marker instead."""
    forget_pending_sign_in()
    if message:
        flash(message, "success")
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(next_url)
    if not two_factor.needs_second_factor(user):
        login_user(user)
        return redirect(next_url)
    if current_user.is_authenticated:
        logout_user()
    session[PENDING] = {"user": user.id, "at": clock.now().timestamp(), "next": next_url,
                        "verified": False}
    return redirect(url_for("lms.two_factor_challenge" if user.two_factor_enabled
                            else "lms.two_factor_set_up"))


@pending_sign_in_loader
def pending_user() -> User | None:
    """The person whose second factor is pending, or ``None`` (no marker, or it expired)."""
    marker = session.get(PENDING)
    if not isinstance(marker, dict):
        return None
    if clock.now().timestamp() - marker.get("at", 0) > PENDING_FOR.total_seconds():
        forget_pending_sign_in()
        flash("Signing in took more than 10 minutes, so it has started again. Enter your "
              "email address and password.", "info")
        return None
    user = db.session.get(User, marker.get("user"))
    if user is None or not user.is_active:
        forget_pending_sign_in()
        return None
    return user


def forget_pending_sign_in() -> None:
    session.pop(PENDING, None)


