"""What every request and response gets: sign-in loading, security headers, error pages."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, flash, jsonify, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from lms.authz import Access
from lms.extensions import db, login_manager
from lms.models import Role, User

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

ERROR_TITLES = {
    400: ("Something was wrong with that request", "Check what you entered and try again."),
    403: ("You cannot do that", "Your account does not have permission for this page."),
    404: ("Page not found", "Check the address, or go back to your home page."),
    405: ("That is not allowed here", "Go back to your home page and try again."),
    413: ("That file is too large", "Upload a smaller file."),
    429: ("Too many requests", "Wait a little and try again."),
    500: ("Sorry, something went wrong", "Try again later. The problem has been logged."),
    503: ("The service is briefly unavailable",
          "Nothing you had saved is lost. Try again in a minute."),
}

#: Seconds a client is asked to wait when the database cannot be reached.
UNAVAILABLE_RETRY_AFTER = 30

#: Shown when even the error page cannot be rendered (its header asks the database who is
#: signed in): plain, but still the friendly words rather than the server's bare error.
FALLBACK_ERROR_PAGE = (
    '<!doctype html><html lang="en-GB"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{title} – Tutor Endorsement Platform</title>"
    '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
    '<link rel="stylesheet" href="/static/app.css"></head><body><main class="container">'
    "<h1>{title}</h1><p>{hint}</p>"
    '<p><a href="/">Go to your home page</a></p></main></body></html>'
)


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database could not be reached or used for now (restarting,
    refusing connections, every pooled connection busy), rather than a fault in this request."""
    return isinstance(error, sa_exc.OperationalError | sa_exc.TimeoutError) or (
        isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    # A closed (or erased) account is signed out of every session it still has.
    return user if user is not None and user.is_active else None


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def error_response(code: int, detail: str | None = None):
    title, hint = ERROR_TITLES.get(code, ERROR_TITLES[500])
    if _wants_json():
        body = {"type": "about:blank", "title": title, "status": code, "detail": detail or hint}
        response = jsonify(body)
        response.status_code = code
        response.mimetype = "application/problem+json"
        return response
    return render_template("errors/error.html", code=code, title=title,
                           hint=detail or hint), code


def init_app(app: Flask) -> None:
    login_manager.login_view = "lms.sign_in"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    # "basic": a phone moving between wifi and mobile data changes address; a "strong"
    # check would sign tutors out mid-assessment.
    login_manager.session_protection = "basic"

    @app.after_request
    def _security_headers(response):
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        # The session, not ``current_user``: loading the user would query the database for
        # every response (static files too) and fail every page while the database is down.
        if "_user_id" in session:
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        return error_response(400, "The form expired or was sent from another site. "
                                   "Go back, reload the page and try again.")

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        response = error_response(error.code, getattr(error, "description_override", None))
        if error.code == 429 and getattr(error, "retry_after", None):
            response = app.make_response(response)
            response.headers["Retry-After"] = str(error.retry_after)
        if error.code == 405 and getattr(error, "valid_methods", None):
            methods = [m for m in error.valid_methods if m not in ("HEAD", "OPTIONS")]
            if _wants_json() and methods:
                response = error_response(405, f"This address takes {' or '.join(methods)} "
                                               "requests only.")
            response = app.make_response(response)
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unexpected error on %s %s", request.method, request.endpoint)
        code = 503 if database_unavailable(error) else 500
        headers = {"Retry-After": str(UNAVAILABLE_RETRY_AFTER)} if code == 503 else {}
        try:
            db.session.rollback()
            response = app.make_response(error_response(code))
        except Exception:  # noqa: BLE001 - the page itself needs what failed (the database)
            log.exception("the error page could not be rendered")
            title, hint = ERROR_TITLES[code]
            response = app.make_response((FALLBACK_ERROR_PAGE.format(title=title, hint=hint),
                                          code, {"Content-Type": "text/html; charset=utf-8"}))
        response.headers.update(headers)
        return response

    @app.context_processor
    def _template_globals():
        return {"Role": Role, "nav_items": navigation(), "training_window": training_window()}

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    healthz.access = Access.PUBLIC  # type: ignore[attr-defined]


def commit_or_flash(change: Callable[[], object], success: str) -> bool:
    """The request boundary for a one-button change: commit and say ``success``, or roll back
    and show the service's reason. Returns whether the change was made."""
    from lms.errors import DomainError

    try:
        change()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return False
    db.session.commit()
    flash(success, "success")
    return True


def training_window():
    """A tutor's open enrolment, so every page can show the days left."""
    from flask import has_request_context

    if not has_request_context() or not current_user.is_authenticated:
        return None
    if not current_user.has_role(Role.TUTOR):
        return None
    from lms.queries import active_enrolment

    return active_enrolment(current_user)


def navigation() -> list[tuple[str, str]]:
    """The links in the header for the signed-in user's roles."""
    from flask import has_request_context, url_for

    if not has_request_context():
        return []
    if not current_user.is_authenticated:
        return [("Sign in", url_for("lms.sign_in"))]
    items = [("Home", url_for("lms.home"))]
    if current_user.has_role(Role.PROGRAMME_ADMIN):
        items += [("Trusts", url_for("lms.trusts")),
                  ("Programme dashboard", url_for("lms.programme_dashboard")),
                  ("Outbox", url_for("lms.outbox"))]
    for membership in current_user.memberships:
        if membership.role in (Role.CENTRAL_TEAM, Role.TRUSTEE) and membership.trust_id:
            items.append(
                (membership.trust.name, url_for("lms.trust", trust_id=membership.trust_id))
            )
    items += _dashboard_links()
    items += [("Account", url_for("lms.account"))]
    seen: set[str] = set()
    unique = []
    for label, href in items:
        if href not in seen:
            seen.add(href)
            unique.append((label, href))
    return unique


def _dashboard_links() -> list[tuple[str, str]]:
    """A trust's dashboard for its central team, trustees and cluster leads, a school's for
    its leaders; named after the trust or school only when someone has more than one."""
    from flask import url_for

    boards = []
    for membership in current_user.memberships:
        if membership.role in (Role.CENTRAL_TEAM, Role.TRUSTEE, Role.CLUSTER_LEAD) \
                and membership.trust_id:
            boards.append((membership, url_for("lms.trust_dashboard",
                                               trust_id=membership.trust_id)))
        elif membership.role == Role.SCHOOL_LEADER and membership.school_id:
            boards.append((membership, url_for("lms.school_dashboard",
                                               school_id=membership.school_id)))
    if len({href for _, href in boards}) == 1:
        return [("Dashboard", boards[0][1])]
    return [(f"{(m.school if m.role == Role.SCHOOL_LEADER else m.trust).name} dashboard", href)
            for m, href in boards]
