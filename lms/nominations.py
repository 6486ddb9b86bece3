"""Nominations, invitations and the four-week training window.

Business rules as plain functions: they stage changes, write audit entries, flush and return the
object; the caller commits once.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from lms import audit, clock
from lms.errors import DomainError, TokenInvalid
from lms.extensions import db
from lms.jobs import enqueue_after_commit
from lms.models import (
    OPEN_NOMINATION_STATUSES,
    DeadlineExtension,
    Enrolment,
    EnrolmentStatus,
    ImportStatus,
    Membership,
    Nomination,
    NominationImport,
    NominationStatus,
    Pathway,
    Role,
    RoleInSchool,
    School,
    SentReminder,
    TutoringPhase,
    User,
)
from lms.notifications import link_to, send_email
from lms.security import hash_password, make_token, read_token, spend_token

TRN_PATTERN = re.compile(r"^\d{7}$")
NOMINATION_INVITATION = "nomination-invitation"
CSV_COLUMNS = [
    "name",
    "email",
    "role_in_school",
    "holds_qts",
    "trn",
    "tutoring_phase",
    "subject_focus",
]
MAX_EXTENSION_DAYS = 28
REMINDER_DAYS = (7, 2)


def window_length() -> timedelta:
    return timedelta(days=current_app.config["TRAINING_WINDOW_DAYS"])


# --- eligibility -------------------------------------------------------------------------


def choose_pathway(holds_qts: bool, phase: TutoringPhase) -> tuple[Pathway, str]:
    """The pathway a candidate takes, and why, in words a school leader can check."""
    if holds_qts:
        return (
            Pathway.QTS_REFRESHER,
            "They hold qualified teacher status, so they take the QTS refresher: a condensed "
            "course on what differs between teaching a class and tutoring.",
        )
    if phase == TutoringPhase.PRIMARY:
        return (
            Pathway.PRIMARY,
            "They do not hold QTS and will tutor primary pupils, so they take the full "
            "Primary course, including early reading and early maths.",
        )
    return (
        Pathway.SECONDARY,
        "They do not hold QTS and will tutor secondary pupils, so they take the full "
        "Secondary course, including GCSE-focused tutoring and exam technique.",
    )


@dataclass(frozen=True)
class Candidate:
    """A validated candidate, ready to nominate."""

    name: str
    email: str
    role_in_school: RoleInSchool
    holds_qts: bool
    trn: str | None
    tutoring_phase: TutoringPhase
    subject_focus: str

    @property
    def pathway(self) -> Pathway:
        return choose_pathway(self.holds_qts, self.tutoring_phase)[0]

    @property
    def pathway_reason(self) -> str:
        return choose_pathway(self.holds_qts, self.tutoring_phase)[1]


_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}


def parse_yes_no(value: str | bool | None, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = (value or "").strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise DomainError("Say whether they hold QTS: yes or no", field=field)


def candidate_from(
    *,
    name: str | None,
    email: str | None,
    role_in_school: str | None,
    holds_qts: str | bool | None,
    trn: str | None,
    tutoring_phase: str | None,
    subject_focus: str | None,
) -> Candidate:
    """Check one candidate's details; raise ``DomainError`` naming the first bad field."""
    from lms.services import normalise_email

    name = (name or "").strip()
    if not name:
        raise DomainError("Enter the candidate's full name", field="name")
    if len(name) > 200:
        raise DomainError("Name must be 200 characters or fewer", field="name")
    if not (email or "").strip():
        raise DomainError("Enter the candidate's email address", field="email")
    email = normalise_email(email)
    try:
        role = RoleInSchool((role_in_school or "").strip().lower().replace(" ", "_"))
    except ValueError as exc:
        raise DomainError(
            "Role in school must be teacher, teaching assistant, support staff or other",
            field="role_in_school",
        ) from exc
    qts = parse_yes_no(holds_qts, "holds_qts")
    trn = re.sub(r"\s+", "", trn or "") or None
    if qts and trn is None:
        raise DomainError("Enter the teacher reference number (TRN) of a QTS holder",
                          field="trn")
    if trn is not None and not TRN_PATTERN.match(trn):
        raise DomainError("Teacher reference number must be 7 digits, for example 1234567",
                          field="trn")
    if not qts:
        trn = None
    try:
        phase = TutoringPhase((tutoring_phase or "").strip().lower())
    except ValueError as exc:
        raise DomainError("Phase they will tutor must be primary or secondary",
                          field="tutoring_phase") from exc
    subject = (subject_focus or "").strip()
    if len(subject) > 200:
        raise DomainError("Subject focus must be 200 characters or fewer", field="subject_focus")
    return Candidate(name, email, role, qts, trn, phase, subject)


