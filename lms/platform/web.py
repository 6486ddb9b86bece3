"""What every request and response gets: security headers, error pages, the health check,
and the ``lms`` blueprint the core's pages register on."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, Flask, flash, jsonify, render_template, request, session
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from lms.platform.authz import Access
from lms.platform.extensions import db, login_manager

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


#: The ``lms`` blueprint: every page of the application core registers on it, whichever domain
#: package its view lives in, so endpoint names read ``lms.<view>``.
bp = Blueprint("lms", "lms")


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database could not be reached or used for now (restarting,
    refusing connections, every pooled connection busy), rather than a fault in this request."""
    return isinstance(error, sa_exc.OperationalError | sa_exc.TimeoutError) or (
        isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated)


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

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    healthz.access = Access.PUBLIC  # type: ignore[attr-defined]


def commit_or_flash(change: Callable[[], object], success: str) -> bool:
    """The request boundary for a one-button change: commit and say ``success``, or roll back
    and show the service's reason. Returns whether the change was made."""
    from lms.platform.errors import DomainError

    try:
        change()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return False
    db.session.commit()
    flash(success, "success")
    return True
