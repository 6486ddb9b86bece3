"""Counts and timings, never content: concerns raised, minutes to acknowledge (p50, p95),
acknowledgements overdue, by school. Outside a school a count from 1 to 4 is shown as
"fewer than 5", so a small school's figures cannot point at a child."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import exists, select

from lms.organisations.models import Membership, School
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.safeguarding.models import Concern, ConcernKind
from lms.safeguarding.services import settings_for
from lms.tutoring.models import GroupStatus, TutoringGroup

SMALL = 5
FEWER = "fewer than 5"


def shown(count: int, *, inside_school: bool) -> str:
    """A count as it may be shown: exactly inside the school, else 1-4 as "fewer than 5"."""
    if inside_school or count == 0 or count >= SMALL:
        return f"{count:,}" if count else "none"
    return FEWER


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * (len(ordered) - 1))))
    return ordered[rank]


def minutes(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 60:
        return f"{value:.0f} min"
    return f"{value / 60:.1f} h"


@dataclass
class SchoolFigures:
    school_id: int
    school_name: str
    raised: int
    about_adults: int
    acknowledged_minutes: list[float]
    overdue: int
    has_dsl: bool
    has_groups: bool

    @property
    def p50(self) -> float | None:
        return percentile(self.acknowledged_minutes, 0.5)

    @property
    def p95(self) -> float | None:
        return percentile(self.acknowledged_minutes, 0.95)

    def row(self, *, inside_school: bool) -> dict[str, str]:
        return {"school": self.school_name,
                "raised": shown(self.raised, inside_school=inside_school),
                "about_adults": shown(self.about_adults, inside_school=inside_school),
                "acknowledge_p50": minutes(self.p50), "acknowledge_p95": minutes(self.p95),
                "overdue": shown(self.overdue, inside_school=inside_school)}


def _dsl_schools(school_ids: list[int]) -> set[int]:
    return set(db.session.scalars(select(Membership.school_id).where(
        Membership.school_id.in_(school_ids), Membership.ended_at.is_(None),
        Membership.role.in_([Role.DSL, Role.DEPUTY_DSL]))))


def schools_without_dsl(trust_id: int) -> list[School]:
    """Schools with tutoring groups meeting but no DSL or deputy: their concerns go straight
    to the trust safeguarding lead. On the central team's action list."""
    dsl = exists().where(Membership.school_id == School.id, Membership.ended_at.is_(None),
                         Membership.role.in_([Role.DSL, Role.DEPUTY_DSL]))
    groups = exists().where(TutoringGroup.school_id == School.id,
                            TutoringGroup.status == GroupStatus.ACTIVE)
    return list(db.session.scalars(select(School).where(
        School.trust_id == trust_id, groups, ~dsl).order_by(School.name)))


def by_school(trust_id: int, *, since: datetime | None = None, until: datetime | None = None,
              school_id: int | None = None, now: datetime | None = None
              ) -> list[SchoolFigures]:
    now = now or clock.now()
    first = timedelta(minutes=settings_for(trust_id).first_escalation_minutes)
    schools = db.session.execute(select(School.id, School.name).where(
        School.trust_id == trust_id, *( [School.id == school_id] if school_id else []))
        .order_by(School.name)).all()
    ids = [s.id for s in schools]
    query = select(Concern.school_id, Concern.kind, Concern.raised_at,
                   Concern.acknowledged_at).where(Concern.trust_id == trust_id,
                                                  Concern.school_id.in_(ids))
    if since is not None:
        query = query.where(Concern.raised_at >= since)
    if until is not None:
        query = query.where(Concern.raised_at < until)
    figures = {s.id: SchoolFigures(s.id, s.name, 0, 0, [], 0, False, False) for s in schools}
    for row in db.session.execute(query):
        figure = figures[row.school_id]
        figure.raised += 1
        figure.about_adults += row.kind == ConcernKind.ABOUT_ADULT
        if row.acknowledged_at is not None:
            figure.acknowledged_minutes.append(
                (row.acknowledged_at - row.raised_at).total_seconds() / 60)
        elif now - row.raised_at >= first:
            figure.overdue += 1
    for school_id_ in _dsl_schools(ids):
        figures[school_id_].has_dsl = True
    for school_id_ in db.session.scalars(select(TutoringGroup.school_id).where(
            TutoringGroup.school_id.in_(ids), TutoringGroup.status == GroupStatus.ACTIVE)
            .distinct()):
        figures[school_id_].has_groups = True
    return list(figures.values())


def totals(rows: list[SchoolFigures]) -> SchoolFigures:
    return SchoolFigures(0, "All schools", sum(r.raised for r in rows),
                         sum(r.about_adults for r in rows),
                         [m for r in rows for m in r.acknowledged_minutes],
                         sum(r.overdue for r in rows), all(r.has_dsl for r in rows),
                         any(r.has_groups for r in rows))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=clock.LONDON)


def period_total(trust_id: int, start: date, end: date) -> SchoolFigures:
    """The trust's concerns raised from ``start`` to ``end`` (UK dates), all schools together;
    overdue counts those still unacknowledged now."""
    return totals(by_school(trust_id, since=_day_start(start),
                            until=_day_start(end + timedelta(days=1))))


#: The board report's rows: label, and how each is read from a period's total.
BOARD_ROWS = (
    ("Concerns raised", lambda t: shown(t.raised, inside_school=False)),
    ("Of which allegations about adults", lambda t: shown(t.about_adults, inside_school=False)),
    ("Time to acknowledge (median)", lambda t: minutes(t.p50)),
    ("Time to acknowledge (95th percentile)", lambda t: minutes(t.p95)),
    ("Still not acknowledged", lambda t: shown(t.overdue, inside_school=False)),
)


def board_rows(trust_id: int, period: tuple[date, date], previous: tuple[date, date]
               ) -> list[tuple[str, str, str]]:
    """Counts and timings for a board: this period and the one before, small counts hidden."""
    now, before = period_total(trust_id, *period), period_total(trust_id, *previous)
    return [(label, read(now), read(before)) for label, read in BOARD_ROWS]