def open_commitment(email: str) -> str | None:
    """Why this person cannot be nominated now, or None if they can."""
    if db.session.scalar(
        select(Nomination.id).where(
            Nomination.candidate_email == email, Nomination.status.in_(OPEN_NOMINATION_STATUSES)
        )
    ):
        return "already has an open nomination"
    if db.session.scalar(
        select(Enrolment.id)
        .join(User, User.id == Enrolment.user_id)
        .where(User.email == email, Enrolment.status == EnrolmentStatus.ACTIVE)
    ):
        return "is already in training"
    return None


def emails_with_open_commitments(
    emails: Iterable[str], *, exclude_import_id: int | None = None
) -> set[str]:
    """The subset of ``emails`` that cannot be nominated now; one query per 500 addresses.

    Nominations made by ``exclude_import_id`` do not count, so a resumed import can finish.
    """
    emails = list(set(emails))
    taken: set[str] = set()
    for start in range(0, len(emails), 500):
        chunk = emails[start : start + 500]
        taken.update(
            db.session.scalars(
                select(Nomination.candidate_email).where(
                    Nomination.candidate_email.in_(chunk),
                    Nomination.status.in_(OPEN_NOMINATION_STATUSES),
                    or_(Nomination.import_id.is_(None),
                        Nomination.import_id != (exclude_import_id or -1)),
                )
            )
        )
        taken.update(
            db.session.scalars(
                select(User.email)
                .join(Enrolment, Enrolment.user_id == User.id)
                .where(User.email.in_(chunk), Enrolment.status == EnrolmentStatus.ACTIVE)
            )
        )
    return taken


# --- nominating, approving, inviting ------------------------------------------------------


def nominate_tutor(
    school: School,
    candidate: Candidate,
    *,
    actor: User | None,
    nomination_import=None,
    checked: bool = False,
) -> Nomination:
    """Record a nomination; the invitation goes straight out unless the trust approves first.

    ``checked`` says the caller has already ruled out open commitments for a whole batch.
    """
    problem = None if checked else open_commitment(candidate.email)
    if problem:
        raise DomainError(f"{candidate.email} {problem}, so cannot be nominated again",
                          field="email")
    nomination = Nomination(
        school=school,
        trust_id=school.trust_id,
        nominated_by_id=actor.id if actor else None,
        candidate_name=candidate.name,
        candidate_email=candidate.email,
        role_in_school=candidate.role_in_school,
        holds_qts=candidate.holds_qts,
        trn=candidate.trn,
        tutoring_phase=candidate.tutoring_phase,
        subject_focus=candidate.subject_focus,
        pathway=candidate.pathway,
        status=NominationStatus.SUBMITTED,
        import_id=nomination_import.id if nomination_import else None,
    )
    db.session.add(nomination)
    db.session.flush()
    audit.record("nomination.submitted", nomination, actor=actor,
                 changes={"status": (None, "submitted"), "pathway": (None, nomination.pathway)})
    if not school.trust.requires_nomination_approval:
        send_nomination_invitation(nomination, actor=actor)
    return nomination


def approve_nomination(nomination: Nomination, *, actor: User | None) -> Nomination:
    before = nomination.status
    nomination.move_to(NominationStatus.APPROVED)
    nomination.decided_by_id = actor.id if actor else None
    nomination.decided_at = clock.now()
    audit.record("nomination.approved", nomination, actor=actor,
                 changes={"status": (before, nomination.status)})
    return send_nomination_invitation(nomination, actor=actor)


