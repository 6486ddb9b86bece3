"""Logging a session: delivered or cancelled, minutes, each pupil's attendance and
engagement. Only a tutor the register approves for the school tutors; dosage counts only
pupils who were there."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.audit import services as audit
from lms.platform import clock
from lms.platform.clock import LONDON
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.tutoring import totals
from lms.tutoring.clearance import clearance
from lms.tutoring.events import session_logged
from lms.tutoring.models import (
    AbsenceReason,
    Attendance,
    CancelReason,
    GroupPupil,
    GroupStatus,
    LogSource,
    SessionAttendance,
    SessionStatus,
    TutoringGroup,
    TutoringSession,
)

#: A tutor may change their own log for this long; after it, the tutoring lead, with a reason.
TUTOR_EDIT_DAYS = 7
MAX_NOTE = 280


@dataclass(frozen=True)
class PupilMark:
    status: str
    absence_reason: str | None = None
    engagement: int | None = None


@dataclass
class SessionLog:
    """What a tutor (or the school, or a provider) says happened."""

    held_on: date
    status: str
    minutes_delivered: int | None = None
    cancel_reason: str | None = None
    #: pupil id -> their mark; every pupil in the group on the day needs one.
    marks: Mapping[int, PupilMark] = field(default_factory=dict)
    note: str = ""
    late_start_minutes: int = 0
    notice_hours: int | None = None
    #: A cover tutor's id when the group's own tutor did not tutor.
    cover_tutor_id: int | None = None


def pupils_on(group: TutoringGroup, day: date) -> list[GroupPupil]:
    """The group's pupils on a day: joined by then and not yet left."""
    return [p for p in group.places
            if p.joined_on <= day and (p.left_on is None or p.left_on > day)]


def _choice(kind: type, value, field_name: str, message: str):
    try:
        return kind(value)
    except ValueError:
        raise DomainError(message, field=field_name) from None


def _attendance(group: TutoringGroup, log: SessionLog, minutes: int) -> list[SessionAttendance]:
    places = pupils_on(group, log.held_on)
    if not places:
        raise DomainError("This group had no pupils on that day", field="held_on")
    names = {p.pupil_id: p.pupil.display_name for p in places}
    unknown = set(log.marks) - set(names)
    if unknown:
        raise DomainError("Mark only the pupils in this group", field="marks")
    rows, problems = [], []
    for pupil_id, name in names.items():
        mark = log.marks.get(pupil_id)
        if mark is None or not mark.status:
            problems.append(f"Say whether {name} was present, late or absent")
            continue
        try:
            status = Attendance(mark.status)
        except ValueError:
            problems.append(f"Say whether {name} was present, late or absent")
            continue
        reason = None
        if status == Attendance.ABSENT:
            try:
                reason = AbsenceReason(mark.absence_reason)
            except ValueError:
                problems.append(f"Say why {name} was absent")
                continue
        engagement = mark.engagement if status != Attendance.ABSENT else None
        if engagement is not None and (isinstance(engagement, bool)
                                       or engagement not in range(1, 6)):
            problems.append(f"Rate {name}'s engagement from 1 to 5, or leave it blank")
            continue
        rows.append(SessionAttendance(
            pupil_id=pupil_id, status=status, absence_reason=reason, engagement=engagement,
            minutes=0 if status == Attendance.ABSENT else minutes))
    if problems:
        raise DomainError("; ".join(problems), field="marks")
    if all(r.status == Attendance.ABSENT for r in rows):
        raise DomainError("No pupil came: log the session as cancelled, with the reason "
                          "\"pupil(s) absent\"", field="status")
    return rows


