"""Nominations: eligibility, nominating, approving, inviting, accepting and declining, and
opening the enrolment.

Business rules as plain functions: they stage changes, write audit entries, flush and return the
object; the caller commits once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import or_, select

from lms.accounts.models import User
from lms.accounts.security import hash_password, make_token, read_token, spend_token
from lms.audit import services as audit
from lms.notifications.services import link_to, send_email
from lms.organisations.models import School
from lms.platform import clock
from lms.platform.errors import DomainError, TokenInvalid
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.programme.events import enrolment_opened
from lms.programme.models import (
    OPEN_NOMINATION_STATUSES,
    Enrolment,
    EnrolmentStatus,
    Nomination,
    NominationStatus,
    Pathway,
    RoleInSchool,
    TutoringPhase,
)
from lms.programme.window import window_length

TRN_PATTERN = re.compile(r"^\d{7}$")
NOMINATION_INVITATION = "nomination-invitation"


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
    from lms.accounts.services import normalise_email

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
    link = new_invitation_link(nomination)
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


def new_invitation_link(nomination: Nomination) -> str:
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
    from lms.accounts.services import create_user, find_user_by_email
    from lms.organisations.people import grant_membership

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
    now = clock.now()
    enrolment = Enrolment(
        user=user,
        nomination=nomination,
        school_id=nomination.school_id,
        trust_id=nomination.trust_id,
        pathway=nomination.pathway,
        opened_at=now,
        deadline_at=now + window_length(),
        status=EnrolmentStatus.ACTIVE,
    )
    db.session.add(enrolment)
    enrolment_opened.send(enrolment)
    db.session.flush()
    audit.record("enrolment.opened", enrolment, actor=user,
                 changes={"status": (None, "active"), "deadline_at": (None, enrolment.deadline_at)})
    return enrolment
