"""What the benchmarks share: an app on a database of their own, made afresh; a signed-in
client and a statement counter; a real gunicorn server on a free port; percentiles."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

SECRET_KEY = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
ENCRYPTION_KEY = "q8Kc6jGm1v2UQZlT3mE6m7yQeYtF0H1bR3wVb8yQ2Sg="
#: The PostgreSQL database the benchmarks rebuild; never the one the tests use.
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", 4))
WEB_THREADS = int(os.environ.get("BENCH_WEB_THREADS", 8))
#: Simulated tutors' password.
PASSWORD = "bench tutor password"
ROOT = Path(__file__).resolve().parents[1]
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def ensure_database(url: str = DATABASE_URL) -> None:
    """Create the benchmark's PostgreSQL database if it is missing."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
    with psycopg.connect(admin + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def bench_app(url: str = DATABASE_URL, **config):
    from lms import create_app

    return create_app({"LMS_ENV": "testing", "SECRET_KEY": SECRET_KEY,
                       "ENCRYPTION_KEY": ENCRYPTION_KEY, "SQLALCHEMY_DATABASE_URI": url,
                       "BASE_URL": "https://tutors.example.org", **config})


def fresh_schema() -> None:
    """Drop everything in the current app's database and migrate it from nothing."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from lms.platform.extensions import db

    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade()


def has_rows(table: str) -> bool:
    """Whether the current app's database has ``table`` with a row in it (data to reuse)."""
    from sqlalchemy import inspect, text

    from lms.platform.extensions import db

    return (inspect(db.engine).has_table(table)
            and db.session.scalar(text(f"SELECT 1 FROM {table} LIMIT 1")) is not None)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def signed_in_client(app, user_id: int):
    """A client signed in as ``user_id``. No app context is held around its requests: each
    request has its own, as in production (a shared one would keep the first user's)."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
    return client


class Statements:
    """Counts the SQL statements an app's engine runs."""

    def __init__(self, app):
        from sqlalchemy import event

        from lms.platform.extensions import db

        self.count = 0
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args) -> None:
        self.count += 1


def statements_per_page(app, pages: dict) -> dict[str, int]:
    """``{name: statements}`` of each page (``{name: (user id, url)}``) viewed a second
    time."""
    counter = Statements(app)
    counts = {}
    for name, (user_id, url) in pages.items():
        client = signed_in_client(app, user_id)
        assert client.get(url).status_code == 200, url
        counter.count = 0
        assert client.get(url).status_code == 200, url
        counts[name] = counter.count
    return counts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_environment(database_url: str = DATABASE_URL) -> dict[str, str]:
    return {**os.environ, "LMS_ENV": "development", "SECRET_KEY": SECRET_KEY,
            "ENCRYPTION_KEY": ENCRYPTION_KEY, "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": REDIS_URL, "REDIS_URL": REDIS_URL, "LOG_LEVEL": "WARNING"}


def empty_redis() -> None:
    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    connection.close()


def start_server(port: int, log: Path, database_url: str = DATABASE_URL) -> subprocess.Popen:
    """gunicorn as production runs it, on ``database_url``; returns once every worker
    answers, as on a server already running (the master binds the port before its workers
    have imported the application)."""
    import urllib.request

    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(WEB_WORKERS), "-k", "gthread",
             "--threads", str(WEB_THREADS), "--keep-alive", "75", "--backlog", "2048",
             "-b", f"127.0.0.1:{port}", "--log-level", "warning", "lms.wsgi:app"],
            env=server_environment(database_url), stdout=out, stderr=subprocess.STDOUT,
            cwd=ROOT)
    answered, wanted = 0, 10 * WEB_WORKERS
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and answered < wanted:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                answered += 1
        except OSError:
            time.sleep(0.2)
    if answered < wanted:
        process.kill()
        raise RuntimeError(f"gunicorn did not start:\n{log.read_text()[-2000:]}")
    return process