def _checked(group: TutoringGroup, log: SessionLog) -> dict:
    today = clock.today()
    if log.held_on > today:
        raise DomainError("A session can be logged on its day or after, not before",
                          field="held_on")
    if log.held_on < group.starts_on:
        raise DomainError(f"This group started on {group.starts_on:%-d %B %Y}",
                          field="held_on")
    if group.ended_on is not None and log.held_on > group.ended_on:
        raise DomainError(f"This group ended on {group.ended_on:%-d %B %Y}", field="held_on")
    status = _choice(SessionStatus, log.status, "status",
                     "Say whether the session was delivered or cancelled")
    note = (log.note or "").strip()
    if len(note) > MAX_NOTE:
        raise DomainError(f"Keep the note to {MAX_NOTE} characters (it has {len(note)}). "
                          "A worry about a pupil goes to the safeguarding lead, not here.",
                          field="note")
    late = log.late_start_minutes or 0
    if isinstance(late, bool) or not isinstance(late, int) or not 0 <= late <= 240:
        raise DomainError("Late start must be a number of minutes from 0 to 240",
                          field="late_start_minutes")
    notice = log.notice_hours
    if notice is not None and (isinstance(notice, bool) or not isinstance(notice, int)
                               or not 0 <= notice <= 2000):
        raise DomainError("Notice must be a number of hours from 0 to 2000",
                          field="notice_hours")
    values = {"held_on": log.held_on, "status": status, "note": note,
              "late_start_minutes": late if status == SessionStatus.DELIVERED else 0,
              "notice_hours": notice if status == SessionStatus.CANCELLED else None}
    if status == SessionStatus.CANCELLED:
        values["cancel_reason"] = _choice(CancelReason, log.cancel_reason, "cancel_reason",
                                          "Say why the session was cancelled")
        values["minutes_delivered"] = 0
        return values
    minutes = group.programme.session_minutes if log.minutes_delivered is None \
        else log.minutes_delivered
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 240:
        raise DomainError("Minutes delivered must be a whole number from 1 to 240",
                          field="minutes_delivered")
    values.update(cancel_reason=None, minutes_delivered=minutes)
    return values


def _tutor_of(group: TutoringGroup, log: SessionLog) -> tuple[int, bool]:
    if log.cover_tutor_id and log.cover_tutor_id != group.tutor_id:
        return log.cover_tutor_id, True
    return group.tutor_id, False


def _require_cleared(group: TutoringGroup, tutor_id: int) -> None:
    answer = clearance(group.trust_id, group.school_id, tutor_id)
    if not answer.approved:
        who = "This group's tutor" if tutor_id == group.tutor_id else "The cover tutor"
        raise DomainError(f"{who} cannot tutor here now: {answer.message}. The group is "
                          "paused until the register approves them again.", field="tutor")


