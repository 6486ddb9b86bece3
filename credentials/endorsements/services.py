"""Issuing endorsements, and suspending, reinstating, revoking and expiring them.

An endorsement is an Open Badges 3.0 ``OpenBadgeCredential`` (a W3C Verifiable Credential 2.0)
signed with a Data Integrity proof (``eddsa-rdfc-2022``) by the platform's ``did:web`` key.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from cachetools import TTLCache
from flask import current_app
from sqlalchemy import select

from assessments.attempts.models import Attempt
from credentials.endorsements.events import endorsement_issued, endorsement_status_changed
from credentials.endorsements.keys import active_key, issuer_did, signing_key, verification_method
from credentials.endorsements.models import Endorsement, EndorsementStatus
from credentials.endorsements.proofs import as_proof_set, sign
from credentials.endorsements.status import allocate_index, list_url, set_bit
from lms.accounts.models import User
from lms.audit import services as audit
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.programme.models import Enrolment, EnrolmentStatus, Pathway, TutoringPhase

#: The background task this module enqueues, by name (its module imports this one).
ISSUE_TASK = "credentials.tasks.issue_endorsement_for"

CONTEXTS = ["https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]

ACHIEVEMENTS = {
    Pathway.QTS_REFRESHER: (
        "School-Led Tutor (QTS refresher)",
        "A qualified teacher who has completed the School-Led Tutoring QTS refresher and "
        "passed its assessment: ready to tutor pupils one to one and in small groups.",
        "Hold Qualified Teacher Status, be nominated by a school, complete the refresher "
        "course (about 2 hours) with its module checks, and pass the randomised summative "
        "assessment (80% or more) within four weeks of starting.",
    ),
    Pathway.PRIMARY: (
        "School-Led Tutor (Primary)",
        "A member of school staff who has completed the School-Led Tutoring course for primary "
        "tutors and passed its assessment: ready to tutor primary pupils one to one and in "
        "small groups.",
        "Be nominated by a school, complete the primary tutoring course (about 11 hours) with "
        "its module checks, and pass the randomised summative assessment (80% or more) within "
        "four weeks of starting.",
    ),
    Pathway.SECONDARY: (
        "School-Led Tutor (Secondary)",
        "A member of school staff who has completed the School-Led Tutoring course for "
        "secondary tutors and passed its assessment: ready to tutor secondary pupils one to one "
        "and in small groups.",
        "Be nominated by a school, complete the secondary tutoring course (about 11 hours) with "
        "its module checks, and pass the randomised summative assessment (80% or more) within "
        "four weeks of starting.",
    ),
}


def credential_url(public_id: str) -> str:
    return f"{current_app.config['BASE_URL']}/credentials/{public_id}"


def identity_hash(email: str, salt: str) -> str:
    """Open Badges' hashed identifier: ``sha256$`` + hex SHA-256 of the value then the salt."""
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _phase_of(enrolment: Enrolment) -> TutoringPhase:
    return enrolment.nomination.tutoring_phase


def build_credential(*, public_id: str, tutor: User, pathway: Pathway, phase: TutoringPhase,
                     course_version: str, passed_at: datetime, valid_from: datetime,
                     valid_until: datetime, status_list_url: str, status_index: int,
                     salt: str) -> dict:
    """The unsigned OpenBadgeCredential. The tutor is named and identified by a salted hash
    of their email, never the email itself."""
    base = current_app.config["BASE_URL"]
    name, description, narrative = ACHIEVEMENTS[pathway]
    return {
        "@context": CONTEXTS,
        "id": credential_url(public_id),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{name}: endorsement",
        "issuer": {"id": issuer_did(), "type": ["Profile"],
                   "name": current_app.config["ISSUER_NAME"], "url": f"{base}/"},
        "validFrom": _timestamp(valid_from),
        "validUntil": _timestamp(valid_until),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {"type": "IdentityObject", "identityType": "name", "hashed": False,
                 "identityHash": tutor.name},
                {"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                 "identityHash": identity_hash(tutor.email, salt), "salt": salt},
            ],
            "achievement": {
                "id": f"{base}/achievements/{pathway.value.replace('_', '-')}",
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": name,
                "description": description,
                "criteria": {"narrative": narrative},
                "humanCode": f"SLT-{pathway.value.upper()}",
                "specialization": f"{phase.label} tutoring",
                "tag": ["School-Led Tutoring", pathway.short_label, f"{phase.label} phase"],
            },
        },
        "evidence": [{
            "type": ["Evidence"],
            "name": "Course completed and assessment passed",
            "narrative": (f"Completed the {pathway.short_label} pathway (course version "
                          f"{course_version}) and passed its summative assessment on "
                          f"{passed_at:%-d %B %Y}."),
            "genre": "Assessment",
        }],
        "credentialStatus": {
            "id": f"{status_list_url}#{status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "suspension",
            "statusListIndex": str(status_index),
            "statusListCredential": status_list_url,
        },
    }


