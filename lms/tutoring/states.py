"""Where each tutoring group, and each pupil's place in it, stands now: what the action lists
read (``action_list``) instead of every session and mark of a trust.

- A group's state: its latest session (delivered or cancelled), and its marks over its last
  4 delivered sessions.
- A place's state (a pupil in a group): the day of their latest mark, how many marks in a
  row ending there were absent, and their first mark since they last joined the group.

``refresh_group`` works a group's state out again from all its sessions whenever one is
logged or changed: a group has at most a hundred or so, so this is cheap, and right even
when an old session is corrected. ``rebuild`` works out every group of some trusts at once
(the nightly rebuild of the read models, ``totals.rebuild``). Both run the same statements,
for one group or for whole trusts, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import Select, and_, case, delete, func, insert, or_, select

from lms.platform.extensions import db
from lms.tutoring.models import (
    Attendance,
    GroupPupil,
    GroupState,
    PlaceState,
    SessionAttendance,
    SessionStatus,
    TutoringGroup,
    TutoringSession,
)

#: The delivered sessions a group's recent attendance counts (``action_list`` judges it).
RECENT_SESSIONS = 4


def _group_states(sessions: list, groups: list) -> Select:
    """A state row for every group matching ``groups`` that has logged a session (a group
    without one has no state); ``sessions`` narrows the sessions read to theirs."""
    last = (select(TutoringSession.group_id, func.max(TutoringSession.held_on).label("held_on"))
            .where(*sessions).group_by(TutoringSession.group_id).subquery())
    ranked = (select(TutoringSession.id, TutoringSession.group_id,
                     func.row_number().over(partition_by=TutoringSession.group_id,
                                            order_by=TutoringSession.held_on.desc()).label("n"))
              .where(*sessions, TutoringSession.status == SessionStatus.DELIVERED).subquery())
    came = func.sum(case((SessionAttendance.status != Attendance.ABSENT, 1), else_=0))
    recent = (select(ranked.c.group_id,
                     func.count(func.distinct(ranked.c.id)).label("sessions"),
                     func.count().label("marks"), came.label("attended"))
              .join(SessionAttendance, SessionAttendance.session_id == ranked.c.id)
              .where(ranked.c.n <= RECENT_SESSIONS).group_by(ranked.c.group_id).subquery())
    return (select(TutoringGroup.id, TutoringGroup.trust_id, TutoringGroup.school_id,
                   last.c.held_on, func.coalesce(recent.c.sessions, 0),
                   func.coalesce(recent.c.marks, 0), func.coalesce(recent.c.attended, 0))
            .select_from(TutoringGroup)
            .join(last, last.c.group_id == TutoringGroup.id)
            .outerjoin(recent, recent.c.group_id == TutoringGroup.id)
            .where(*groups))


def _place_states(sessions: list, groups: list) -> Select:
    """A state row for every pupil with a mark in a group matching ``groups``."""
    marks = (select(TutoringSession.group_id, SessionAttendance.pupil_id,
                    TutoringSession.held_on, SessionAttendance.status,
                    func.row_number().over(
                        partition_by=(TutoringSession.group_id, SessionAttendance.pupil_id),
                        order_by=TutoringSession.held_on.desc()).label("n"))
             .join(SessionAttendance, SessionAttendance.session_id == TutoringSession.id)
             .where(*sessions, TutoringSession.status == SessionStatus.DELIVERED).subquery())
    joined = (select(GroupPupil.group_id, GroupPupil.pupil_id,
                     func.max(GroupPupil.joined_on).label("joined_on"))
              .join(TutoringGroup, TutoringGroup.id == GroupPupil.group_id).where(*groups)
              .group_by(GroupPupil.group_id, GroupPupil.pupil_id).subquery())
    # The newest mark not absent, counted from the latest: the absences in a row before it.
    came_at = func.min(case((marks.c.status != Attendance.ABSENT, marks.c.n)))
    since_joining = or_(joined.c.joined_on.is_(None), marks.c.held_on >= joined.c.joined_on)
    return (select(marks.c.group_id, marks.c.pupil_id, TutoringGroup.trust_id,
                   TutoringGroup.school_id, func.max(marks.c.held_on),
                   func.coalesce(came_at - 1, func.count()),
                   func.min(case((since_joining, marks.c.held_on))))
            .select_from(marks).join(TutoringGroup, TutoringGroup.id == marks.c.group_id)
            .outerjoin(joined, and_(joined.c.group_id == marks.c.group_id,
                                    joined.c.pupil_id == marks.c.pupil_id))
            .where(*groups)
            .group_by(marks.c.group_id, marks.c.pupil_id, TutoringGroup.trust_id,
                      TutoringGroup.school_id))


GROUP_COLUMNS = ["group_id", "trust_id", "school_id", "last_held_on", "recent_sessions",
                 "recent_marks", "recent_attended"]
PLACE_COLUMNS = ["group_id", "pupil_id", "trust_id", "school_id", "last_mark_on",
                 "absent_run", "first_mark_on"]


def _replace(which: Callable, sessions: list, groups: list) -> None:
    """Delete the states ``which`` picks and insert them worked out again."""
    for model in (GroupState, PlaceState):
        db.session.execute(delete(model.__table__).where(which(model)))
    db.session.execute(insert(GroupState.__table__).from_select(
        GROUP_COLUMNS, _group_states(sessions, groups)))
    db.session.execute(insert(PlaceState.__table__).from_select(
        PLACE_COLUMNS, _place_states(sessions, groups)))


def refresh_group(group_id: int) -> None:
    """Work one group's state out again from its sessions, in the caller's transaction.

    On PostgreSQL the group's row is locked first, so two sessions of one group written at
    once refresh its state one after the other. ``FOR NO KEY UPDATE``, not ``FOR UPDATE``:
    the session just inserted holds a key-share lock on the group (its foreign key), which
    ``FOR UPDATE`` would wait for, deadlocking two writers of the same group."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(TutoringGroup.id).where(TutoringGroup.id == group_id)
                           .with_for_update(key_share=True))
    _replace(lambda model: model.group_id == group_id,
             [TutoringSession.group_id == group_id], [TutoringGroup.id == group_id])


def rebuild(trust_ids: Iterable[int]) -> None:
    """Work out every group's state in these trusts again, in the caller's transaction (which
    holds the locks writers wait on: ``totals.rebuild``)."""
    trusts = sorted(set(trust_ids))
    if not trusts:
        return
    _replace(lambda model: model.trust_id.in_(trusts),
             [TutoringSession.trust_id.in_(trusts)], [TutoringGroup.trust_id.in_(trusts)])


__all__ = ["RECENT_SESSIONS", "refresh_group", "rebuild"]
