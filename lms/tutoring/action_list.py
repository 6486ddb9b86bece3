"""What needs doing in tutoring now, for a school's tutoring lead and the trust's central team.

Six rules, each one query (with its total counted in the same statement), each item leading
to the group page where it is put right:

- a pupil who missed the group's last 2 sessions (both marked absent);
- a group whose attendance over its last 4 delivered sessions is below 75%;
- a group with no session logged (delivered or cancelled) for 14 days;
- a pupil with no baseline after the group's first session with them;
- a pupil with no current status recorded in the last 6 weeks (once they have been in the
  group that long);
- a group paused because its tutor is not approved on the register for the school
  (``clearance.approved_for_school``).

Items carry both the pupil's name and pseudonym; the page chooses which to show
(``ActionItem.who``): names only to the school's tutoring staff and the pupil's tutors.

The first four lists read the state each group and place is kept in as sessions are logged
and changed (``lms.tutoring.states``), never the trust's sessions and marks: the latest 2
marks and the last 4 delivered sessions are the group's latest, however long ago (a group
that has not met for 14 days is on the no-session list anyway). A trust whose read models
were never built (``totals.built``) has no state yet: its lists are worked out from the
sessions and marks (the ``RULES``, over the last 70 days), until the rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, case, exists, func, or_, select

from credentials.register.models import RegisterEntry, RegisterStatus
from lms.accounts.models import User
from lms.organisations.models import School
from lms.platform import clock
from lms.platform.extensions import db
from lms.tutoring import totals
from lms.tutoring.clearance import NOT_FOR_SCHOOL, NOT_LISTED, approved_for_school
from lms.tutoring.figures import Coverage
from lms.tutoring.models import (
    Attendance,
    GroupPupil,
    GroupState,
    GroupStatus,
    PlaceState,
    Pupil,
    SessionAttendance,
    SessionStatus,
    TutoringGroup,
    TutoringSession,
)
from lms.tutoring.states import RECENT_SESSIONS

MISSED_IN_A_ROW = 2
LOW_ATTENDANCE_SESSIONS = RECENT_SESSIONS
LOW_ATTENDANCE_PERCENT = 75
NO_SESSION_DAYS = 14
PROGRESS_STALE_DAYS = 42
#: How far back the "in a row" rules look from the sessions (weekly groups: well past their
#: last sessions); the states hold the latest whatever their age.
LOOK_BACK_DAYS = 70
#: The most items of one list read at once.
LIMIT = 200

TITLES = {
    "missed": f"Pupils who missed their last {MISSED_IN_A_ROW} sessions",
    "low_attendance": f"Groups below {LOW_ATTENDANCE_PERCENT}% attendance over their last "
                      f"{LOW_ATTENDANCE_SESSIONS} sessions",
    "no_session": f"Groups with no session logged for {NO_SESSION_DAYS} days",
    "no_baseline": "Pupils with no baseline after their first session",
    "stale_progress": f"Pupils with no current status in the last {PROGRESS_STALE_DAYS // 7} "
                      "weeks",
    "not_cleared": "Groups paused: tutor not approved on the register for the school",
}
FIXES = {
    "missed": "Find out why with the pupil and their class teacher; record what happens next.",
    "low_attendance": "Check the slot still suits the pupils, or change who is in the group.",
    "no_session": "Log the missing sessions, or end the group if it has stopped.",
    "no_baseline": "Record the pupil's baseline and target on the group page.",
    "stale_progress": "Record the pupil's current status on the group page.",
    "not_cleared": "Give the group an approved tutor, or ask the central team about the "
                   "tutor's register entry.",
}


@dataclass(frozen=True)
class ActionItem:
    kind: str
    group_id: int
    group: str
    school_id: int
    school: str
    tutor_id: int
    detail: str
    pupil_name: str | None = None
    pseudonym: str | None = None

    endpoint = "tutoring.group"

    @property
    def args(self) -> dict:
        return {"group_id": self.group_id}

    def who(self, names: bool) -> str:
        """The pupil (named, or by pseudonym) and group, or the group alone."""
        if self.pseudonym is None:
            return self.group
        return f"{self.pupil_name if names else self.pseudonym} in {self.group}"


@dataclass
class ActionList:
    key: str
    count: int
    items: list[ActionItem] = field(default_factory=list)

    @property
    def title(self) -> str:
        return TITLES[self.key]

    @property
    def fix(self) -> str:
        return FIXES[self.key]


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}".removesuffix(".0") + "%"


def _in(coverage: Coverage, *extra) -> list:
    return [*coverage.groups(), TutoringGroup.status == GroupStatus.ACTIVE, *extra]


def _total():
    return func.count().over().label("total")


def _found(key: str, rows: list, make) -> ActionList:
    return ActionList(key, rows[0].total if rows else 0, [make(r) for r in rows])


def _pupil_columns():
    return (TutoringGroup.id.label("group_id"), TutoringGroup.name.label("group"),
            TutoringGroup.school_id, School.name.label("school"), TutoringGroup.tutor_id,
            Pupil.display_name, Pupil.pseudonym)


def _pupil_item(key: str, detail):
    def make(r) -> ActionItem:
        return ActionItem(key, r.group_id, r.group, r.school_id, r.school, r.tutor_id,
                          detail(r), r.display_name, r.pseudonym)
    return make


def _group_item(key: str, detail):
    def make(r) -> ActionItem:
        return ActionItem(key, r.group_id, r.group, r.school_id, r.school, r.tutor_id,
                          detail(r))
    return make


def _group_columns():
    return (TutoringGroup.id.label("group_id"), TutoringGroup.name.label("group"),
            TutoringGroup.school_id, School.name.label("school"), TutoringGroup.tutor_id)


def _missed(rows: list) -> ActionList:
    return _found("missed", rows, _pupil_item(
        "missed", lambda r: f"absent from the last {MISSED_IN_A_ROW} sessions, the latest on "
                            f"{_day(r.last)}"))


def _low_attendance(rows: list) -> ActionList:
    return _found("low_attendance", rows, _group_item(
        "low_attendance", lambda r: f"{_percent(r.attended, r.marks)} attendance over the "
                                    f"last {r.sessions} session{'' if r.sessions == 1 else 's'}"))


def _no_session(rows: list) -> ActionList:
    return _found("no_session", rows, _group_item(
        "no_session", lambda r: f"last session {_day(r.last)}" if r.last
        else "no session logged since it started"))


def _no_baseline(rows: list) -> ActionList:
    return _found("no_baseline", rows, _pupil_item(
        "no_baseline", lambda r: f"no baseline since their first session on {_day(r.first)}"))


def missed_in_a_row(coverage: Coverage, today: date, limit: int = LIMIT) -> ActionList:
    """Pupils still in the group whose last 2 marks in it were both absent."""
    ranked = (select(SessionAttendance.pupil_id, TutoringSession.group_id,
                     SessionAttendance.status, TutoringSession.held_on,
                     func.row_number().over(
                         partition_by=(TutoringSession.group_id, SessionAttendance.pupil_id),
                         order_by=TutoringSession.held_on.desc()).label("n"))
              .select_from(SessionAttendance)
              .join(TutoringSession, TutoringSession.id == SessionAttendance.session_id)
              .where(TutoringSession.trust_id == coverage.trust_id,
                     *([TutoringSession.school_id.in_(coverage.school_ids)]
                       if coverage.school_ids is not None else []),
                     TutoringSession.status == SessionStatus.DELIVERED,
                     TutoringSession.held_on >= today - timedelta(days=LOOK_BACK_DAYS))
              .subquery())
    missed = (select(ranked.c.group_id, ranked.c.pupil_id,
                     func.max(ranked.c.held_on).label("last"))
              .where(ranked.c.n <= MISSED_IN_A_ROW)
              .group_by(ranked.c.group_id, ranked.c.pupil_id)
              .having(func.count() == MISSED_IN_A_ROW,
                      func.sum(case((ranked.c.status == Attendance.ABSENT, 1), else_=0))
                      == MISSED_IN_A_ROW).subquery())
    rows = db.session.execute(
        select(*_pupil_columns(), missed.c.last, _total()).select_from(missed)
        .join(TutoringGroup, TutoringGroup.id == missed.c.group_id)
        .join(GroupPupil, and_(GroupPupil.group_id == missed.c.group_id,
                               GroupPupil.pupil_id == missed.c.pupil_id,
                               GroupPupil.left_on.is_(None)))
        .join(Pupil, Pupil.id == missed.c.pupil_id)
        .join(School, School.id == TutoringGroup.school_id)
        .where(*_in(coverage)).order_by(missed.c.last.desc(), TutoringGroup.id, Pupil.id)
        .limit(limit)).all()
    return _missed(rows)


def low_attendance(coverage: Coverage, today: date, limit: int = LIMIT) -> ActionList:
    """Groups whose pupils attended under 75% of their marks over the group's last 4
    delivered sessions (fewer if it has had fewer)."""
    ranked = (select(TutoringSession.id, TutoringSession.group_id,
                     func.row_number().over(partition_by=TutoringSession.group_id,
                                            order_by=TutoringSession.held_on.desc()).label("n"))
              .where(TutoringSession.trust_id == coverage.trust_id,
                     *([TutoringSession.school_id.in_(coverage.school_ids)]
                       if coverage.school_ids is not None else []),
                     TutoringSession.status == SessionStatus.DELIVERED,
                     TutoringSession.held_on >= today - timedelta(days=LOOK_BACK_DAYS))
              .subquery())
    came = func.sum(case((SessionAttendance.status != Attendance.ABSENT, 1), else_=0))
    low = (select(ranked.c.group_id, func.count(func.distinct(ranked.c.id)).label("sessions"),
                  func.count().label("marks"), came.label("attended"))
           .select_from(ranked)
           .join(SessionAttendance, SessionAttendance.session_id == ranked.c.id)
           .where(ranked.c.n <= LOW_ATTENDANCE_SESSIONS).group_by(ranked.c.group_id)
           .having(came * 100 < func.count() * LOW_ATTENDANCE_PERCENT).subquery())
    rows = db.session.execute(
        select(*_group_columns(), low.c.sessions, low.c.marks, low.c.attended, _total())
        .select_from(low)
        .join(TutoringGroup, TutoringGroup.id == low.c.group_id)
        .join(School, School.id == TutoringGroup.school_id)
        .where(*_in(coverage))
        .order_by((low.c.attended * 1.0 / low.c.marks), TutoringGroup.id).limit(limit)).all()
    return _low_attendance(rows)


def no_recent_session(coverage: Coverage, today: date, limit: int = LIMIT) -> ActionList:
    """Running groups, started at least 14 days ago, with no session logged in the last 14
    days."""
    since = today - timedelta(days=NO_SESSION_DAYS)
    last = (select(func.max(TutoringSession.held_on))
            .where(TutoringSession.group_id == TutoringGroup.id).scalar_subquery())
    rows = db.session.execute(
        select(*_group_columns(), last.label("last"), _total())
        .join(School, School.id == TutoringGroup.school_id)
        .where(*_in(coverage), TutoringGroup.starts_on <= since,
               ~exists().where(TutoringSession.group_id == TutoringGroup.id,
                               TutoringSession.held_on > since))
        .order_by(TutoringGroup.starts_on, TutoringGroup.id).limit(limit)).all()
    return _no_session(rows)


def no_baseline(coverage: Coverage, today: date, limit: int = LIMIT) -> ActionList:
    """Pupils in a group without a baseline once it has met with them."""
    first = (select(func.min(TutoringSession.held_on))
             .where(TutoringSession.group_id == GroupPupil.group_id,
                    TutoringSession.status == SessionStatus.DELIVERED,
                    TutoringSession.held_on >= GroupPupil.joined_on).scalar_subquery())
    rows = db.session.execute(
        select(*_pupil_columns(), first.label("first"), _total()).select_from(GroupPupil)
        .join(TutoringGroup, TutoringGroup.id == GroupPupil.group_id)
        .join(Pupil, Pupil.id == GroupPupil.pupil_id)
        .join(School, School.id == TutoringGroup.school_id)
        .where(*_in(coverage), GroupPupil.left_on.is_(None), GroupPupil.baseline.is_(None),
               first.is_not(None))
        .order_by(GroupPupil.joined_on, GroupPupil.id).limit(limit)).all()
    return _no_baseline(rows)


def stale_progress(coverage: Coverage, today: date, limit: int = LIMIT) -> ActionList:
    """Pupils in a group for 6 weeks or more with no current status in the last 6 weeks."""
    since = today - timedelta(days=PROGRESS_STALE_DAYS)
    rows = db.session.execute(
        select(*_pupil_columns(), GroupPupil.current_on, _total()).select_from(GroupPupil)
        .join(TutoringGroup, TutoringGroup.id == GroupPupil.group_id)
        .join(Pupil, Pupil.id == GroupPupil.pupil_id)
        .join(School, School.id == TutoringGroup.school_id)
        .where(*_in(coverage), GroupPupil.left_on.is_(None), GroupPupil.joined_on <= since,
               (GroupPupil.current_on.is_(None)) | (GroupPupil.current_on < since))
        .order_by(GroupPupil.current_on.is_not(None), GroupPupil.current_on, GroupPupil.id)
        .limit(limit)).all()
    return _found("stale_progress", rows, _pupil_item(
        "stale_progress", lambda r: f"current status last recorded {_day(r.current_on)}"
        if r.current_on else "no current status recorded yet"))


def tutors_not_cleared(coverage: Coverage, today: date, limit: int = LIMIT) -> ActionList:
    """Running groups whose tutor the register does not approve for the school: paused."""
    approved = approved_for_school(TutoringGroup.tutor_id, TutoringGroup.school_id,
                                   TutoringGroup.trust_id)
    rows = db.session.execute(
        select(TutoringGroup.id.label("group_id"), TutoringGroup.name.label("group"),
               TutoringGroup.school_id, School.name.label("school"), TutoringGroup.tutor_id,
               User.name.label("tutor"), RegisterEntry.status, _total())
        .join(School, School.id == TutoringGroup.school_id)
        .join(User, User.id == TutoringGroup.tutor_id)
        .outerjoin(RegisterEntry, and_(RegisterEntry.trust_id == TutoringGroup.trust_id,
                                       RegisterEntry.user_id == TutoringGroup.tutor_id))
        .where(*_in(coverage), ~approved).order_by(TutoringGroup.id).limit(limit)).all()

    def detail(r) -> str:
        if r.status is None:
            status = NOT_LISTED
        elif r.status == RegisterStatus.APPROVED:
            status = NOT_FOR_SCHOOL
        else:
            status = RegisterStatus(r.status).value.replace("_", " ")
        return f"{r.tutor}: register status {status}"

    return _found("not_cleared", rows, _group_item("not_cleared", detail))


# --- the same lists read from the states ---------------------------------------------------


def _states_in(model, coverage: Coverage) -> list:
    found = [model.trust_id == coverage.trust_id]
    if coverage.school_ids is not None:
        found.append(model.school_id.in_(coverage.school_ids))
    return found


def missed_in_a_row_from_states(coverage: Coverage, today: date, limit: int = LIMIT
                                ) -> ActionList:
    """Pupils still in the group whose latest 2 marks in it were both absent."""
    rows = db.session.execute(
        select(*_pupil_columns(), PlaceState.last_mark_on.label("last"), _total())
        .select_from(PlaceState)
        .join(TutoringGroup, TutoringGroup.id == PlaceState.group_id)
        .join(GroupPupil, and_(GroupPupil.group_id == PlaceState.group_id,
                               GroupPupil.pupil_id == PlaceState.pupil_id,
                               GroupPupil.left_on.is_(None)))
        .join(Pupil, Pupil.id == PlaceState.pupil_id)
        .join(School, School.id == TutoringGroup.school_id)
        .where(*_states_in(PlaceState, coverage), PlaceState.absent_run >= MISSED_IN_A_ROW,
               *_in(coverage))
        .order_by(PlaceState.last_mark_on.desc(), TutoringGroup.id, Pupil.id)
        .limit(limit)).all()
    return _missed(rows)


def low_attendance_from_states(coverage: Coverage, today: date, limit: int = LIMIT
                               ) -> ActionList:
    """Groups whose pupils attended under 75% of their marks over the group's last 4
    delivered sessions (fewer if it has had fewer)."""
    rows = db.session.execute(
        select(*_group_columns(), GroupState.recent_sessions.label("sessions"),
               GroupState.recent_marks.label("marks"),
               GroupState.recent_attended.label("attended"), _total())
        .select_from(GroupState)
        .join(TutoringGroup, TutoringGroup.id == GroupState.group_id)
        .join(School, School.id == TutoringGroup.school_id)
        .where(*_states_in(GroupState, coverage), GroupState.recent_marks > 0,
               GroupState.recent_attended * 100
               < GroupState.recent_marks * LOW_ATTENDANCE_PERCENT, *_in(coverage))
        .order_by(GroupState.recent_attended * 1.0 / GroupState.recent_marks,
                  TutoringGroup.id).limit(limit)).all()
    return _low_attendance(rows)


def no_recent_session_from_states(coverage: Coverage, today: date, limit: int = LIMIT
                                  ) -> ActionList:
    """Running groups, started at least 14 days ago, with no session logged in the last 14
    days (a group without a state has none logged)."""
    since = today - timedelta(days=NO_SESSION_DAYS)
    rows = db.session.execute(
        select(*_group_columns(), GroupState.last_held_on.label("last"), _total())
        .join(School, School.id == TutoringGroup.school_id)
        .outerjoin(GroupState, GroupState.group_id == TutoringGroup.id)
        .where(*_in(coverage), TutoringGroup.starts_on <= since,
               or_(GroupState.last_held_on.is_(None), GroupState.last_held_on <= since))
        .order_by(TutoringGroup.starts_on, TutoringGroup.id).limit(limit)).all()
    return _no_session(rows)


def no_baseline_from_states(coverage: Coverage, today: date, limit: int = LIMIT
                            ) -> ActionList:
    """Pupils in a group without a baseline once they have a mark in it since joining (a
    state older than their place is from an earlier time in the group: not yet)."""
    rows = db.session.execute(
        select(*_pupil_columns(), PlaceState.first_mark_on.label("first"), _total())
        .select_from(GroupPupil)
        .join(TutoringGroup, TutoringGroup.id == GroupPupil.group_id)
        .join(PlaceState, and_(PlaceState.group_id == GroupPupil.group_id,
                               PlaceState.pupil_id == GroupPupil.pupil_id))
        .join(Pupil, Pupil.id == GroupPupil.pupil_id)
        .join(School, School.id == TutoringGroup.school_id)
        .where(*_in(coverage), GroupPupil.left_on.is_(None), GroupPupil.baseline.is_(None),
               PlaceState.first_mark_on >= GroupPupil.joined_on)
        .order_by(GroupPupil.joined_on, GroupPupil.id).limit(limit)).all()
    return _no_baseline(rows)


#: The lists worked out from the sessions and marks, and the same lists read from the states.
RULES = (missed_in_a_row, low_attendance, no_recent_session, no_baseline, stale_progress,
         tutors_not_cleared)
STATE_RULES = (missed_in_a_row_from_states, low_attendance_from_states,
               no_recent_session_from_states, no_baseline_from_states, stale_progress,
               tutors_not_cleared)


def action_lists(coverage: Coverage, *, today: date | None = None, limit: int = LIMIT
                 ) -> list[ActionList]:
    """Every list for a coverage, with at most ``limit`` items each and their full counts:
    from the states once the trust's read models are built, from the sessions until then."""
    today = today or clock.today()
    built = coverage.trust_id is not None and totals.built(coverage.trust_id)
    return [rule(coverage, today, limit) for rule in (STATE_RULES if built else RULES)]


__all__ = ["ActionItem", "ActionList", "action_lists", "TITLES", "FIXES"] + [
    rule.__name__ for rule in (*RULES, *STATE_RULES[:4])]