def issue_endorsement(enrolment: Enrolment, *, now: datetime | None = None) -> Endorsement:
    """Issue the endorsement for a passed enrolment, once: a second call returns the first
    (the enrolment row is locked, and the database holds one endorsement per enrolment)."""
    now = now or clock.now()
    db.session.flush()
    db.session.refresh(enrolment, with_for_update=True)
    existing = db.session.scalar(select(Endorsement).where(
        Endorsement.enrolment_id == enrolment.id))
    if existing is not None:
        return existing
    if enrolment.status != EnrolmentStatus.PASSED:
        raise DomainError("Only a passed enrolment earns an endorsement.")
    passed_at = db.session.scalar(select(Attempt.submitted_at).where(
        Attempt.enrolment_id == enrolment.id, Attempt.passed.is_(True))) or now
    status_list, index = allocate_index()
    key = active_key()
    public_id = secrets.token_urlsafe(16)
    years = current_app.config["ENDORSEMENT_VALIDITY_YEARS"]
    valid_until = now + timedelta(days=365 * years + years // 4)
    unsigned = build_credential(
        public_id=public_id, tutor=enrolment.user, pathway=enrolment.pathway,
        phase=_phase_of(enrolment), course_version=enrolment.course_version or "",
        passed_at=passed_at, valid_from=now, valid_until=valid_until,
        status_list_url=list_url(status_list), status_index=index,
        salt=secrets.token_hex(16))
    signed = as_proof_set(sign(unsigned, private_key=signing_key(key),
                               verification_method=verification_method(key),
                               created=_timestamp(now)))
    endorsement = Endorsement(
        public_id=public_id, user_id=enrolment.user_id, enrolment_id=enrolment.id,
        trust_id=enrolment.trust_id, school_id=enrolment.school_id, pathway=enrolment.pathway,
        phase=_phase_of(enrolment), course_version=enrolment.course_version or "",
        passed_at=passed_at, issued_at=now, valid_from=now, valid_until=valid_until,
        status=EndorsementStatus.ACTIVE, status_list_id=status_list.id, status_index=index,
        issuer_key_id=key.id, credential=json.dumps(signed, ensure_ascii=False, indent=2))
    db.session.add(endorsement)
    db.session.flush()
    audit.record("endorsement.issued", endorsement, actor=None,
                 changes={"status": (None, EndorsementStatus.ACTIVE.value)})
    _tell_tutor(endorsement, "Your tutor endorsement is ready", "endorsement_issued")
    endorsement_issued.send(endorsement)
    return endorsement


def request_endorsement(enrolment: Enrolment) -> None:
    """Issue in the background once the pass has committed (within seconds)."""
    from lms.platform.jobs import enqueue_after_commit

    enqueue_after_commit(ISSUE_TASK, enrolment.id)


def passed_without_endorsement() -> list[int]:
    """Enrolments passed but not yet endorsed (a lost task, a broker that was down)."""
    return list(db.session.scalars(
        select(Enrolment.id).outerjoin(Endorsement, Endorsement.enrolment_id == Enrolment.id)
        .where(Enrolment.status == EnrolmentStatus.PASSED, Endorsement.id.is_(None))))


# --- suspension, reinstatement, revocation, expiry ----------------------------------------


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason: the tutor and the audit log will see it.",
                          field="reason")
    return reason


