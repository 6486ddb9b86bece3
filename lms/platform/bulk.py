"""Writing many rows at once: a sweep that changes a whole register, its audit entries, a
synthetic dataset.

On PostgreSQL rows travel by ``COPY`` (updates through a temporary table), an order of
magnitude faster than one statement per row; elsewhere they go as ``executemany``. Either way
they are written in the session's own transaction, so they commit or roll back with it.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from datetime import UTC

from sqlalchemy import JSON, Enum, Table, bindparam, insert, text, update
from sqlalchemy.dialects import postgresql, sqlite

from lms.platform.extensions import db
from lms.platform.types import UTCDateTime

CHUNK = 5_000


def _on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _utc(kind: UTCDateTime):
    def convert(value):
        if value is None or value.tzinfo is UTC:
            return value if value is None else value.replace(tzinfo=None)
        return kind.process_bind_param(value, None)
    return convert


def _plain(table: Table, names: Sequence[str]):
    """A function turning a row's values into what COPY takes, column by column (only the
    columns whose values need it are converted)."""
    converters = []
    for name in names:
        kind = table.c[name].type
        if isinstance(kind, JSON):
            converters.append(lambda v: None if v is None else json.dumps(v))
        elif isinstance(kind, UTCDateTime):
            converters.append(_utc(kind))
        elif isinstance(kind, Enum):
            converters.append(lambda v: v.value if isinstance(v, enum.Enum) else v)
        else:
            converters.append(None)
    pairs = list(zip(names, converters, strict=True))
    return lambda row: [row[name] if convert is None else convert(row[name])
                        for name, convert in pairs]


def _copy(table_name: str, table: Table, names: Sequence[str], rows: Sequence[dict]) -> None:
    plain = _plain(table, names)
    columns = ", ".join(f'"{name}"' for name in names)
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(
            f'COPY "{table_name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(plain(row))


def insert_rows(table: Table | str, rows: Sequence[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` (or the table so named)."""
    if isinstance(table, str):
        table = db.metadata.tables[table]
    if not rows:
        return
    if _on_postgresql():
        _copy(table.name, table, list(rows[0]), rows)
        return
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(table), rows[start:start + CHUNK])


def update_rows(table: Table, rows: Sequence[dict], key: str = "id") -> None:
    """Set, in each row of ``table`` whose ``key`` matches, the other values given (every
    dict has the same keys)."""
    if not rows:
        return
    names = list(rows[0])
    values = [name for name in names if name != key]
    if not _on_postgresql():
        statement = update(table).where(table.c[key] == bindparam(f"_{key}")).values(
            {name: bindparam(f"_{name}") for name in values})
        renamed = [{f"_{name}": row[name] for name in names} for row in rows]
        for start in range(0, len(renamed), CHUNK):
            db.session.execute(statement, renamed[start:start + CHUNK])
        return
    columns = ", ".join(f'"{name}"' for name in names)
    connection = db.session.connection()
    connection.exec_driver_sql(
        f'CREATE TEMPORARY TABLE "_bulk_{table.name}" ON COMMIT DROP AS '
        f'SELECT {columns} FROM "{table.name}" WITH NO DATA')
    _copy(f"_bulk_{table.name}", table, names, rows)
    assignments = ", ".join(f'"{name}" = b."{name}"' for name in values)
    connection.exec_driver_sql(
        f'UPDATE "{table.name}" AS t SET {assignments} FROM "_bulk_{table.name}" AS b '
        f'WHERE t."{key}" = b."{key}"')
    connection.exec_driver_sql(f'DROP TABLE "_bulk_{table.name}"')


def upsert(model, rows: Sequence[dict], changes) -> None:
    """Insert ``rows``, or where a row with the same primary key is there already, set what
    ``changes(excluded)`` says (``excluded`` holds the values offered), in one statement on
    PostgreSQL and SQLite alike."""
    statement = (postgresql.insert if _on_postgresql() else sqlite.insert)(model).values(
        list(rows))
    keys = [column.name for column in model.__table__.primary_key.columns]
    db.session.execute(statement.on_conflict_do_update(index_elements=keys,
                                                       set_=changes(statement.excluded)))


class Ids:
    """Ids handed out before inserting, so related rows can be written in one pass."""

    def __init__(self, tables: Sequence[str]):
        self.next = {name: (db.session.scalar(text(f"SELECT MAX(id) FROM {name}")) or 0) + 1
                     for name in tables}

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


def fix_sequences(tables: Sequence[str]) -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the rows written."""
    if not _on_postgresql():
        return
    for name in tables:
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"GREATEST((SELECT MAX(id) FROM {name}), 1))"))
