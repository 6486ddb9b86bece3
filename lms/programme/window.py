"""The training window: the deadline, extensions, withdrawal, lapsing and reminders."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from lms.accounts.models import User
from lms.audit import services as audit
from lms.notifications.services import send_email
from lms.organisations.queries import school_leaders
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.programme.models import (
    DeadlineExtension,
    Enrolment,
    EnrolmentStatus,
    Nomination,
    NominationStatus,
    SentReminder,
)

MAX_EXTENSION_DAYS = 28
REMINDER_DAYS = (7, 2)


def window_length() -> timedelta:
    return timedelta(days=current_app.config["TRAINING_WINDOW_DAYS"])


# --- the window ---------------------------------------------------------------------------


def extend_deadline(enrolment: Enrolment, *, days: int, reason: str, actor: User | None
                    ) -> Enrolment:
    if not enrolment.is_active:
        raise DomainError("Only an enrolment in training can be extended")
    if not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise DomainError(f"Extend by between 1 and {MAX_EXTENSION_DAYS} days", field="days")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason for the extension", field="reason")
    db.session.add(DeadlineExtension(enrolment=enrolment, days=days, reason=reason,
                                     granted_by_id=actor.id if actor else None))
    changes = audit.diff(enrolment, deadline_at=enrolment.deadline_at + timedelta(days=days))
    audit.record("enrolment.extended", enrolment, actor=actor, changes=changes, reason=reason)
    send_email(enrolment.user.email, "Your training deadline has been extended",
               "deadline_extended", enrolment=enrolment, days=days)
    return enrolment


def withdraw_enrolment(enrolment: Enrolment, *, reason: str, actor: User | None) -> Enrolment:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason for withdrawing the tutor", field="reason")
    before = enrolment.status
    enrolment.move_to(EnrolmentStatus.WITHDRAWN, reason)
    audit.record("enrolment.withdrawn", enrolment, actor=actor, reason=reason,
                 changes={"status": (before, enrolment.status)})
    return enrolment


def expire_invitations(now: datetime | None = None) -> int:
    """Mark invitations past their expiry as expired; repeat runs find nothing more to do."""
    now = now or clock.now()
    due = db.session.scalars(
        select(Nomination).where(
            Nomination.status == NominationStatus.INVITED,
            Nomination.invitation_expires_at <= now,
        )
    ).all()
    for nomination in due:
        nomination.move_to(NominationStatus.EXPIRED)
        audit.record("nomination.expired", nomination, actor=None,
                     changes={"status": ("invited", "expired")})
    return len(due)


def lapse_overdue_enrolments(now: datetime | None = None) -> int:
    now = now or clock.now()
    due = db.session.scalars(
        select(Enrolment).where(
            Enrolment.status == EnrolmentStatus.ACTIVE, Enrolment.deadline_at <= now
        )
    ).all()
    for enrolment in due:
        enrolment.move_to(EnrolmentStatus.LAPSED, "The deadline passed without a pass.")
        audit.record("enrolment.lapsed", enrolment, actor=None,
                     changes={"status": ("active", "lapsed")})
        send_email(enrolment.user.email, "Your training window has closed", "enrolment_lapsed",
                   enrolment=enrolment)
    return len(due)


def _remember(kind: str, subject_type: str, subject_id: int, key: str) -> bool:
    """Record that a reminder went out; False if it already had (so it is not sent twice)."""
    exists = db.session.scalar(select(SentReminder.id).where(
        SentReminder.kind == kind, SentReminder.subject_type == subject_type,
        SentReminder.subject_id == subject_id, SentReminder.key == key))
    if exists:
        return False
    db.session.add(SentReminder(kind=kind, subject_type=subject_type, subject_id=subject_id,
                                key=key))
    db.session.flush()
    return True


def send_deadline_reminders(now: datetime | None = None) -> int:
    """Remind tutors 7 and 2 days before their deadline, and send each school leader a digest
    of their tutors who were reminded. Idempotent: a rerun sends nothing twice."""
    now = now or clock.now()
    sent = 0
    by_school: dict[int, list[Enrolment]] = {}
    for days in REMINDER_DAYS:
        window_end = now + timedelta(days=days)
        due = db.session.scalars(
            select(Enrolment).where(
                Enrolment.status == EnrolmentStatus.ACTIVE,
                Enrolment.deadline_at > window_end - timedelta(days=1),
                Enrolment.deadline_at <= window_end,
            )
        ).all()
        for enrolment in due:
            key = f"{days}d:{enrolment.deadline_at.isoformat()}"
            if not _remember("deadline", "Enrolment", enrolment.id, key):
                continue
            send_email(enrolment.user.email, f"{days} days left to finish your tutor training",
                       "deadline_reminder", enrolment=enrolment, days=days)
            by_school.setdefault(enrolment.school_id, []).append(enrolment)
            sent += 1
    for school_id, enrolments in by_school.items():
        if not _remember("leader_digest", "School", school_id, now.date().isoformat()):
            continue
        for leader in school_leaders(school_id):
            send_email(leader.email, "Tutors with a training deadline coming up",
                       "deadline_digest", leader=leader, enrolments=enrolments)
    return sent