def suspend_endorsement(endorsement: Endorsement, *, reason: str, actor) -> Endorsement:
    """Suspend (reversible): verifiers see it as not valid until it is reinstated."""
    return _change(endorsement, EndorsementStatus.SUSPENDED, _reason(reason), actor,
                   bit=True, subject="Your tutor endorsement has been suspended")


def reinstate_endorsement(endorsement: Endorsement, *, reason: str, actor) -> Endorsement:
    if clock.now() >= endorsement.valid_until:
        raise DomainError("This endorsement has expired, so it cannot be reinstated.")
    return _change(endorsement, EndorsementStatus.ACTIVE, _reason(reason), actor,
                   bit=False, subject="Your tutor endorsement has been reinstated")


def revoke_endorsement(endorsement: Endorsement, *, reason: str, actor) -> Endorsement:
    """Revoke (final): the bit stays set for good and the endorsement can never come back."""
    return _change(endorsement, EndorsementStatus.REVOKED, _reason(reason), actor,
                   bit=True, subject="Your tutor endorsement has been revoked")


def _change(endorsement: Endorsement, status: EndorsementStatus, reason: str, actor, *,
            bit: bool, subject: str) -> Endorsement:
    before = endorsement.status
    endorsement.move_to(status, reason)
    set_bit(endorsement, bit)
    action = "reinstated" if status == EndorsementStatus.ACTIVE else status.value
    audit.record(f"endorsement.{action}", endorsement, actor=actor, reason=reason,
                 changes={"status": (before.value, status.value)})
    _tell_tutor(endorsement, subject, "endorsement_status")
    endorsement_status_changed.send(endorsement)
    return endorsement


def expire_endorsements(now: datetime | None = None) -> int:
    """Mark endorsements past their ``validUntil`` as expired. Safe to repeat."""
    now = now or clock.now()
    due = db.session.scalars(select(Endorsement).where(
        Endorsement.status.in_([EndorsementStatus.ACTIVE, EndorsementStatus.SUSPENDED]),
        Endorsement.valid_until <= now)).all()
    for endorsement in due:
        before = endorsement.status
        endorsement.move_to(EndorsementStatus.EXPIRED, "Reached its valid-until date.")
        audit.record("endorsement.expired", endorsement, actor=None,
                     changes={"status": (before.value, "expired")})
        endorsement_status_changed.send(endorsement)
    return len(due)


EXPIRY_REMINDER_DAYS = (60, 14)


def send_expiry_reminders(now: datetime | None = None) -> int:
    """Tell the tutor and their school 60 and 14 days before an endorsement expires; each
    reminder goes once (a second run sends nothing)."""
    from lms.notifications.services import send_email
    from lms.organisations.queries import school_leaders
    from lms.programme.models import SentReminder

    now = now or clock.now()
    sent = 0
    for days in EXPIRY_REMINDER_DAYS:
        kind = f"endorsement-expiry-{days}"
        due = db.session.scalars(select(Endorsement).where(
            Endorsement.status == EndorsementStatus.ACTIVE,
            Endorsement.valid_until > now,
            Endorsement.valid_until <= now + timedelta(days=days))).all()
        for endorsement in due:
            key = f"{kind}:{endorsement.id}"
            already = db.session.scalar(select(SentReminder.id).where(
                SentReminder.kind == kind, SentReminder.key == key))
            if already is not None:
                continue
            db.session.add(SentReminder(kind=kind, subject_type="Endorsement",
                                        subject_id=endorsement.id, key=key))
            recipients = [endorsement.user, *school_leaders(endorsement.school_id)]
            for person in recipients:
                send_email(person.email, "A tutor endorsement expires soon",
                           "endorsement_expiring", person=person, endorsement=endorsement,
                           days=days, link=credential_url(endorsement.public_id))
            sent += 1
    return sent


def _tell_tutor(endorsement: Endorsement, subject: str, template: str) -> None:
    from lms.notifications.services import send_email

    send_email(endorsement.user.email, subject, template, person=endorsement.user,
               endorsement=endorsement, link=credential_url(endorsement.public_id))


# --- what a verifier sees -----------------------------------------------------------------


