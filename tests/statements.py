"""Count the SQL a piece of code runs, to show it does not grow with the data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from lms.platform.extensions import db


@contextmanager
def statements_run() -> Iterator[list[str]]:
    """Every statement sent to the database inside the block, in order."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
