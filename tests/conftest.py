"""Test harness.

The schema is built once per run by the real Alembic migrations, on SQLite by default or on
PostgreSQL when ``TEST_DATABASE_URL`` is set; each test then starts from the empty, migrated
database. Services that a test needs (PostgreSQL, Redis) are required on CI (``CI`` set): a
missing one fails the run instead of skipping.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from lms import create_app
from lms.platform import clock
from lms.platform.config import normalise_database_url
from lms.platform.counters import MemoryCounterStore
from lms.platform.extensions import db

ON_CI = bool(os.environ.get("CI"))
TEST_PASSWORD = "correct horse battery staple"
TEST_ENCRYPTION_KEY = "q8Kc6jGm1v2UQZlT3mE6m7yQeYtF0H1bR3wVb8yQ2Sg="


def need_service(name: str, check) -> None:
    """Skip locally, fail on CI, when a real service a test needs is not answering."""
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - any failure means the service is unusable
        message = f"{name} is not available: {exc}"
        if ON_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def redis_url() -> str:
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return normalise_database_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def _exclusive_database(database_url):
    """Two runs of the suite against one PostgreSQL database would truncate each other's
    tables; an advisory lock held for the whole run makes a second run wait instead."""
    if not database_url.startswith("postgresql"):
        yield
        return
    import psycopg

    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(774411)")
        yield
        conn.execute("SELECT pg_advisory_unlock(774411)")


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory, _exclusive_database):
    instance = tmp_path_factory.mktemp("instance")
    app = create_app(
        {
            "LMS_ENV": "testing",
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "BASE_URL": "http://localhost",
            "SERVER_NAME": None,
        }
    )
    app.instance_path = str(instance)
    app.test_client_class = CsrfClient
    with app.app_context():
        _build_schema(app, database_url)
    yield app
    with app.app_context():  # close pooled connections now, not at interpreter exit
        db.session.remove()
        db.engine.dispose()


def _build_schema(app, database_url: str) -> None:
    from flask_migrate import upgrade

    if database_url.startswith("postgresql"):
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade()
    db.engine.dispose()
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        shutil.copy(path, path.with_suffix(".template"))


def _reset_database(app) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.remove()
    if url.startswith("sqlite"):
        db.engine.dispose()
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        shutil.copy(path.with_suffix(".template"), path)
        return
    tables = ", ".join(
        f'"{t.name}"' for t in db.metadata.sorted_tables if t.name != "alembic_version"
    )
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(autouse=True)
def _fresh_state(request, app):
    """Every test starts with an empty database, a fresh clock and fresh counters."""
    if "app" not in request.fixturenames and "db_session" not in request.fixturenames:
        yield
        return
    clock.reset()
    app.extensions["lms.counters"] = MemoryCounterStore()
    # Tests that build an app of their own make its Celery the default; take it back.
    app.extensions["celery"].set_default()
    app.extensions["celery"].set_current()
    with app.app_context():
        _reset_database(app)
    ctx = app.app_context()
    ctx.push()
    yield
    db.session.remove()
    ctx.pop()
    clock.reset()


@pytest.fixture
def db_session(app):
    return db.session


class CsrfClient(FlaskClient):
    """A test client that sends the CSRF token a real form would carry."""

    _token: str | None = None

    def csrf_token(self) -> str:
        if self._token is None:
            page = super().get("/sign-in", follow_redirects=True).get_data(as_text=True)
            match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
            assert match, "no CSRF token on the sign-in page"
            self._token = match.group(1)
        return self._token

    def open(self, *args, **kwargs):
        """Each request starts with an empty ``g``, as in production: the test's own app
        context stays pushed (so requests share its database session) but must not carry
        one request's signed-in user or form token into the next."""
        from flask import g, has_app_context

        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)

    def post(self, *args, csrf: bool = True, **kwargs):
        data = kwargs.get("data")
        if csrf and (data is None or isinstance(data, dict)):
            kwargs["data"] = {"csrf_token": self.csrf_token(), **(data or {})}
        return super().post(*args, **kwargs)


@pytest.fixture
def client(app) -> CsrfClient:
    return app.test_client()


@pytest.fixture
def sign_in(client):
    """Sign ``user`` in through the real form, and the second factor if they need one;
    returns the client."""

    def _sign_in(user, password: str = TEST_PASSWORD):
        response = client.post("/sign-in", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        complete_second_factor(client, user, response)
        client._token = None  # the session changed; fetch a fresh token next time
        return client

    return _sign_in


SET_UP_PATH = "/sign-in/two-factor/set-up"
CHALLENGE_PATH = "/sign-in/two-factor"
CODES_PATH = "/sign-in/two-factor/recovery-codes"


def complete_second_factor(client, user, response):
    """After the password: if the answer asks for a second factor, give it through the real
    pages (setting it up first, as a person does at their first sign-in, when they have not)
    and return the answer that signs them in; otherwise return ``response`` as it is."""
    from urllib.parse import urlsplit

    from lms.accounts.security import hotp, totp_key, totp_step

    path = urlsplit(response.headers.get("Location", "")).path
    if path == SET_UP_PATH:
        page = client.get(SET_UP_PATH).get_data(as_text=True)
        secret = re.search(r"secret=([A-Z2-7]+)", page).group(1)
        code = hotp(totp_key(secret), totp_step(clock.now()))
        confirmed = client.post(SET_UP_PATH, data={"code": code})
        assert confirmed.status_code == 302, confirmed.get_data(as_text=True)
        page = client.get(CODES_PATH).get_data(as_text=True)
        client.recovery_codes = re.findall(r"<li>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{2})</li>",
                                           page)
        response = client.post(CODES_PATH, data={"saved": "y"})
    elif path == CHALLENGE_PATH:
        response = client.post(CHALLENGE_PATH, data={"code": current_code(user)})
    else:
        return response
    assert response.status_code == 302, response.get_data(as_text=True)
    assert not urlsplit(response.headers["Location"]).path.startswith("/sign-in"), \
        response.headers["Location"]
    return response


def current_code(user) -> str:
    """The code ``user``'s authenticator app shows now, for a time step they have not used
    yet (a used one is refused as a replay)."""
    from sqlalchemy import select

    from lms.accounts.models import User
    from lms.accounts.security import TOTP_DRIFT, hotp, totp_key, totp_step
    from lms.platform import crypto

    encrypted, last = db.session.execute(select(
        User.totp_secret_encrypted, User.totp_last_step).where(User.id == user.id)).one()
    now = totp_step(clock.now())
    step = now if last is None else max(now, last + 1)
    if step > now + TOTP_DRIFT:
        # A test signs one person in more often than anyone could in a minute: let the
        # current step be used again rather than wait for the next.
        db.session.get(User, user.id).totp_last_step = None
        db.session.commit()
        step = now
    return hotp(totp_key(crypto.decrypt(encrypted, "totp-secret").decode()), step)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``once`` do not depend on the database: the PostgreSQL pass of ``make test``
    leaves them out (deselected, and counted as such), the SQLite pass runs them."""
    if not os.environ.get("TEST_DATABASE_URL"):
        return
    once = [item for item in items if item.get_closest_marker("once")]
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = [item for item in items if not item.get_closest_marker("once")]
