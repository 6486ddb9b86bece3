"""Two-factor sign-in pages: the code after the password, first set-up, recovery codes, and
the account page's and a programme admin's changes.

Between the password and the second factor nobody is signed in: the session holds a marker
("password accepted for this person, second factor pending") that lasts 10 minutes and is
dropped by going back to the sign-in page. Only the pages declared
``Access.SECOND_FACTOR`` accept it; every other page treats the person as signed out.
"""

from __future__ import annotations

import io
import json

import segno
from flask import (
    Response,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user

from lms.accounts import two_factor
from lms.accounts.forms import (
    ChangePasswordForm,
    CurrentCodeForm,
    RecoveryCodeForm,
    RecoveryCodesSavedForm,
    SecondFactorForm,
)
from lms.accounts.models import User
from lms.accounts.security import group_secret, new_totp_secret
from lms.accounts.sign_in import PENDING, pending_user
from lms.platform.authz import Access, Action, access, require
from lms.platform.crypto import DecryptionFailed, decrypt, encrypt
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.forms import RequiredReasonForm, fail
from lms.platform.roles import Role
from lms.platform.web import bp

SETUP = "tfa_setup"
CODES = "tfa_codes"
CODES_PURPOSE = "recovery-codes-display"


# --- the pending sign-in --------------------------------------------------------------------


def _finish_sign_in(user: User) -> Response:
    marker = session.pop(PENDING, None) or {}
    session.pop(SETUP, None)
    login_user(user)
    return redirect(marker.get("next") or url_for("lms.home"))


def _mark_verified() -> None:
    session[PENDING] = {**session[PENDING], "verified": True}


def _no_store(page) -> Response:
    """Pages that show a secret or recovery codes are never kept by a browser or proxy (the
    usual header is only added once someone is signed in)."""
    response = make_response(page)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/sign-in/two-factor", methods=["GET", "POST"])
@access(Access.SECOND_FACTOR)
def two_factor_challenge():
    user = pending_user()
    if not user.two_factor_enabled:  # reset meanwhile: set it up again, if a role needs it
        if user.two_factor_required:
            return redirect(url_for("lms.two_factor_set_up"))
        return _finish_sign_in(user)
    recovery = request.args.get("recovery") == "1"
    form = RecoveryCodeForm() if recovery else SecondFactorForm()
    if form.validate_on_submit():
        try:
            used = two_factor.check_second_factor(user, form.code.data)
        except DomainError as error:
            fail(form, error)
        else:
            if used == two_factor.RECOVERY:
                left = two_factor.recovery_codes_left(user)
                flash(f"You used a recovery code. You have {left} left: make new ones from "
                      "your account page if you are running low.", "info")
            db.session.commit()
            return _finish_sign_in(user)
    return render_template("lms/two_factor_challenge.html", form=form, recovery=recovery), (
        200 if not form.errors else 400)


@bp.route("/sign-in/two-factor/set-up", methods=["GET", "POST"])
@access(Access.SECOND_FACTOR)
def two_factor_set_up():
    user = pending_user()
    if user.two_factor_enabled:
        verified = session[PENDING].get("verified")
        return redirect(url_for("lms.two_factor_recovery_codes" if verified
                                else "lms.two_factor_challenge"))

    def done():
        _mark_verified()
        return redirect(url_for("lms.two_factor_recovery_codes"))

    return _set_up(user, done, signed_in=False)


@bp.route("/sign-in/two-factor/recovery-codes", methods=["GET", "POST"])
@access(Access.SECOND_FACTOR)
def two_factor_recovery_codes():
    user = pending_user()
    if not session[PENDING].get("verified"):
        return redirect(url_for("lms.two_factor_challenge"))
    return _show_codes(user, lambda: _finish_sign_in(user), signed_in=False) or \
        _finish_sign_in(user)


# --- set-up and recovery codes, shared by the sign-in and the account page -----------------


def _set_up(user: User, done, *, signed_in: bool):
    """Show a new secret (kept, encrypted, in the session until confirmed) as text and as a
    QR code; a code from the app turns two-factor sign-in on."""
    secret = _proposed_secret(user)
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.enable_two_factor(user, secret, form.code.data)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            session.pop(SETUP, None)
            _keep_codes(user, codes)
            return done()
    uri = two_factor.setup_uri(user, secret)
    return _no_store((render_template(
        "lms/two_factor_set_up.html", form=form, secret=group_secret(secret), uri=uri,
        qr=_qr_svg(uri), signed_in=signed_in, required=user.two_factor_required,
    ), 200 if not form.errors else 400))


def _proposed_secret(user: User) -> str:
    """The same secret on every visit (a person may scan it, then reload the page), until
    it is confirmed or someone else signs in in this browser."""
    kept = session.get(SETUP)
    if isinstance(kept, dict) and kept.get("user") == user.id:
        try:
            return decrypt(kept["secret"].encode(), two_factor.SECRET_PURPOSE).decode()
        except (DecryptionFailed, KeyError, AttributeError):
            pass
    secret = new_totp_secret()
    session[SETUP] = {"user": user.id,
                      "secret": encrypt(secret.encode(), two_factor.SECRET_PURPOSE).decode()}
    return secret


def _qr_svg(uri: str) -> str:
    out = io.BytesIO()
    segno.make(uri, error="m", micro=False).save(
        out, kind="svg", scale=1, border=4, xmldecl=False, svgns=True, omitsize=True,
        title="QR code to scan with your authenticator app", svgclass="totp-qr",
        lineclass=None)
    return out.getvalue().decode()


def _keep_codes(user: User, codes: list[str]) -> None:
    """New recovery codes wait, encrypted in the session, until the person says they have
    saved them; then they are gone for good (only their hashes are stored)."""
    session[CODES] = {"user": user.id,
                      "codes": encrypt(json.dumps(codes).encode(), CODES_PURPOSE).decode()}


def _kept_codes(user: User) -> list[str] | None:
    kept = session.get(CODES)
    if not isinstance(kept, dict) or kept.get("user") != user.id:
        return None
    try:
        return json.loads(decrypt(kept["codes"].encode(), CODES_PURPOSE))
    except (DecryptionFailed, KeyError, AttributeError, ValueError):
        return None


def _show_codes(user: User, done, *, signed_in: bool):
    """The recovery codes, once, until "I have saved these"; ``None`` if there are none to
    show."""
    codes = _kept_codes(user)
    if codes is None:
        return None
    form = RecoveryCodesSavedForm()
    if form.validate_on_submit():
        session.pop(CODES, None)
        return done()
    return _no_store((render_template(
        "lms/two_factor_recovery_codes.html", form=form, codes=codes, signed_in=signed_in,
    ), 200 if not form.errors else 400))


# --- the account page ---------------------------------------------------------------------


def account_context(user: User, **forms) -> dict:
    """What the account page shows about two-factor sign-in, and its forms."""
    return {
        "two_factor": {"enabled": user.two_factor_enabled,
                       "required": user.two_factor_required,
                       "since": user.two_factor_enabled_at,
                       "codes_left": two_factor.recovery_codes_left(user)
                       if user.two_factor_enabled else 0},
        "new_codes_form": forms.get("new_codes_form") or CurrentCodeForm(prefix="new-codes"),
        "turn_off_form": forms.get("turn_off_form") or CurrentCodeForm(prefix="turn-off"),
    }


def _account_page(**forms):
    return render_template("lms/account.html", form=ChangePasswordForm(),
                           **account_context(current_user, **forms)), 400


@bp.route("/account/two-factor/set-up", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def account_two_factor_set_up():
    if current_user.two_factor_enabled:
        flash("Two-factor sign-in is already on.", "info")
        return redirect(url_for("lms.account"))
    return _set_up(current_user, lambda: redirect(url_for("lms.account_recovery_codes")),
                   signed_in=True)


@bp.route("/account/two-factor/recovery-codes", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def account_recovery_codes():
    def done():
        flash("Two-factor sign-in is on. Keep your recovery codes safe.", "success")
        return redirect(url_for("lms.account"))

    return _show_codes(current_user, done, signed_in=True) or redirect(url_for("lms.account"))


@bp.post("/account/two-factor/recovery-codes/new")
@access(Access.SIGNED_IN)
def replace_recovery_codes():
    form = CurrentCodeForm(prefix="new-codes")
    if form.validate_on_submit():
        try:
            codes = two_factor.replace_recovery_codes(current_user, form.code.data)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            _keep_codes(current_user, codes)
            return redirect(url_for("lms.account_recovery_codes"))
    return _account_page(new_codes_form=form)


@bp.post("/account/two-factor/turn-off")
@access(Access.SIGNED_IN)
def turn_off_two_factor():
    form = CurrentCodeForm(prefix="turn-off")
    if form.validate_on_submit():
        try:
            two_factor.turn_off_two_factor(current_user, form.code.data)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            flash("Two-factor sign-in is off.", "success")
            return redirect(url_for("lms.account"))
    return _account_page(turn_off_form=form)


# --- a programme admin resets someone's set-up ----------------------------------------------


@bp.post("/users/<int:user_id>/two-factor/reset")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def reset_two_factor(user_id: int):
    person = require(Action.VIEW, db.session.get(User, user_id))
    form = RequiredReasonForm(prefix="two-factor")
    if form.validate_on_submit():
        try:
            two_factor.reset_two_factor(person, actor=current_user, reason=form.reason.data)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(f"{person.name}'s two-factor sign-in has been reset. They set it up again "
                  "the next time they sign in.", "success")
    else:
        flash("Give a reason for resetting two-factor sign-in.", "error")
    return redirect(url_for("lms.user", user_id=person.id))
