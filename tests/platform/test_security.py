"""Headers, cookies, CSRF, configuration checks, error pages and logs without personal data."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms import create_app
from lms.organisations.models import Trust
from lms.platform.config import ConfigError
from lms.platform.logs import RedactingFilter, redact
from lms.platform.roles import Role
from tests.conftest import TEST_PASSWORD
from tests.factories import make_member, make_trust, make_user

STRONG_KEY = "k3y-for-production-0123456789-abcdefghijklmnop"
TEST_ENCRYPTION_KEY = "q8Kc6jGm1v2UQZlT3mE6m7yQeYtF0H1bR3wVb8yQ2Sg="
UNREACHABLE_DB = "postgresql://nobody@127.0.0.1:1/none"
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _assert_security_headers(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    script_src = re.search(r"(?:^|;)\s*script-src ([^;]+)", csp)
    assert script_src, csp
    assert "'unsafe-inline'" not in script_src.group(1)
    assert "'unsafe-eval'" not in script_src.group(1)
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def _production_app(monkeypatch, **overrides):
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE_DB)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("ENCRYPTION_KEY_FILE", raising=False)
    return create_app({"LMS_ENV": "production", "SECRET_KEY": STRONG_KEY,
                       "ENCRYPTION_KEY": TEST_ENCRYPTION_KEY, **overrides})


def _signed_in_cookie(app, client, user_id: int = 1) -> None:
    """A browser that signed in earlier: its session names a user the app must look up."""
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True


# --- headers and cookies ----------------------------------------------------------------


@pytest.mark.parametrize("url", ["/sign-in", "/", "/no-such-page", "/static/app.css",
                                 "/healthz", "/api/v1/nothing-here"])
def test_every_response_carries_the_security_headers(client, url):
    response = client.get(url)
    response.close()
    _assert_security_headers(response)


def test_signed_in_pages_carry_the_security_headers_and_are_not_cached(db_session, client,
                                                                        sign_in):
    sign_in(make_member(Role.TUTOR))
    for url in ("/", "/account", "/no-such-page"):
        response = client.get(url)
        _assert_security_headers(response)
        assert "no-store" in response.headers["Cache-Control"], url


def test_the_session_cookie_is_http_only_and_same_site_lax(db_session, client):
    user = make_user()
    db_session.commit()
    response = client.post("/sign-in", data={"email": user.email, "password": TEST_PASSWORD})
    set_cookie = next(v for v in response.headers.getlist("Set-Cookie")
                      if v.startswith("session="))
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_production_cookies_are_secure_and_https_is_required(monkeypatch):
    app = _production_app(monkeypatch)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    response = app.test_client().get("/sign-in")
    assert response.status_code == 200
    set_cookie = response.headers["Set-Cookie"]
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    _assert_security_headers(response)


# --- configuration ----------------------------------------------------------------------


@pytest.mark.parametrize("weak", [None, "", "changeme", "secret", "short-key",
                                  "a" * 40, "abababababababababababababababababab"])
def test_production_refuses_to_start_with_a_missing_or_weak_secret_key(monkeypatch, weak):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        _production_app(monkeypatch, SECRET_KEY=weak)


def test_production_refuses_to_start_without_an_encryption_key(monkeypatch):
    monkeypatch.delenv("ENCRYPTION_KEY", raising=False)
    with pytest.raises(ConfigError, match="ENCRYPTION_KEY"):
        _production_app(monkeypatch, ENCRYPTION_KEY=None)


def test_the_encryption_key_can_come_from_a_file_and_a_bad_one_is_refused(monkeypatch,
                                                                           tmp_path):
    monkeypatch.delenv("ENCRYPTION_KEY", raising=False)
    key_file = tmp_path / "encryption-key"
    key_file.write_text(TEST_ENCRYPTION_KEY + "\n")
    monkeypatch.setenv("ENCRYPTION_KEY_FILE", str(key_file))
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE_DB)
    app = create_app({"LMS_ENV": "production", "SECRET_KEY": STRONG_KEY})
    assert app.config["ENCRYPTION_KEY"] == TEST_ENCRYPTION_KEY
    key_file.write_text("not-a-key")
    with pytest.raises(ConfigError, match="Fernet key"):
        create_app({"LMS_ENV": "production", "SECRET_KEY": STRONG_KEY})
    monkeypatch.setenv("ENCRYPTION_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="cannot be read"):
        create_app({"LMS_ENV": "production", "SECRET_KEY": STRONG_KEY})


def test_production_refuses_to_start_without_a_database_url(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app({"LMS_ENV": "production", "SECRET_KEY": STRONG_KEY})


def test_building_the_app_never_touches_the_database(monkeypatch):
    app = _production_app(monkeypatch)
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert client.get("/sign-in").status_code == 200, "an anonymous page needs no database"


def test_the_health_check_answers_a_signed_in_browser_while_the_database_is_down(monkeypatch):
    app = _production_app(monkeypatch)
    client = app.test_client()
    _signed_in_cookie(app, client)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_a_database_outage_answers_unavailable_with_the_friendly_page(monkeypatch, caplog):
    """503 with Retry-After, not 500: a load balancer or a phone's script may try again, and
    the person is told that nothing they saved is lost."""
    app = _production_app(monkeypatch)
    client = app.test_client()
    _signed_in_cookie(app, client)
    with caplog.at_level(logging.ERROR):
        response = client.get("/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    page = response.get_data(as_text=True)
    assert "The service is briefly unavailable" in page and "Nothing you had saved" in page
    assert "favicon.svg" in page and "OperationalError" not in page
    _assert_security_headers(response)
    assert "OperationalError" in caplog.text


def test_a_database_outage_answers_a_script_with_a_problem_document(monkeypatch):
    app = _production_app(monkeypatch)
    client = app.test_client()
    _signed_in_cookie(app, client)
    response = client.get("/", headers={"Accept": "application/json"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 503
    assert response.json["title"] == "The service is briefly unavailable"


# --- CSRF -------------------------------------------------------------------------------


def test_a_form_without_its_token_is_refused_kindly_and_changes_nothing(db_session, client,
                                                                        sign_in):
    admin = make_member(Role.PROGRAMME_ADMIN)
    db_session.commit()
    sign_in(admin)
    for data in ({"name": "Sneaky Trust"}, {"name": "Sneaky Trust", "csrf_token": "forged"}):
        response = client.post("/trusts", data=data, csrf=False)
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "The form expired or was sent from another site" in page
        assert "Go back, reload the page and try again" in page
    db_session.expire_all()
    assert db_session.scalar(select(func.count(Trust.id)).where(Trust.name == "Sneaky Trust")) \
        == 0


def test_signing_in_without_the_form_token_signs_no_one_in(db_session, client):
    user = make_user()
    db_session.commit()
    response = client.post("/sign-in", data={"email": user.email, "password": TEST_PASSWORD},
                           csrf=False)
    assert response.status_code == 400
    assert client.get("/account").status_code == 302


# --- errors and logs --------------------------------------------------------------------


def _app_with_a_failing_route():
    app = create_app({"LMS_ENV": "testing", "SECRET_KEY": STRONG_KEY,
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})

    @app.get("/boom")
    def boom():
        raise RuntimeError("lookup failed for jane.doe@school.example token=abc123 at "
                           "/password/reset/eyJ1c2VyIjo1fQ.Zx9.sig")

    return app


def test_unexpected_errors_show_the_friendly_page_without_details(caplog):
    app = _app_with_a_failing_route()
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Sorry, something went wrong" in page
    assert "jane.doe" not in page and "RuntimeError" not in page and "Traceback" not in page
    _assert_security_headers(response)


def test_the_log_of_an_unexpected_error_holds_no_personal_data_or_secrets(caplog, capsys):
    app = _app_with_a_failing_route()
    with caplog.at_level(logging.ERROR):
        app.test_client().get("/boom")
    assert caplog.records, "the error was not logged"
    assert "RuntimeError: lookup failed for [email]" in caplog.text
    written = caplog.text + capsys.readouterr().err
    for secret in ("jane.doe", "school.example", "abc123", "eyJ1c2VyIjo1fQ"):
        assert secret not in written, secret


def test_the_redacting_filter_masks_emails_tokens_and_links():
    record = logging.LogRecord("lms", logging.INFO, __file__, 1,
                               "GET /reset?token=s3cr3t&x=1 for %s", ("amy@school.example",),
                               None)
    RedactingFilter().filter(record)
    assert record.getMessage() == "GET /reset?token=[redacted]&x=1 for [email]"
    assert redact("password=hunter2 secret=xyz api_key=k1") == (
        "password=[redacted] secret=[redacted] api_key=[redacted]")
    for path in ("/invitations/", "/password/reset/", "/account/verify/", "/join/"):
        assert redact(f'"GET {path}eyJ1c2VyIjo1fQ.Zx9.sig HTTP/1.1" 200') == (
            f'"GET {path}[redacted] HTTP/1.1" 200')


def test_the_redacting_filter_masks_tracebacks():
    try:
        raise ValueError("no account for bob@school.example")
    except ValueError:
        import sys

        record = logging.LogRecord("lms", logging.ERROR, __file__, 1, "failed", (),
                                   sys.exc_info())
    RedactingFilter().filter(record)
    assert "bob@school.example" not in record.exc_text and "[email]" in record.exc_text


def test_every_logger_redacts_even_access_logs(app, caplog):
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('%s - - "%s" %s', "127.0.0.1",
                                           "GET /invitations/eyJ1c2VyIjo1fQ.Zx9.sig HTTP/1.1",
                                           200)
        logging.getLogger("celery").info("sending to %s", "carl@school.example")
    assert "/invitations/[redacted]" in caplog.text and "eyJ1c2VyIjo1fQ" not in caplog.text
    assert "carl@school.example" not in caplog.text


def test_a_badly_formed_log_call_does_not_break_the_caller(app, caplog):
    with caplog.at_level(logging.WARNING):
        logging.getLogger("lms.test").warning("count %d for %s", "many", "dee@school.example")
    assert "unformattable" in caplog.text and "dee@school.example" not in caplog.text


def test_the_api_answers_errors_as_json_problems(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["title"] == "Page not found"


# --- templates --------------------------------------------------------------------------


def test_templates_have_no_inline_script_handlers_or_styles():
    templates = list(TEMPLATES.rglob("*.html"))
    assert len(templates) > 20
    for path in templates:
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc\s*=)", text, re.I), path
        assert not re.search(r"\son[a-z]+\s*=", text, re.I), path
        assert "javascript:" not in text.lower(), path
        if "emails" not in path.relative_to(TEMPLATES).parts:
            assert not re.search(r"\sstyle\s*=", text, re.I), path
            assert "<style" not in text.lower(), path


def test_a_trustee_is_read_only(db_session, client, sign_in):
    trust = make_trust()
    trustee = make_member(Role.TRUSTEE, trust=trust)
    db_session.commit()
    sign_in(trustee)
    response = client.post(f"/trusts/{trust.id}/clusters", data={"name": "New hub"})
    assert response.status_code == 403
