"""Providers held to the service levels their programmes agreed.

Each programme version a provider delivers records the agreed levels (``Programme.sla_*``):
the notice they give for a cancellation, how soon a session's report arrives, how late a
session may start, whether they supply a cover tutor. A session is judged against the levels
of its group's programme version, so a group keeps the levels it was contracted under.

A session yields the provider's events (each rule counts on its own, so one session can yield
more than one):

- **no-show**: cancelled because the tutor was absent, with no cover tutor;
- **short-notice cancellation**: cancelled by the provider's side (tutor absent, or another
  reason) with less notice than agreed, or none recorded;
- **late start**: delivered, starting later than the agreed minutes;
- **cover tutor**: tutored (or logged) by a cover tutor rather than the group's own;
- **late report**: logged more hours after the session ended than agreed.

A session is the provider's when its group is (``TutoringGroup.provider_id``). Every figure is
counted by the database: one aggregate query per figure, whatever the number of sessions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, and_, func, or_, select

from credentials.register.models import ProviderAccess
from lms.accounts.models import User
from lms.organisations.models import Provider, School
from lms.platform.extensions import db
from lms.tutoring import periods
from lms.tutoring.clearance import cleared_pairs
from lms.tutoring.costs import group_costs
from lms.tutoring.models import (
    CancelReason,
    GroupStatus,
    Programme,
    ProviderScorecard,
    SessionAttendance,
    SessionStatus,
    TutoringGroup,
    TutoringSession,
)
from lms.tutoring.periods import this_term

#: The provider's events, in the order the pages show them.
EVENTS = ("no_show", "short_notice", "late_start", "cover", "late_report")

EVENT_LABELS = {
    "no_show": "No-show",
    "short_notice": "Short-notice cancellation",
    "late_start": "Late start",
    "cover": "Cover tutor",
    "late_report": "Late report",
}

#: The reasons that put a cancellation on the provider's side.
PROVIDER_SIDE_REASONS = (CancelReason.TUTOR_ABSENT, CancelReason.OTHER)

# --- the rules, once, as SQL ----------------------------------------------------------------


def event_conditions() -> dict[str, ColumnElement[bool]]:
    """Each event as a condition on ``TutoringSession`` joined to its group's ``Programme``
    version: the one statement of the rules, used for one session and for a million."""
    session = TutoringSession
    cancelled = session.status == SessionStatus.CANCELLED
    return {
        "no_show": cancelled & (session.cancel_reason == CancelReason.TUTOR_ABSENT)
        & session.cover.is_(False),
        "short_notice": cancelled & session.cancel_reason.in_(PROVIDER_SIDE_REASONS)
        & or_(session.notice_hours.is_(None),
              session.notice_hours < Programme.sla_notice_hours),
        "late_start": (session.status == SessionStatus.DELIVERED)
        & (session.late_start_minutes > Programme.sla_late_minutes),
        "cover": session.cover.is_(True),
        "late_report": session.report_hours > Programme.sla_report_hours,
    }


def session_events(session: TutoringSession) -> frozenset[str]:
    """The provider's events one session yields (empty for a session that kept every level,
    and for a session that is not a provider's)."""
    conditions = event_conditions()
    db.session.flush()
    row = db.session.execute(
        select(*(func.count().filter(c).label(name) for name, c in conditions.items()))
        .select_from(TutoringSession)
        .join(TutoringGroup, TutoringGroup.id == TutoringSession.group_id)
        .join(Programme, Programme.id == TutoringGroup.programme_id)
        .where(TutoringSession.id == session.id,
               TutoringGroup.provider_id.is_not(None))).one()
    return frozenset(name for name in EVENTS if getattr(row, name))


# --- periods --------------------------------------------------------------------------------


def term_so_far(today: date) -> tuple[date, date]:
    """The current school term up to today: the period shown by default."""
    period = this_term(today)
    return period.start, period.end


def check_period(start: date, end: date, today: date) -> None:
    """A period of days that have happened, in order, at most two years of them."""
    periods.check_period(start, end, today, past_only=True)


#: How many times a weekly slot falls from one day to another, both included.
weekly_slots = periods.planned_sessions


# --- per-provider figures -------------------------------------------------------------------