def reject_nomination(nomination: Nomination, *, actor: User | None, reason: str) -> Nomination:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason for rejecting the nomination", field="reason")
    before = nomination.status
    nomination.move_to(NominationStatus.REJECTED)
    nomination.decided_by_id = actor.id if actor else None
    nomination.decided_at = clock.now()
    nomination.decision_reason = reason
    audit.record("nomination.rejected", nomination, actor=actor, reason=reason,
                 changes={"status": (before, nomination.status)})
    _tell_nominator(nomination, "Nomination not approved", "nomination_rejected")
    return nomination


def decide_nominations(
    nominations: list[Nomination], *, approve: bool, actor: User | None, reason: str = ""
) -> list[Nomination]:
    """Approve or reject several at once: all or none, so a bad one stops the batch."""
    if not nominations:
        raise DomainError("Choose at least one nomination", field="nomination_ids")
    for nomination in nominations:
        if approve:
            approve_nomination(nomination, actor=actor)
        else:
            reject_nomination(nomination, actor=actor, reason=reason)
    return nominations


def send_nomination_invitation(nomination: Nomination, *, actor: User | None) -> Nomination:
    """Send (or resend) the invitation; each send replaces the link sent before."""
    before = nomination.status
    nomination.move_to(NominationStatus.INVITED)
    link = _new_invitation_link(nomination)
    send_email(
        nomination.candidate_email,
        "You have been nominated to train as a tutor",
        "nomination_invitation",
        nomination=nomination,
        link=link,
        days=current_app.config["INVITATION_MAX_AGE"].days,
        window_days=current_app.config["TRAINING_WINDOW_DAYS"],
    )
    action = "nomination.invited" if before != NominationStatus.INVITED else "nomination.resent"
    audit.record(action, nomination, actor=actor,
                 changes={"status": (before, nomination.status),
                          "invitation_version": (nomination.invitation_version - 1,
                                                 nomination.invitation_version)})
    return nomination


def _new_invitation_link(nomination: Nomination) -> str:
    """A fresh link to accept the invitation, valid for ``INVITATION_MAX_AGE`` from now; it
    replaces every link sent before."""
    now = clock.now()
    nomination.invitation_version += 1
    nomination.invited_at = now
    nomination.invitation_expires_at = now + current_app.config["INVITATION_MAX_AGE"]
    token = make_token(
        NOMINATION_INVITATION, {"n": nomination.id, "v": nomination.invitation_version}
    )
    return link_to("lms.accept_nomination", token=token)


def withdraw_nomination(nomination: Nomination, *, actor: User | None, reason: str | None
                        ) -> Nomination:
    before = nomination.status
    nomination.move_to(NominationStatus.WITHDRAWN)
    nomination.decision_reason = reason
    audit.record("nomination.withdrawn", nomination, actor=actor, reason=reason,
                 changes={"status": (before, nomination.status)})
    return nomination


def _tell_nominator(nomination: Nomination, subject: str, template: str) -> None:
    if nomination.nominated_by is not None:
        send_email(nomination.nominated_by.email, subject, template, nomination=nomination)


# --- accepting ----------------------------------------------------------------------------


def check_nomination_invitation(token: str) -> Nomination:
    """The nomination a link invites to, if the link is the newest one and still open."""
    payload = read_token(NOMINATION_INVITATION, token, current_app.config["INVITATION_MAX_AGE"])
    nomination = db.session.get(Nomination, payload.get("n"))
    if nomination is None:
        raise TokenInvalid("This link is not valid.")
    if nomination.status == NominationStatus.ACCEPTED:
        raise TokenInvalid("This invitation has already been accepted. Sign in to continue.")
    if nomination.status != NominationStatus.INVITED:
        raise TokenInvalid("This invitation is no longer open. Ask your school about it.")
    if payload.get("v") != nomination.invitation_version:
        raise TokenInvalid("A newer invitation has been sent. Use the link in the latest email.")
    if nomination.invitation_expires_at and clock.now() >= nomination.invitation_expires_at:
        raise TokenInvalid("This link has expired. Ask your school to send a new one.")
    return nomination


