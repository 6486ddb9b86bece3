"""Worlds built once per run and restored for each test that asks for them.

A hand-built trust with a candidate at every stage takes seconds to make through the real
services (courses and the item bank loaded, tutors studying and sitting papers). Building it
once and putting the database back as it was, row for row, before each test keeps every test
independent at a fraction of the cost: on SQLite the database file is copied; on PostgreSQL
each table's rows are copied out once and copied back in, sequences moved past them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import Integer, text

from lms.platform.extensions import db

_built: dict[str, tuple[object, dict]] = {}


def _sqlite_path() -> Path | None:
    url = db.engine.url
    return Path(url.database) if url.get_backend_name() == "sqlite" else None


def _tables():
    return [t for t in db.metadata.sorted_tables if t.name != "alembic_version"]


def _save(name: str) -> object:
    db.session.remove()
    path = _sqlite_path()
    if path is not None:
        db.engine.dispose()
        saved = path.with_suffix(f".{name}.snapshot")
        shutil.copy(path, saved)
        return saved
    rows = {}
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:
            for table in _tables():
                with cursor.copy(f'COPY "{table.name}" TO STDOUT (FORMAT binary)') as copy:
                    rows[table.name] = b"".join(bytes(chunk) for chunk in copy)
    return rows


def _restore(saved: object) -> None:
    db.session.remove()
    path = _sqlite_path()
    if path is not None:
        db.engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        shutil.copy(saved, path)
        return
    tables = _tables()
    with db.engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables)
                          + " RESTART IDENTITY CASCADE"))
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:
            for table in tables:
                if saved[table.name]:
                    with cursor.copy(f'COPY "{table.name}" FROM STDIN (FORMAT binary)') as copy:
                        copy.write(saved[table.name])
        for table in tables:
            for column in table.primary_key.columns:
                if isinstance(column.type, Integer) and column.autoincrement in (True, "auto"):
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                        f"COALESCE((SELECT MAX(\"{column.name}\") FROM \"{table.name}\"), 1), "
                        f"(SELECT MAX(\"{column.name}\") FROM \"{table.name}\") IS NOT NULL)"))


def _remember(world: SimpleNamespace) -> dict:
    """The world's attributes, with each record kept as its class and id."""
    return {key: (type(value), value.id) if isinstance(value, db.Model) else (None, value)
            for key, value in vars(world).items()}


def _recall(kept: dict) -> SimpleNamespace:
    return SimpleNamespace(**{key: db.session.get(model, value) if model else value
                              for key, (model, value) in kept.items()})


def world(name: str, build: Callable[[], SimpleNamespace]) -> SimpleNamespace:
    """The world called ``name``: built by ``build`` the first time it is asked for in a run,
    restored from then on. ``build`` must commit what it makes."""
    if name not in _built:
        made = build()
        kept = _remember(made)
        _built[name] = (_save(name), kept)
        db.session.remove()
        return _recall(kept)
    saved, kept = _built[name]
    _restore(saved)
    return _recall(kept)
