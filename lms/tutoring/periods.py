"""School terms and periods of days, as every tutoring figure, cost and total counts them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from lms.platform import clock
from lms.platform.errors import DomainError

# --- periods -------------------------------------------------------------------------------

#: The earliest day a period may start, and the longest it may be.
EARLIEST = date(2000, 1, 1)
MAX_PERIOD_DAYS = 731


def term_of(day: date) -> tuple[str, date, date]:
    """The school term a day falls in, as the cost rule counts terms: autumn September to
    December, spring January to March, summer April to August."""
    if day.month >= 9:
        return "Autumn", date(day.year, 9, 1), date(day.year, 12, 31)
    if day.month <= 3:
        return "Spring", date(day.year, 1, 1), date(day.year, 3, 31)
    return "Summer", date(day.year, 4, 1), date(day.year, 8, 31)


@dataclass(frozen=True)
class Period:
    """The days a figure covers (UK dates, both included)."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        name, start, end = term_of(self.start)
        if self.start == start and self.end <= end:
            return f"{name} term {start.year}" + (
                "" if self.end == end else f" so far (to {self.end.day} {self.end:%B %Y})")
        return f"{self.start.day} {self.start:%B %Y} to {self.end.day} {self.end:%B %Y}"

    @property
    def term(self) -> str:
        """The term the period starts in, as impact reviews record it (``Autumn 2025``)."""
        name, start, _ = term_of(self.start)
        return f"{name} {start.year}"


def this_term(today: date | None = None) -> Period:
    """The current term up to today: what a page shows when no period is asked for."""
    today = today or clock.today()
    _, start, _ = term_of(today)
    return Period(start, today)


def check_period(start: date, end: date, today: date | None = None, *,
                 past_only: bool = False) -> Period:
    """A period of days in order, from 2000 on, at most two years long. The end may be in
    the future (a whole term; the figures count nothing after today) unless ``past_only``
    (figures of sessions that were due to happen)."""
    today = today or clock.today()
    if start < EARLIEST:
        raise DomainError("The start date must be on or after 1 January 2000", "start")
    if start > today:
        raise DomainError("The start date must be today or in the past", "start")
    if past_only and end > today:
        raise DomainError("The end date must be today or in the past: the figures count "
                          "sessions that were due to happen", "end")
    if end < start:
        raise DomainError("The end date must be the same as or after the start date", "end")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise DomainError("The period must be 2 years or shorter", "end")
    return Period(start, end)


def planned_sessions(weekday: int, first: date, last: date) -> int:
    """How many times ``weekday`` falls from ``first`` to ``last`` (0 if ``last`` is before
    ``first``)."""
    if last < first:
        return 0
    day = first + timedelta(days=(weekday - first.weekday()) % 7)
    return 0 if day > last else (last - day).days // 7 + 1


def planned_for(group_weekday: int, starts_on: date, ended_on: date | None, period: Period,
                today: date | None = None) -> int:
    """A group's planned sessions in a period: its weekly slots from the later of the
    period's start and the group's, to the earliest of the period's end, the group's end and
    today."""
    today = today or clock.today()
    last = min(period.end, ended_on or period.end, today)
    return planned_sessions(group_weekday, max(period.start, starts_on), last)


def term_number(day: date) -> int:
    """A number for the term a day falls in, consecutive terms consecutive numbers (as
    ``costs.term_number_of`` works it out in SQL)."""
    _, start, _ = term_of(day)
    return start.year * 3 + {1: 0, 4: 1, 9: 2}[start.month]


def whole_term(period: Period, today: date | None = None) -> int | None:
    """The term number when a period is a whole term (or the current term to today), which
    the kept totals answer; ``None`` for any other period."""
    today = today or clock.today()
    _, start, end = term_of(period.start)
    if period.start != start or period.end > end or period.end < min(end, today):
        return None
    return term_number(start)
