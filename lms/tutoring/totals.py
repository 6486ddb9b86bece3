"""Tutoring totals: the marks and sessions the dashboards add up, kept added up.

A trust's dashboard covers hundreds of thousands of sessions a term; adding up every mark
on each request is too slow. So each session, when it is logged or changed, adds what it
contributes (and takes away what it contributed before a change) to three tables:

- per place (a pupil in a group) per term: minutes attended, marks, present or late,
  engagement total and ratings;
- per group per term: sessions delivered and cancelled, minutes delivered;
- per school per day: delivered sessions with marks, their marks, attendance and minutes.

The additions are single upserts (``x = x + change``), so tutors logging at once never lose
each other's sessions; the same call works out the group's state again (``states``), so a
session's writer has one thing to call. ``rebuild`` works a trust's totals out again from its
sessions (the nightly beat, and after sessions arrive in bulk) and records when: a trust
never rebuilt has no trustworthy totals, and its figures are added up from the marks instead
(``built``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Integer, cast, delete, func, insert, select, text

from lms.platform import bulk, clock
from lms.platform.extensions import db
from lms.tutoring import states
from lms.tutoring.costs import term_number_of
from lms.tutoring.models import (
    Attendance,
    GroupTermTotal,
    PlaceTermTotal,
    SchoolDayTotal,
    SessionAttendance,
    SessionStatus,
    TutoringGroup,
    TutoringSession,
    TutoringTotalsBuild,
)
from lms.tutoring.periods import term_number

TABLES = (PlaceTermTotal, GroupTermTotal, SchoolDayTotal)


# --- what a session contributes ------------------------------------------------------------


@dataclass(frozen=True)
class Contribution:
    """What one session adds to the totals, as it stands."""

    group_id: int
    trust_id: int
    school_id: int
    held_on: date
    delivered: bool
    minutes_delivered: int
    #: ``(pupil_id, minutes, attended, engagement)`` per mark.
    marks: tuple[tuple[int, int, bool, int | None], ...] = field(default=())


def contribution(session: TutoringSession) -> Contribution:
    delivered = session.status == SessionStatus.DELIVERED
    return Contribution(
        session.group_id, session.trust_id, session.school_id, session.held_on, delivered,
        session.minutes_delivered if delivered else 0,
        tuple((a.pupil_id, a.minutes or 0, a.status != Attendance.ABSENT, a.engagement)
              for a in session.attendance) if delivered else ())


def _amounts(part: Contribution, sign: int) -> tuple[dict, dict, dict]:
    """``(group, {pupil: place}, day)`` amounts of one contribution, times ``sign``."""
    group = {"delivered": sign * part.delivered, "cancelled": sign * (not part.delivered),
             "minutes_delivered": sign * part.minutes_delivered}
    places = {pupil: {"minutes": sign * minutes, "marks": sign, "attended": sign * came,
                      "engagement_total": sign * (engagement or 0),
                      "ratings": sign * (engagement is not None)}
              for pupil, minutes, came, engagement in part.marks}
    day = {"sessions": sign * bool(part.marks), "marks": sign * len(part.marks),
           "attended": sign * sum(came for _, _, came, _ in part.marks),
           "minutes": sign * sum(minutes for _, minutes, _, _ in part.marks)}
    return group, places, day


def _added(first: dict, second: dict) -> dict:
    return {key: first.get(key, 0) + second.get(key, 0) for key in {*first, *second}}


def record(session: TutoringSession, before: Contribution | None = None) -> None:
    """Add a session just logged (or changed: ``before`` is what it contributed until now)
    to its totals, and work its group's state out again, in the caller's transaction."""
    _apply(contribution(session), before)
    states.refresh_group(session.group_id)


def withdraw(session: TutoringSession) -> None:
    """Take away what a session contributed, before it is deleted (only fixtures and
    measurements delete sessions; the product corrects them)."""
    _apply(None, contribution(session))


def _apply(after: Contribution | None, before: Contribution | None) -> None:
    group, places, day = _amounts(after, 1) if after else ({}, {}, {})
    if before is not None:
        old_group, old_places, old_day = _amounts(before, -1)
        group, day = _added(group, old_group), _added(day, old_day)
        places = {pupil: _added(places.get(pupil, {}), old_places.get(pupil, {}))
                  for pupil in {*places, *old_places}}
    part = after or before
    owner = {"trust_id": part.trust_id, "school_id": part.school_id}
    term = term_number(part.held_on)
    if any(group.values()):
        _add(GroupTermTotal, [{"group_id": part.group_id, "term": term, **owner, **group}])
    changed = [{"group_id": part.group_id, "pupil_id": pupil, "term": term, **owner, **amounts}
               for pupil, amounts in sorted(places.items()) if any(amounts.values())]
    if changed:
        _add(PlaceTermTotal, changed)
    if any(day.values()):
        _add(SchoolDayTotal, [{"school_id": part.school_id, "held_on": part.held_on,
                               "trust_id": part.trust_id, **day}])


def _add(model, rows: list[dict]) -> None:
    """Insert rows, or add their amounts to the rows already there."""
    keys = {column.name for column in model.__table__.primary_key.columns}
    amounts = [name for name in rows[0] if name not in keys and not name.endswith("_id")]
    bulk.upsert(model, rows, lambda offered: {
        name: getattr(model, name) + offered[name] for name in amounts})


# --- rebuilding ----------------------------------------------------------------------------


def _lock() -> None:
    """Writers wait while totals are rebuilt (PostgreSQL; SQLite has one writer anyway), so a
    session logged meanwhile is either in the rebuild's reading or added after it."""
    if db.session.get_bind().dialect.name == "postgresql":
        names = ", ".join(model.__tablename__ for model in TABLES)
        db.session.execute(text(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE"))


def rebuild(trust_ids: Iterable[int], *, now: datetime | None = None) -> None:
    """Work these trusts' totals out again from their sessions and marks, in the caller's
    transaction, and record that they were."""
    trusts = sorted(set(trust_ids))
    if not trusts:
        return
    _lock()
    for model in (*TABLES, TutoringTotalsBuild):
        db.session.execute(delete(model).where(model.trust_id.in_(trusts)))
    delivered = (TutoringSession.trust_id.in_(trusts),
                 TutoringSession.status == SessionStatus.DELIVERED)
    came = func.sum(cast(SessionAttendance.status != Attendance.ABSENT, Integer))
    term = term_number_of(TutoringSession.held_on)
    db.session.execute(insert(PlaceTermTotal).from_select(
        ["group_id", "pupil_id", "term", "trust_id", "school_id", "minutes", "marks",
         "attended", "engagement_total", "ratings"],
        select(TutoringSession.group_id, SessionAttendance.pupil_id, term,
               TutoringSession.trust_id, TutoringSession.school_id,
               func.sum(SessionAttendance.minutes), func.count(), came,
               func.coalesce(func.sum(SessionAttendance.engagement), 0),
               func.count(SessionAttendance.engagement))
        .join(SessionAttendance, SessionAttendance.session_id == TutoringSession.id)
        .where(*delivered)
        .group_by(TutoringSession.group_id, SessionAttendance.pupil_id, term,
                  TutoringSession.trust_id, TutoringSession.school_id)))
    is_delivered = cast(TutoringSession.status == SessionStatus.DELIVERED, Integer)
    db.session.execute(insert(GroupTermTotal).from_select(
        ["group_id", "term", "trust_id", "school_id", "delivered", "cancelled",
         "minutes_delivered"],
        select(TutoringSession.group_id, term, TutoringSession.trust_id,
               TutoringSession.school_id, func.sum(is_delivered),
               func.count() - func.sum(is_delivered),
               func.sum(TutoringSession.minutes_delivered * is_delivered))
        .where(TutoringSession.trust_id.in_(trusts))
        .group_by(TutoringSession.group_id, term, TutoringSession.trust_id,
                  TutoringSession.school_id)))
    db.session.execute(insert(SchoolDayTotal).from_select(
        ["school_id", "held_on", "trust_id", "sessions", "marks", "attended", "minutes"],
        select(TutoringSession.school_id, TutoringSession.held_on, TutoringSession.trust_id,
               func.count(func.distinct(TutoringSession.id)), func.count(), came,
               func.sum(SessionAttendance.minutes))
        .join(SessionAttendance, SessionAttendance.session_id == TutoringSession.id)
        .where(*delivered)
        .group_by(TutoringSession.school_id, TutoringSession.held_on,
                  TutoringSession.trust_id)))
    states.rebuild(trusts)
    built_at = now or clock.now()
    db.session.execute(insert(TutoringTotalsBuild),
                       [{"trust_id": trust, "built_at": built_at} for trust in trusts])


def rebuild_all(*, now: datetime | None = None) -> int:
    """Rebuild every trust with tutoring groups, one transaction each (so writers wait for
    one trust at a time); returns how many."""
    trusts = list(db.session.scalars(select(TutoringGroup.trust_id).distinct()
                                     .order_by(TutoringGroup.trust_id)))
    for trust in trusts:
        rebuild([trust], now=now)
        db.session.commit()
    return len(trusts)


# --- whether a trust's totals can be read --------------------------------------------------


def built(trust_id: int | None) -> bool:
    """Whether the totals of a trust (of every trust with groups, for ``None``) were built."""
    if trust_id is not None:
        return db.session.get(TutoringTotalsBuild, trust_id) is not None
    return db.session.scalar(
        select(func.count(func.distinct(TutoringGroup.trust_id)))
        .where(TutoringGroup.trust_id.not_in(select(TutoringTotalsBuild.trust_id)))) == 0


__all__ = ["Contribution", "contribution", "record", "withdraw", "rebuild", "rebuild_all",
           "built"]