def accept_nomination(
    token: str, *, password: str | None, privacy_consent: bool
) -> Enrolment:
    """Create or link the tutor's account, record consent, and open the training window."""
    nomination = check_nomination_invitation(token)
    if not privacy_consent:
        raise DomainError("Confirm you have read the privacy notice to continue",
                          field="privacy_consent")
    from lms.services import create_user, find_user_by_email, grant_membership

    user = find_user_by_email(nomination.candidate_email)
    if user is None or user.password_hash is None:
        if not password:
            raise DomainError("Choose a password for your account", field="password")
        new_hash = hash_password(password)
        if user is None:
            user = create_user(nomination.candidate_email, nomination.candidate_name, actor=None)
        user.password_hash = new_hash
    if user.email_verified_at is None:
        user.email_verified_at = clock.now()
    spend_token(NOMINATION_INVITATION,
                read_token(NOMINATION_INVITATION, token, current_app.config["INVITATION_MAX_AGE"]))
    if not any(m.role == Role.TUTOR and m.school_id == nomination.school_id
               for m in user.memberships):
        grant_membership(user, Role.TUTOR, actor=user, school=nomination.school)
    before = nomination.status
    nomination.move_to(NominationStatus.ACCEPTED)
    nomination.accepted_at = nomination.privacy_consent_at = clock.now()
    audit.record("nomination.accepted", nomination, actor=user,
                 changes={"status": (before, nomination.status)})
    return open_enrolment(nomination, user)


def decline_nomination(token: str) -> Nomination:
    nomination = check_nomination_invitation(token)
    before = nomination.status
    nomination.move_to(NominationStatus.DECLINED)
    audit.record("nomination.declined", nomination, actor=None,
                 changes={"status": (before, nomination.status)})
    _tell_nominator(nomination, "A nomination was declined", "nomination_declined")
    return nomination


def open_enrolment(nomination: Nomination, user: User) -> Enrolment:
    if db.session.scalar(select(Enrolment.id).where(
        Enrolment.user_id == user.id, Enrolment.status == EnrolmentStatus.ACTIVE
    )):
        raise DomainError("You are already in training. Finish that course first.")
    from courses.services import current_version

    now = clock.now()
    course = current_version(nomination.pathway)
    enrolment = Enrolment(
        user=user,
        nomination=nomination,
        school_id=nomination.school_id,
        trust_id=nomination.trust_id,
        pathway=nomination.pathway,
        course_version=course.version if course else None,
        opened_at=now,
        deadline_at=now + window_length(),
        status=EnrolmentStatus.ACTIVE,
    )
    db.session.add(enrolment)
    db.session.flush()
    audit.record("enrolment.opened", enrolment, actor=user,
                 changes={"status": (None, "active"), "deadline_at": (None, enrolment.deadline_at)})
    return enrolment


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
        for leader in _school_leaders(school_id):
            send_email(leader.email, "Tutors with a training deadline coming up",
                       "deadline_digest", leader=leader, enrolments=enrolments)
    return sent


def _school_leaders(school_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id).where(
            Membership.school_id == school_id, Membership.role == Role.SCHOOL_LEADER,
            Membership.ended_at.is_(None))))


# --- nudging ------------------------------------------------------------------------------

#: A candidate is reminded by hand at most once in this time.
NUDGE_INTERVAL = timedelta(hours=24)


