"""Column types shared by every package's models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, TypeDecorator


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every engine (SQLite keeps no offset of its own)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(
                "naive datetime given; use lms.platform.clock.now() or an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def enum_column(enum_cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum stored as text with a check constraint, never a native PG type."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def plain(row) -> tuple:
    """A result row with PostgreSQL's ``numeric`` values (a sum of sums, an average) as the
    ``int`` or ``float`` SQLite would give, so arithmetic on them is the same on both."""
    from decimal import Decimal

    return tuple((int(v) if v == v.to_integral_value() else float(v))
                 if isinstance(v, Decimal) else v for v in row)
