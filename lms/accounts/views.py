"""Signing in and out, passwords, email verification and the account page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

from lms.accounts import services as accounts
from lms.accounts.forms import ChangePasswordForm, ForgotPasswordForm, SetPasswordForm, SignInForm
from lms.platform.authz import Access, access
from lms.platform.counters import RateLimited
from lms.platform.errors import DomainError, TokenInvalid
from lms.platform.extensions import db
from lms.platform.forms import fail
from lms.platform.web import bp


def _safe_next(target: str | None) -> str:
    """Only follow ``next`` to a path on this site. Browsers read ``//host``, ``/\\host`` and
    slashes split by tabs or newlines as another site, so those are refused too."""
    if target and target.isprintable() and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not (
            target.startswith("//")
        ):
            return target
    return url_for("lms.home")


def link_problem(error: TokenInvalid):
    db.session.rollback()
    return render_template("lms/link_problem.html", message=error.message), 400


@bp.route("/sign-in", methods=["GET", "POST"])
@access(Access.PUBLIC)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("lms.home"))
    from lms.accounts.sign_in import begin_sign_in, forget_pending_sign_in

    forget_pending_sign_in()  # back at the password: any half-finished sign-in starts over
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data, request.remote_addr)
        except DomainError as error:
            fail(form, error)
            db.session.commit()
        else:
            db.session.commit()
            return begin_sign_in(user, _safe_next(request.args.get("next")))
    return render_template("lms/sign_in.html", form=form), 200 if not form.errors else 400


@bp.post("/sign-out")
@access(Access.SIGNED_IN)
def sign_out():
    logout_user()
    flash("You have signed out.", "success")
    return redirect(url_for("lms.sign_in"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@access(Access.PUBLIC)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.request_password_reset(form.email.data, request.remote_addr)
        except RateLimited as error:
            fail(form, error)
            return render_template("lms/forgot_password.html", form=form), 429, {
                "Retry-After": str(error.retry_after)}
        db.session.commit()
        flash("If that address has an account, we have sent it a link to reset the password. "
              "The link works once.", "success")
        return redirect(url_for("lms.sign_in"))
    return render_template("lms/forgot_password.html", form=form)


def password_from_link(check, apply, template: str, token: str, done_message: str):
    try:
        user = check(token)
    except TokenInvalid as error:
        return link_problem(error)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = apply(token, form.password.data)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            from lms.accounts.sign_in import begin_sign_in

            # A link proves the email address, not the second factor: that is still asked.
            return begin_sign_in(user, url_for("lms.home"), done_message)
    return render_template(template, form=form, user=user), 200 if not form.errors else 400


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@access(Access.PUBLIC)
def reset_password(token: str):
    return password_from_link(accounts.check_password_reset, accounts.reset_password,
                               "lms/reset_password.html", token, "Your password has been reset.")


@bp.route("/account", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current_password.data,
                                     form.password.data)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            flash("Your password has been changed.", "success")
            return redirect(url_for("lms.account"))
    from lms.accounts.two_factor_views import account_context

    return render_template("lms/account.html", form=form, **account_context(current_user)), (
        200 if not form.errors else 400
    )


@bp.post("/account/verify-email")
@access(Access.SIGNED_IN)
def send_verification():
    accounts.request_email_verification(current_user)
    db.session.commit()
    flash("We have sent you a link to confirm your email address.", "success")
    return redirect(url_for("lms.account"))


@bp.get("/account/verify/<token>")
@access(Access.PUBLIC)
def verify_email(token: str):
    try:
        accounts.verify_email(token)
    except TokenInvalid as error:
        return link_problem(error)
    db.session.commit()
    flash("Your email address is confirmed.", "success")
    return redirect(url_for("lms.home"))