def nudge_candidate(nomination: Nomination, *, actor: User | None) -> Nomination:
    """Email a candidate still on their way a reminder of their next step: to accept the
    invitation (with a fresh link), to finish the course (with the days left), or to sit the
    assessment (with what is still needed first). Once in ``NUDGE_INTERVAL`` at most."""
    from assessments.services import attempts_of, readiness
    from courses.services import course_progress
    from credentials.register import LONDON, today
    from lms.dashboards import NUDGE_STAGES
    from lms.models import PipelineStage
    from lms.pipeline import AttemptFacts, stage_of

    now = clock.now()
    name = nomination.candidate_name
    enrolment = nomination.enrolment
    progress = None
    attempts = []
    if enrolment is not None and enrolment.is_active:
        if now >= enrolment.deadline_at:
            raise DomainError(f"{name}'s training window has closed, so there is nothing to "
                              "remind them of")
        progress = course_progress(enrolment)
        attempts = attempts_of(enrolment)
    stage = stage_of(nomination.status, enrolment.status if enrolment else None,
                     course_complete=progress is not None and progress.complete,
                     attempts=[AttemptFacts(a.number, a.submitted_at, a.passed)
                               for a in attempts], register_status=None)
    if stage not in NUDGE_STAGES:
        raise DomainError(f"{name} is not in progress ({stage.label.lower()}), so there is "
                          "nothing to remind them of")
    last = db.session.scalar(select(func.max(SentReminder.sent_at)).where(
        SentReminder.kind == "nudge", SentReminder.subject_type == "Nomination",
        SentReminder.subject_id == nomination.id))
    if last is not None and now - last < NUDGE_INTERVAL:
        again = (last + NUDGE_INTERVAL).astimezone(LONDON)
        raise DomainError(f"{name} was reminded less than a day ago. You can remind them "
                          f"again after {again:%H:%M} on {again:%-d %B}.")
    try:
        with db.session.begin_nested():
            db.session.add(SentReminder(kind="nudge", subject_type="Nomination",
                                        subject_id=nomination.id,
                                        key=today(now).isoformat(), sent_at=now))
    except IntegrityError as exc:
        raise DomainError(f"{name} has already been reminded today.") from exc

    school = nomination.school.name
    changes: dict = {"reminder": (None, stage.value)}
    if stage == PipelineStage.INVITED:
        if nomination.status != NominationStatus.INVITED:
            changes["status"] = (nomination.status, NominationStatus.INVITED)
            nomination.move_to(NominationStatus.INVITED)
        version = nomination.invitation_version
        link = _new_invitation_link(nomination)
        changes["invitation_version"] = (version, nomination.invitation_version)
        send_email(nomination.candidate_email,
                   "A reminder: your invitation to train as a tutor", "nudge",
                   kind="invited", name=name, school=school, link=link,
                   days=current_app.config["INVITATION_MAX_AGE"].days,
                   window_days=current_app.config["TRAINING_WINDOW_DAYS"])
    else:
        days_left = enrolment.days_left(now)
        deadline = enrolment.deadline_at.astimezone(LONDON)
        common = {"name": enrolment.user.name, "school": school, "days_left": days_left,
                  "deadline": f"{deadline:%H:%M} on {deadline:%-d %B %Y}"}
        if stage == PipelineStage.IN_TRAINING:
            send_email(enrolment.user.email,
                       f"{days_left} day{'' if days_left == 1 else 's'} left to finish your "
                       "tutor training", "nudge", kind="training", percent=progress.percent,
                       link=link_to("courses.course", enrolment_id=enrolment.id), **common)
        else:
            second = stage == PipelineStage.FAILED_FIRST_ATTEMPT
            send_email(enrolment.user.email,
                       "Your second attempt at the tutor assessment" if second
                       else "You are ready to take your tutor assessment", "nudge",
                       kind="assessment", second=second,
                       needs=readiness(enrolment, now, progress).needs,
                       link=link_to("assessments.assessment", enrolment_id=enrolment.id),
                       **common)
    audit.record("nomination.nudged", nomination, actor=actor, changes=changes)
    return nomination


# --- CSV import ---------------------------------------------------------------------------


def csv_template() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerow(["Sam Patel", "sam.patel@school.example", "teaching assistant", "no", "",
                     "primary", "Reading"])
    writer.writerow(["Alex Kim", "alex.kim@school.example", "teacher", "yes", "1234567",
                     "secondary", "Maths"])
    return out.getvalue()


