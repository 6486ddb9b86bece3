"""What the benchmarks share: an app on a database of their own, made afresh."""

from __future__ import annotations

import os

SECRET_KEY = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
ENCRYPTION_KEY = "q8Kc6jGm1v2UQZlT3mE6m7yQeYtF0H1bR3wVb8yQ2Sg="
#: The PostgreSQL database the benchmarks rebuild; never the one the tests use.
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/bench")


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