@dataclass(frozen=True)
class TutorClearance:
    """A provider tutor the register does not approve for every school they tutor at."""

    tutor_id: int
    name: str
    #: The ids of the schools the register does not clear them for, and their names.
    school_ids: tuple[int, ...]
    school_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProviderFigures:
    """What one provider delivered for a trust in a period, against the agreed levels."""

    provider: Provider
    #: Planned weekly slots of the provider's groups in the period.
    booked: int = 0
    delivered: int = 0
    cancelled: int = 0
    no_shows: int = 0
    short_notice: int = 0
    late_starts: int = 0
    cover: int = 0
    late_reports: int = 0
    #: Sessions logged (delivered or cancelled): each one is a report.
    reports: int = 0
    #: Minutes pupils attended (present or late), from the attendance marks.
    attended_minutes: int = 0
    #: What the provider's groups cost in the period, by the one cost rule.
    cost_pence: float = 0
    tutors_approved: int = 0
    tutors_not_cleared: tuple[TutorClearance, ...] = field(default=())

    @property
    def delivery_rate(self) -> float | None:
        """Delivered sessions as a share of the booked slots (a session moved to another day
        counts, up to the number booked)."""
        return min(self.delivered, self.booked) / self.booked if self.booked else None

    @property
    def report_on_time_rate(self) -> float | None:
        return (self.reports - self.late_reports) / self.reports if self.reports else None

    @property
    def attended_hours(self) -> float:
        return self.attended_minutes / 60

    @property
    def cost_per_attended_hour_pence(self) -> float | None:
        return self.cost_pence / self.attended_hours if self.attended_minutes else None

    @property
    def tutors_not_approved(self) -> int:
        return len(self.tutors_not_cleared)

    def count(self, event: str) -> int:
        return {"no_show": self.no_shows, "short_notice": self.short_notice,
                "late_start": self.late_starts, "cover": self.cover,
                "late_report": self.late_reports}[event]


def trust_providers(trust_id: int) -> list[Provider]:
    """The providers a trust works with: named on one of its programmes (any version), on
    one of its groups, scored by it, or granted access to its register; by name."""
    ids = select(Programme.provider_id).where(Programme.trust_id == trust_id) \
        .union(select(TutoringGroup.provider_id).where(TutoringGroup.trust_id == trust_id),
               select(ProviderScorecard.provider_id)
               .where(ProviderScorecard.trust_id == trust_id),
               select(ProviderAccess.provider_id).where(ProviderAccess.trust_id == trust_id,
                                                        ProviderAccess.revoked_at.is_(None)))
    return list(db.session.scalars(select(Provider).where(Provider.id.in_(ids))
                                   .order_by(Provider.name)))


def _session_counts(trust_id: int, start: date, end: date) -> dict[int, dict[str, int]]:
    conditions = event_conditions()
    rows = db.session.execute(
        select(TutoringGroup.provider_id, func.count().label("reports"),
               func.count().filter(TutoringSession.status == SessionStatus.DELIVERED)
               .label("delivered"),
               func.count().filter(TutoringSession.status == SessionStatus.CANCELLED)
               .label("cancelled"),
               *(func.count().filter(c).label(name) for name, c in conditions.items()))
        .select_from(TutoringSession)
        .join(TutoringGroup, TutoringGroup.id == TutoringSession.group_id)
        .join(Programme, Programme.id == TutoringGroup.programme_id)
        .where(TutoringSession.trust_id == trust_id, TutoringSession.held_on.between(start, end),
               TutoringGroup.provider_id.is_not(None))
        .group_by(TutoringGroup.provider_id))
    return {row.provider_id: row._asdict() for row in rows}


def _attended_minutes(trust_id: int, start: date, end: date) -> dict[int, int]:
    return dict(db.session.execute(
        select(TutoringGroup.provider_id, func.sum(SessionAttendance.minutes))
        .select_from(SessionAttendance)
        .join(TutoringSession, TutoringSession.id == SessionAttendance.session_id)
        .join(TutoringGroup, TutoringGroup.id == TutoringSession.group_id)
        .where(TutoringSession.trust_id == trust_id, TutoringSession.held_on.between(start, end),
               TutoringSession.status == SessionStatus.DELIVERED,
               TutoringGroup.provider_id.is_not(None))
        .group_by(TutoringGroup.provider_id)).all())


def _costs(trust_id: int, start: date, end: date) -> dict[int, float]:
    costs = group_costs(start, end, TutoringGroup.trust_id == trust_id,
                        TutoringGroup.provider_id.is_not(None)).subquery()
    return {provider_id: float(cost or 0) for provider_id, cost in db.session.execute(
        select(TutoringGroup.provider_id, func.sum(costs.c.cost_pence))
        .join(TutoringGroup, TutoringGroup.id == costs.c.group_id)
        .group_by(TutoringGroup.provider_id))}


def _ran_in(start: date, end: date) -> ColumnElement[bool]:
    """A group that ran at some point of the period."""
    return and_(TutoringGroup.starts_on <= end,
                or_(TutoringGroup.ended_on.is_(None), TutoringGroup.ended_on >= start))


