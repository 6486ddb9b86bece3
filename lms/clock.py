"""The platform's single source of the current time.

Everything that compares against "now" (deadlines, token expiry, locks) asks here, so tests and
demos can move time forward without sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def now() -> datetime:
    return datetime.now(UTC) + _offset


def travel(delta: timedelta) -> None:
    """Move the clock forward (or back) by ``delta``; used by tests and demos only."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta(0)


def travel_to(moment: datetime) -> None:
    """Move the clock so that it reads ``moment`` now (and runs on from there)."""
    global _offset
    _offset = moment - datetime.now(UTC)