#: Rows one upload may hold (the form says so), and columns: the template has seven.
MAX_IMPORT_ROWS = 5000
MAX_IMPORT_COLUMNS = 100
SAVE_AS_CSV = ("Open it in your spreadsheet program, save it as \"CSV UTF-8 (comma "
               "delimited)\" and upload that file.")
#: How files people upload by mistake begin, and what they are.
_NOT_CSV = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls) or another Office file"),
    (b"%PDF", "a PDF"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
)
#: A character UTF-8 writes as several bytes: its presence means the file is UTF-8.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}"
                            rb"|[\xf0-\xf4][\x80-\xbf]{3}")


def decode_upload(raw: bytes) -> str:
    """The file's text: UTF-8 (with or without a byte order mark) or Windows-1252, as
    spreadsheet programs save CSV. Anything else is refused, saying what it is."""
    for signature, what in _NOT_CSV:
        if raw.startswith(signature):
            raise DomainError(f"This file is {what}, not a CSV file. {SAVE_AS_CSV}",
                              field="file")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw:
        raise DomainError("This file is not CSV text: it is saved as UTF-16 (\"Unicode text\") "
                          f"or is not a spreadsheet at all. {SAVE_AS_CSV}", field="file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if _UTF8_SEQUENCE.search(raw):  # UTF-8 with damage, not Windows-1252: no guessing
            line = raw.count(b"\n", 0, error.start) + 1
            raise DomainError(f"Line {line} has characters that are not UTF-8, though the rest "
                              f"of the file is. {SAVE_AS_CSV}", field="file") from error
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        raise DomainError(f"The file is not readable text. {SAVE_AS_CSV}",
                          field="file") from None


def _unreadable(line: int, error: csv.Error) -> DomainError:
    if "field larger than field limit" in str(error):
        reason = f"a cell is longer than {csv.field_size_limit():,} characters"
    else:
        reason = str(error)
    return DomainError(f"Line {line} cannot be read as CSV: {reason}. Check it is the right "
                       "file.", field="file")


def read_rows(content: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line number, row)`` for each data row; the header is line 1."""
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as error:
        raise _unreadable(1, error) from error
    if len(header) > MAX_IMPORT_COLUMNS:
        raise DomainError(f"The file's first line has {len(header):,} columns. Use the "
                          f"template's {len(CSV_COLUMNS)} columns (at most "
                          f"{MAX_IMPORT_COLUMNS}).", field="file")
    missing = [c for c in ("name", "email", "tutoring_phase") if c not in header]
    if missing:
        raise DomainError(
            "The file's first line must name the columns; missing: " + ", ".join(missing)
            + ". Download the template to see them.", field="file")
    reader.fieldnames = header
    rows = iter(reader)
    while True:
        starts = reader.reader.line_num + 1  # a quoted cell may run over several lines
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as error:
            raise _unreadable(starts, error) from error
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        yield reader.line_num, {k: (v or "") for k, v in row.items() if k in CSV_COLUMNS}


def safe_filename(filename: str | None) -> str:
    """The uploaded file's name, to show (never used as a path): without any folders, only
    letters, digits, dots, dashes and spaces, and at most 100 characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^\w. -]", "_", name).strip(" .") or "upload.csv"
    return name if len(name) <= 100 else name[:90] + "…" + name[-9:]


def start_import(school: School, *, filename: str, raw: bytes, good_rows_only: bool,
                 actor: User | None) -> NominationImport:
    content = decode_upload(raw)
    rows = sum(1 for _ in read_rows(content))  # a file that cannot be read is refused now
    if rows == 0:
        raise DomainError("The file has no nominations in it: every line under the first is "
                          "empty.", field="file")
    if rows > MAX_IMPORT_ROWS:
        raise DomainError(f"The file has {rows:,} nominations. Upload at most "
                          f"{MAX_IMPORT_ROWS:,} at a time: split it and upload each part.",
                          field="file")
    nomination_import = NominationImport(
        school=school,
        uploaded_by_id=actor.id if actor else None,
        filename=safe_filename(filename),
        content=content,
        good_rows_only=good_rows_only,
    )
    db.session.add(nomination_import)
    db.session.flush()
    audit.record("nomination_import.started", nomination_import, actor=actor,
                 trust_id=school.trust_id)
    from lms.tasks import run_nomination_import

    enqueue_after_commit(run_nomination_import, nomination_import.id)
    return nomination_import


