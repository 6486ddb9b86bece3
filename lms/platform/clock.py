"""The platform's single source of the current time.

Everything that compares against "now" (deadlines, token expiry, locks) asks here, so tests and
demos can move time forward without sleeping.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

#: Where the programme runs: checks and deadlines fall due at midnight in England.
LONDON = ZoneInfo("Europe/London")

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


def today(moment: datetime | None = None) -> date:
    """The date in England: a check due on a date lapses at midnight, UK time."""
    return (moment or now()).astimezone(LONDON).date()