def _booked(trust_id: int, start: date, end: date) -> dict[int, int]:
    """Planned weekly slots, counted per group (a few columns of the groups, never their
    sessions)."""
    booked: dict[int, int] = defaultdict(int)
    for provider_id, weekday, starts_on, ended_on in db.session.execute(
            select(TutoringGroup.provider_id, TutoringGroup.weekday, TutoringGroup.starts_on,
                   TutoringGroup.ended_on).where(
                TutoringGroup.trust_id == trust_id, TutoringGroup.provider_id.is_not(None),
                _ran_in(start, end))):
        booked[provider_id] += weekly_slots(weekday, max(start, starts_on),
                                            min(end, ended_on or end))
    return booked


def _tutors(trust_id: int, start: date, end: date
            ) -> dict[int, tuple[int, tuple[TutorClearance, ...]]]:
    """Per provider: how many of its tutors the register approves for every school they
    tutor at, and those it does not. A provider's tutors are those of its groups running now
    or in the period, and the cover tutors who logged its sessions in the period."""
    groups = select(TutoringGroup.provider_id, TutoringGroup.tutor_id,
                    TutoringGroup.school_id).where(
        TutoringGroup.trust_id == trust_id, TutoringGroup.provider_id.is_not(None),
        or_(TutoringGroup.status == GroupStatus.ACTIVE, _ran_in(start, end)))
    covers = (select(TutoringGroup.provider_id, TutoringSession.tutor_id,
                     TutoringSession.school_id)
              .join(TutoringGroup, TutoringGroup.id == TutoringSession.group_id)
              .where(TutoringSession.trust_id == trust_id,
                     TutoringSession.held_on.between(start, end),
                     TutoringSession.cover.is_(True), TutoringGroup.provider_id.is_not(None)))
    pairs = db.session.execute(groups.union(covers)).all()
    if not pairs:
        return {}
    cleared = cleared_pairs([trust_id])
    schools: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for provider_id, tutor_id, school_id in pairs:
        if (tutor_id, school_id) not in cleared:
            schools[provider_id][tutor_id].add(school_id)
        else:
            schools[provider_id].setdefault(tutor_id, set())
    not_cleared = {t for by_tutor in schools.values() for t, s in by_tutor.items() if s}
    names = dict(db.session.execute(select(User.id, User.name)
                                    .where(User.id.in_(not_cleared))).all()) \
        if not_cleared else {}
    refused_schools = {s for by_tutor in schools.values() for ids in by_tutor.values()
                       for s in ids}
    school_names = dict(db.session.execute(select(School.id, School.name)
                                           .where(School.id.in_(refused_schools))).all()) \
        if refused_schools else {}
    result = {}
    for provider_id, by_tutor in schools.items():
        refused = tuple(sorted(
            (TutorClearance(t, names.get(t, ""), tuple(sorted(s)),
                            tuple(sorted(school_names.get(i, "") for i in s)))
             for t, s in by_tutor.items() if s), key=lambda c: (c.name, c.tutor_id)))
        result[provider_id] = (len(by_tutor) - len(refused), refused)
    return result


def provider_figures(trust_id: int, start: date, end: date) -> list[ProviderFigures]:
    """Every provider the trust works with, with its figures from ``start`` to ``end``
    (both included), by provider name: the same few aggregate queries however many sessions
    the trust holds."""
    counts = _session_counts(trust_id, start, end)
    minutes = _attended_minutes(trust_id, start, end)
    costs = _costs(trust_id, start, end)
    booked = _booked(trust_id, start, end)
    tutors = _tutors(trust_id, start, end)
    figures = []
    for provider in trust_providers(trust_id):
        row = counts.get(provider.id, {})
        approved, refused = tutors.get(provider.id, (0, ()))
        figures.append(ProviderFigures(
            provider=provider, booked=booked.get(provider.id, 0),
            delivered=row.get("delivered", 0), cancelled=row.get("cancelled", 0),
            no_shows=row.get("no_show", 0), short_notice=row.get("short_notice", 0),
            late_starts=row.get("late_start", 0), cover=row.get("cover", 0),
            late_reports=row.get("late_report", 0), reports=row.get("reports", 0),
            attended_minutes=int(minutes.get(provider.id) or 0),
            cost_pence=costs.get(provider.id, 0.0), tutors_approved=approved,
            tutors_not_cleared=refused))
    return figures


def figures_for(trust_id: int, provider_id: int, start: date, end: date
                ) -> ProviderFigures | None:
    """One provider's figures (``None`` when the trust does not work with it)."""
    return next((f for f in provider_figures(trust_id, start, end)
                 if f.provider.id == provider_id), None)