def _report_hours(group: TutoringGroup, held_on: date, minutes: int, at: datetime) -> int:
    ends = datetime.combine(held_on, group.starts_at, tzinfo=LONDON) + timedelta(
        minutes=minutes or group.programme.session_minutes)
    return max(0, int((at - ends).total_seconds() // 3600))


def session_on(group: TutoringGroup, day: date) -> TutoringSession | None:
    return db.session.scalar(select(TutoringSession).where(
        TutoringSession.group_id == group.id, TutoringSession.held_on == day)
        .options(selectinload(TutoringSession.attendance)))


def log_session(group: TutoringGroup, log: SessionLog, *, actor: User | None,
                source: LogSource = LogSource.TUTOR, provider_id: int | None = None,
                idempotency_key: str | None = None) -> TutoringSession:
    """Record a session that has not been logged yet."""
    if group.status != GroupStatus.ACTIVE and (group.ended_on is None
                                               or log.held_on > group.ended_on):
        raise DomainError("This group has ended")
    values = _checked(group, log)
    tutor_id, cover = _tutor_of(group, log)
    _require_cleared(group, tutor_id)
    if session_on(group, log.held_on) is not None:
        raise DomainError(f"The session on {log.held_on:%-d %B %Y} is already logged; "
                          "change that one instead", field="held_on")
    rows = _attendance(group, log, values["minutes_delivered"]) \
        if values["status"] == SessionStatus.DELIVERED else []
    now = clock.now()
    session = TutoringSession(
        group_id=group.id, school_id=group.school_id, trust_id=group.trust_id,
        tutor_id=tutor_id, cover=cover, source=source, provider_id=provider_id,
        idempotency_key=idempotency_key, logged_by_id=getattr(actor, "id", None),
        logged_at=now, report_hours=_report_hours(group, log.held_on,
                                                  values["minutes_delivered"], now),
        attendance=rows, **values)
    db.session.add(session)
    db.session.flush()
    totals.record(session)
    audit.record("tutoring.session_logged", session, actor=actor, changes={
        "held_on": (None, log.held_on), "status": (None, values["status"].value),
        "minutes_delivered": (None, values["minutes_delivered"]),
        "present": (None, sum(r.status != Attendance.ABSENT for r in rows))})
    session_logged.send(session)
    return session


def stop_for_safeguarding(session: TutoringSession, *, actor: User | None) -> TutoringSession:
    """Mark a session stopped because a safeguarding concern was raised from it."""
    if session.stopped_for_safeguarding_at is None:
        session.stopped_for_safeguarding_at = clock.now()
        db.session.flush()
        audit.record("tutoring.session_stopped_for_safeguarding", session, actor=actor,
                     changes={"stopped_for_safeguarding": (False, True)})
    return session


def tutor_may_still_edit(session: TutoringSession, now: datetime | None = None) -> bool:
    return (now or clock.now()) - session.logged_at <= timedelta(days=TUTOR_EDIT_DAYS)


def edit_session(session: TutoringSession, log: SessionLog, *, actor: User | None,
                 as_school: bool, reason: str = "") -> TutoringSession:
    """Change a logged session: its tutor within 7 days of logging it; the school's tutoring
    lead or leader at any time, giving a reason."""
    group = session.group
    reason = (reason or "").strip()
    if not as_school and not tutor_may_still_edit(session):
        raise DomainError(f"Sessions can be changed by their tutor for {TUTOR_EDIT_DAYS} days. "
                          "Ask the school's tutoring lead to correct this one.")
    if as_school and not reason:
        raise DomainError("Say why the session is being changed", field="reason")
    if len(reason) > 1000:
        raise DomainError("Keep the reason to 1,000 characters", field="reason")
    if log.held_on != session.held_on:
        raise DomainError("A session's day cannot change; log the other day's session instead",
                          field="held_on")
    values = _checked(group, log)
    tutor_id, cover = _tutor_of(group, log) if log.cover_tutor_id else (session.tutor_id,
                                                                         session.cover)
    if not as_school:
        _require_cleared(group, tutor_id)
    rows = _attendance(group, log, values["minutes_delivered"]) \
        if values["status"] == SessionStatus.DELIVERED else []
    def marks(rows):
        return {(a.pupil_id, a.status, a.absence_reason, a.engagement, a.minutes) for a in rows}

    before = marks(session.attendance)
    contributed = totals.contribution(session)
    changes = audit.diff(session, tutor_id=tutor_id, cover=cover, **{
        k: v for k, v in values.items() if k != "held_on"})
    after = marks(rows)
    if before != after:
        session.attendance.clear()
        db.session.flush()
        session.attendance.extend(rows)
        changes["attendance"] = (len(before), len(after))
    if not changes:
        return session
    session.edited_at = clock.now()
    db.session.flush()
    totals.record(session, contributed)
    audit.record("tutoring.session_changed", session, actor=actor, changes=changes,
                 reason=reason or None)
    return session


# --- what a tutor has to log ---------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    group: TutoringGroup
    day: date
    session: TutoringSession | None
    paused: bool

    @property
    def logged(self) -> bool:
        return self.session is not None


def sessions_due(tutor: User, *, days: int = TUTOR_EDIT_DAYS, today: date | None = None
                 ) -> list[Due]:
    """The tutor's group slots from ``days`` ago to today, newest first, logged or not."""
    from lms.tutoring.clearance import cleared_pairs

    today = today or clock.today()
    groups = list(db.session.scalars(
        select(TutoringGroup).where(TutoringGroup.tutor_id == tutor.id,
                                    TutoringGroup.status == GroupStatus.ACTIVE)
        .options(selectinload(TutoringGroup.programme),
                 selectinload(TutoringGroup.places).selectinload(GroupPupil.pupil))))
    if not groups:
        return []
    cleared = cleared_pairs({g.trust_id for g in groups})
    first = today - timedelta(days=days)
    logged = {(s.group_id, s.held_on): s for s in db.session.scalars(
        select(TutoringSession).where(TutoringSession.group_id.in_([g.id for g in groups]),
                                      TutoringSession.held_on >= first))}
    due = []
    for group in groups:
        day = today
        while day >= max(first, group.starts_on):
            if day.weekday() == group.weekday:
                due.append(Due(group, day, logged.get((group.id, day)),
                               (tutor.id, group.school_id) not in cleared))
            day -= timedelta(days=1)
    due.sort(key=lambda d: (d.day, d.group.starts_at), reverse=True)
    return due