@dataclass(frozen=True)
class PublicStatus:
    """The live status in words, for the page, the PDF and the API."""

    code: str
    headline: str
    detail: str

    @property
    def valid(self) -> bool:
        return self.code == "valid"


def public_status(endorsement: Endorsement | None, now: datetime | None = None) -> PublicStatus:
    now = now or clock.now()
    if endorsement is None:
        return PublicStatus("not_found", "Not found",
                            "No endorsement has this address. Check the link or QR code.")
    if endorsement.status == EndorsementStatus.REVOKED:
        return PublicStatus("revoked", "Revoked",
                            f"Revoked on {endorsement.status_changed_at:%-d %B %Y}. "
                            "This endorsement is no longer valid and cannot be reinstated.")
    if endorsement.status == EndorsementStatus.EXPIRED or now >= endorsement.valid_until:
        return PublicStatus("expired", "Expired",
                            f"Expired on {endorsement.valid_until:%-d %B %Y}.")
    if endorsement.status == EndorsementStatus.SUSPENDED:
        return PublicStatus("suspended", "Suspended",
                            f"Suspended since {endorsement.status_changed_at:%-d %B %Y}. "
                            "Do not rely on it unless it is reinstated.")
    return PublicStatus("valid", "Valid",
                        f"Valid until {endorsement.valid_until:%-d %B %Y}.")


_issued_texts: TTLCache = TTLCache(maxsize=10_000, ttl=60)
_issued_lock = threading.Lock()


def issued_credential(public_id: str) -> str | None:
    """The signed credential exactly as issued. It never changes once issued (its status lives
    in the status list), so each process keeps recently asked-for ones for a minute; one whose
    holder's data is erased is gone from every process within that minute."""
    if not is_public_id(public_id):
        return None
    with _issued_lock:
        text = _issued_texts.get(public_id)
    if text is None:
        text = db.session.scalar(select(Endorsement.credential).where(
            Endorsement.public_id == public_id))
        if text is not None:
            with _issued_lock:
                _issued_texts[public_id] = text
    return text


def erase_credential(endorsement: Endorsement, *, actor=None) -> bool:
    """Replace the signed credential, once its holder's personal data is erased, by an unsigned
    stub naming nobody: its address, issuer, dates and status entry stay, so whoever checks it
    finds it revoked (or expired). Refused while it is still active or suspended: revoke it
    first. Returns whether anything changed (a second erasure changes nothing)."""
    if endorsement.status not in (EndorsementStatus.REVOKED, EndorsementStatus.EXPIRED):
        raise DomainError("Revoke the endorsement before erasing its credential.")
    url = list_url(endorsement.status_list)
    stub = json.dumps({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": credential_url(endorsement.public_id),
        "type": ["VerifiableCredential"],
        "issuer": issuer_did(),
        "name": "Erased tutor endorsement",
        "description": "The holder's personal data was erased at their request. This "
                       "endorsement is no longer valid.",
        "validFrom": _timestamp(endorsement.valid_from),
        "validUntil": _timestamp(endorsement.valid_until),
        "credentialStatus": {
            "id": f"{url}#{endorsement.status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "suspension",
            "statusListIndex": str(endorsement.status_index),
            "statusListCredential": url,
        },
    }, ensure_ascii=False, indent=2)
    if endorsement.credential == stub:
        return False
    endorsement.credential = stub
    with _issued_lock:
        _issued_texts.pop(endorsement.public_id, None)
    audit.record("endorsement.credential_erased", endorsement, actor=actor,
                 changes={"credential": ("signed", "erased")})
    return True


def is_public_id(public_id: object) -> bool:
    """Whether this could be an endorsement's public id (URL-safe, up to 32 characters); any
    other text (a NUL, a lone surrogate) is not looked up, as the database would refuse it."""
    return isinstance(public_id, str) and 0 < len(public_id) <= 32 and \
        public_id.isascii() and public_id.replace("-", "").replace("_", "").isalnum()


def find_endorsement(public_id: str) -> Endorsement | None:
    if not is_public_id(public_id):
        return None
    return db.session.scalar(select(Endorsement).where(Endorsement.public_id == public_id))