def check_rows(
    content: str, *, exclude_import_id: int | None = None
) -> tuple[list[tuple[int, Candidate]], list[dict]]:
    """Validate every row; return the good candidates and a report of each bad row."""
    good: list[tuple[int, Candidate]] = []
    errors: list[dict] = []
    seen: dict[str, int] = {}
    for line, row in read_rows(content):
        try:
            candidate = candidate_from(
                name=row.get("name"), email=row.get("email"),
                role_in_school=row.get("role_in_school") or "other",
                holds_qts=row.get("holds_qts"), trn=row.get("trn"),
                tutoring_phase=row.get("tutoring_phase"), subject_focus=row.get("subject_focus"),
            )
        except DomainError as error:
            errors.append({"line": line, "reason": error.message})
            continue
        if candidate.email in seen:
            errors.append({"line": line, "reason":
                           f"{candidate.email} is also on line {seen[candidate.email]}"})
            continue
        seen[candidate.email] = line
        good.append((line, candidate))
    taken = emails_with_open_commitments((c.email for _, c in good),
                                         exclude_import_id=exclude_import_id)
    if taken:
        errors.extend({"line": line, "reason": f"{c.email} is already nominated or in training"}
                      for line, c in good if c.email in taken)
        good = [(line, c) for line, c in good if c.email not in taken]
    errors.sort(key=lambda e: e["line"])
    return good, errors


def import_good_rows_only(nomination_import: NominationImport, *, actor: User | None
                          ) -> NominationImport:
    """The leader has seen the report and chooses to import the valid rows without the rest."""
    if nomination_import.status != ImportStatus.INVALID:
        raise DomainError("Only a checked file with bad rows can be imported in part")
    changes = audit.diff(nomination_import, good_rows_only=True, status=ImportStatus.VALIDATING)
    audit.record("nomination_import.good_rows_only", nomination_import, actor=actor,
                 changes=changes, trust_id=nomination_import.school.trust_id)
    from lms.tasks import run_nomination_import

    enqueue_after_commit(run_nomination_import, nomination_import.id)
    return nomination_import


def run_import(nomination_import: NominationImport, *, progress_every: int = 250,
               on_progress=None) -> NominationImport:
    """Validate, then import all rows, or the good ones only if the leader chose that."""
    if nomination_import.status in (ImportStatus.DONE, ImportStatus.INVALID):
        return nomination_import
    good, errors = check_rows(nomination_import.content,
                              exclude_import_id=nomination_import.id)
    nomination_import.total_rows = len(good) + len(errors)
    nomination_import.row_errors = errors
    if errors and not nomination_import.good_rows_only:
        nomination_import.status = ImportStatus.INVALID
        nomination_import.finished_at = clock.now()
        return nomination_import
    nomination_import.status = ImportStatus.IMPORTING
    nomination_import.processed_rows = len(errors)
    uploader = db.session.get(User, nomination_import.uploaded_by_id) \
        if nomination_import.uploaded_by_id else None
    already = set(db.session.scalars(select(Nomination.candidate_email).where(
        Nomination.import_id == nomination_import.id)))
    school = nomination_import.school
    for count, (_, candidate) in enumerate(good, start=1):
        if candidate.email not in already:
            nominate_tutor(school, candidate, actor=uploader, nomination_import=nomination_import,
                           checked=True)
        nomination_import.processed_rows += 1
        if on_progress and count % progress_every == 0:
            on_progress(nomination_import)
    nomination_import.imported_rows = db.session.scalar(
        select(func.count(Nomination.id)).where(Nomination.import_id == nomination_import.id))
    nomination_import.status = ImportStatus.DONE
    nomination_import.finished_at = clock.now()
    return nomination_import
