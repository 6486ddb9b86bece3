"""Headers, cookies, CSRF, configuration checks, error pages and logs without personal data."""

import logging
import re
from pathlib import Path

import pytest

from lms import create_app
from lms.config import ConfigError
from lms.logs import RedactingFilter
from lms.models import Role
from tests.factories import make_member, make_trust

STRONG_KEY = "k3y-for-production-0123456789-abcdefghijklmnop"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


@pytest.mark.parametrize("url", ["/sign-in", "/", "/no-such-page", "/static/app.css",
                                 "/healthz"])
def test_every_response_carries_the_security_headers(client, url):
    response = client.get(url)
    response.close()
    csp = response.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)
    assert "'unsafe-inline'" not in script_src and "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_session_cookie_is_http_only_and_same_site(db_session, client, sign_in):
    sign_in(make_member(Role.TUTOR))
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_production_cookies_are_secure_and_weak_keys_refused(monkeypatch):
    base = {"LMS_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    app = create_app({**base, "SECRET_KEY": STRONG_KEY})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    monkeypatch.delenv("SECRET_KEY", raising=False)
    for weak in (None, "", "changeme", "short-key", "a" * 40):
        with pytest.raises(ConfigError, match="SECRET_KEY"):
            create_app({**base, "SECRET_KEY": weak})


def test_starting_the_app_never_touches_the_database():
    app = create_app({"LMS_ENV": "testing", "SECRET_KEY": STRONG_KEY,
                      "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_a_form_without_its_token_is_refused_and_changes_nothing(db_session, client, sign_in):
    admin = make_member(Role.PROGRAMME_ADMIN)
    db_session.commit()
    sign_in(admin)
    response = client.post("/trusts", data={"name": "Sneaky Trust"}, csrf=False)
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    assert "Sneaky Trust" not in client.get("/trusts").get_data(as_text=True)


def test_unexpected_errors_show_a_friendly_page_and_log_no_personal_data(caplog):
    app = create_app({"LMS_ENV": "testing", "SECRET_KEY": STRONG_KEY,
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})

    @app.get("/boom")
    def boom():
        raise RuntimeError("lookup failed for jane.doe@school.example token=abc123")

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Sorry, something went wrong" in response.get_data(as_text=True)
    assert "jane.doe" not in response.get_data(as_text=True)
    assert caplog.records and "RuntimeError" in caplog.text
    assert "jane.doe@school.example" not in caplog.text
    assert "abc123" not in caplog.text


def test_redaction_covers_emails_and_secrets_in_query_strings():
    record = logging.LogRecord("lms", logging.INFO, __file__, 1,
                               "GET /reset?token=s3cr3t for %s", ("amy@school.example",), None)
    RedactingFilter().filter(record)
    assert record.getMessage() == "GET /reset?token=[redacted] for [email]"


def test_the_api_answers_errors_as_json_problems(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["title"] == "Page not found"


def test_templates_have_no_inline_script_or_handlers():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert not re.search(r"\son[a-z]+\s*=", text), path
        if "emails" not in path.parts:
            assert "style=" not in text, path


def test_a_trustee_is_read_only(db_session, client, sign_in):
    trust = make_trust()
    trustee = make_member(Role.TRUSTEE, trust=trust)
    db_session.commit()
    sign_in(trustee)
    response = client.post(f"/trusts/{trust.id}/clusters", data={"name": "New hub"})
    assert response.status_code == 403
