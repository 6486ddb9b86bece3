"""The approved-tutor register and the facts behind it: DBS checks, Update Service status
checks, safeguarding training and each trust's renewal policy.

A register entry's status is never typed in: every change here ends in
``derivation.refresh_register``, the same function the nightly sweep runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, select

from credentials.endorsements.models import Endorsement
from credentials.register.derivation import (
    CERTIFICATE_NUMBER,
    CERTIFICATE_PURPOSE,
    DUE_SOON_DAYS,
    covers_children,
    refresh_register,
    register_policies,
)
from credentials.register.models import (
    DbsCheck,
    DbsLevel,
    DbsRenewal,
    DbsStatusCheck,
    DbsWorkforce,
    RegisterEntry,
    RegisterPolicy,
    RegisterStatus,
    RiskDecision,
    SafeguardingTraining,
    StatusCheckResult,
)
from lms.accounts.models import User
from lms.audit import services as audit
from lms.organisations.models import Membership, School, Trust
from lms.platform import clock, crypto
from lms.platform.clock import today
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.programme.models import Enrolment, Nomination

# --- recording the facts ------------------------------------------------------------------


def policy_for(trust: Trust) -> RegisterPolicy:
    return register_policies({trust.id})[trust.id]


def set_policy(trust: Trust, *, dbs_renewal: str, certificate_years: int,
               status_check_months: int, training_months: int, actor) -> RegisterPolicy:
    renewal = _choice(DbsRenewal, dbs_renewal, "dbs_renewal", "how DBS checks are renewed")
    for name, value, low, high in (("certificate_years", certificate_years, 1, 5),
                                   ("status_check_months", status_check_months, 1, 24),
                                   ("training_months", training_months, 1, 36)):
        if not isinstance(value, int) or not low <= value <= high:
            raise DomainError(f"Choose between {low} and {high}", field=name)
    policy = db.session.scalar(select(RegisterPolicy).where(RegisterPolicy.trust_id == trust.id))
    if policy is None:
        policy = RegisterPolicy(trust_id=trust.id)
        db.session.add(policy)
    changes = audit.diff(policy, dbs_renewal=renewal, certificate_years=certificate_years,
                         status_check_months=status_check_months,
                         training_months=training_months)
    policy.updated_by_id = getattr(actor, "id", None)
    policy.updated_at = clock.now()
    db.session.flush()
    if changes:
        audit.record("register_policy.updated", policy, actor=actor, trust_id=trust.id,
                     changes=changes)
        refresh_register(trust_id=trust.id)
    return policy


def _choice(kind: type, value, field: str, what: str):
    """A form or API value turned into its enum, or a clear message on the right field."""
    try:
        return kind(value)
    except ValueError as exc:
        raise DomainError(f"Choose {what} from the list", field=field) from exc


def _normalise_number(number: str) -> str:
    digits = re.sub(r"[\s-]", "", number or "")
    if not CERTIFICATE_NUMBER.fullmatch(digits):
        raise DomainError("Enter the 12-digit certificate number, for example 001234567890",
                          field="certificate_number")
    return digits


def record_dbs_check(person: User, trust: Trust, *, certificate_number: str, issued_on: date,
                     level: str, workforce: str, barred_lists: list[str],
                     original_seen_by: str, original_seen_on: date, update_service: bool,
                     showed_information: bool, risk_decision: str | None = None,
                     risk_decision_on: date | None = None, risk_decision_by: str | None = None,
                     school: School | None = None, actor=None) -> DbsCheck:
    """Record a certificate someone has seen. A tutor works with children, so only an
    enhanced check with the children's barred list (child workforce) is accepted."""
    number = _normalise_number(certificate_number)
    on = today()
    if issued_on is None or issued_on > on:
        raise DomainError("The issue date cannot be in the future", field="issued_on")
    level = _choice(DbsLevel, level, "level", "the level of the check")
    workforce = _choice(DbsWorkforce, workforce, "workforce", "the workforce")
    lists = sorted({str(item) for item in barred_lists or []} & {"children", "adults"})
    if not covers_children(level, workforce, lists):
        field = ("level" if level != DbsLevel.ENHANCED_BARRED else
                 "workforce" if workforce not in (DbsWorkforce.CHILD,
                                                  DbsWorkforce.CHILD_AND_ADULT)
                 else "barred_lists")
        raise DomainError(
            "A tutor needs an enhanced check with the children's barred list, for the child "
            "workforce: this certificate does not cover regulated work with children",
            field=field)
    seen_by = (original_seen_by or "").strip()
    if not seen_by:
        raise DomainError("Say who saw the original certificate", field="original_seen_by")
    if original_seen_on is None or original_seen_on > on or original_seen_on < issued_on:
        raise DomainError("The original was seen on or after its issue date, and not in the "
                          "future", field="original_seen_on")
    decision = (_choice(RiskDecision, risk_decision, "risk_decision", "the risk decision")
                if risk_decision else None)
    if decision is not None and (risk_decision_on is None or risk_decision_on > on
                                 or risk_decision_on < issued_on):
        raise DomainError("A risk decision needs its date: on or after the certificate's issue "
                          "date, and not in the future", field="risk_decision_on")
    if decision is not None and not (risk_decision_by or "").strip():
        raise DomainError("Say who made the risk decision", field="risk_decision_by")
    if decision is not None and not showed_information:
        raise DomainError("A risk decision is only recorded when the certificate showed "
                          "information", field="risk_decision")
    if school is not None and school.trust_id != trust.id:
        raise DomainError("That school is not in this trust.", field="school")
    check = DbsCheck(
        user_id=person.id, trust_id=trust.id, school_id=school.id if school else None,
        certificate_number_encrypted=crypto.encrypt(number.encode(), CERTIFICATE_PURPOSE),
        certificate_number_lookup=crypto.keyed_hash(number, CERTIFICATE_PURPOSE),
        issued_on=issued_on, level=level, workforce=workforce, barred_lists=lists,
        original_seen_by=seen_by, original_seen_on=original_seen_on,
        update_service=bool(update_service), showed_information=bool(showed_information),
        risk_decision=decision, risk_decision_on=risk_decision_on if decision else None,
        risk_decision_by=(risk_decision_by or "").strip() or None if decision else None,
        recorded_by_id=getattr(actor, "id", None))
    db.session.add(check)
    db.session.flush()
    audit.record("dbs_check.recorded", check, actor=actor, trust_id=trust.id,
                 changes={"issued_on": (None, issued_on), "level": (None, level.value),
                          "update_service": (None, check.update_service),
                          "showed_information": (None, check.showed_information)})
    refresh_register(trust_id=trust.id, user_id=person.id)
    return check


def record_risk_decision(check: DbsCheck, *, decision: str, decided_on: date, decided_by: str,
                         actor=None) -> DbsCheck:
    if not check.showed_information:
        raise DomainError("This certificate showed no information: no decision is needed.")
    choice = _choice(RiskDecision, decision, "decision", "the decision")
    if decided_on is None or decided_on > today() or decided_on < check.issued_on:
        raise DomainError("Give the decision's date: on or after the certificate's issue date, "
                          "and not in the future", field="decided_on")
    if not (decided_by or "").strip():
        raise DomainError("Say who made the decision", field="decided_by")
    changes = audit.diff(check, risk_decision=choice, risk_decision_on=decided_on,
                         risk_decision_by=decided_by.strip())
    # Who decided is a name: the audit log holds ids, never personal data (the actor is there).
    changes.pop("risk_decision_by", None)
    db.session.flush()
    audit.record("dbs_check.risk_decision", check, actor=actor, trust_id=check.trust_id,
                 changes=changes)
    refresh_register(trust_id=check.trust_id, user_id=check.user_id)
    return check


def record_status_check(check: DbsCheck, *, checked_on: date, result: str, actor=None
                        ) -> DbsStatusCheck:
    """An Update Service status check, for a certificate whose holder subscribes."""
    if not check.update_service:
        raise DomainError("This person does not subscribe to the DBS Update Service: record a "
                          "new certificate instead.")
    if checked_on is None or checked_on > today() or checked_on < check.issued_on:
        raise DomainError("The check date must be after the certificate's issue date and not "
                          "in the future", field="checked_on")
    status_check = DbsStatusCheck(dbs_check_id=check.id, checked_on=checked_on,
                                  result=_choice(StatusCheckResult, result, "result",
                                                 "the result"),
                                  checked_by_id=getattr(actor, "id", None))
    db.session.add(status_check)
    db.session.flush()
    audit.record("dbs_status_check.recorded", status_check, actor=actor, trust_id=check.trust_id,
                 changes={"result": (None, status_check.result.value),
                          "checked_on": (None, checked_on)})
    refresh_register(trust_id=check.trust_id, user_id=check.user_id)
    return status_check


def record_training(person: User, trust: Trust, *, completed_on: date, course: str = "",
                    school: School | None = None, actor=None) -> SafeguardingTraining:
    if completed_on is None or completed_on > today():
        raise DomainError("The training date cannot be in the future", field="completed_on")
    if school is not None and school.trust_id != trust.id:
        raise DomainError("That school is not in this trust.", field="school")
    training = SafeguardingTraining(user_id=person.id, trust_id=trust.id,
                                    school_id=school.id if school else None,
                                    completed_on=completed_on, course=(course or "").strip(),
                                    recorded_by_id=getattr(actor, "id", None))
    db.session.add(training)
    db.session.flush()
    audit.record("safeguarding_training.recorded", training, actor=actor, trust_id=trust.id,
                 changes={"completed_on": (None, completed_on)})
    refresh_register(trust_id=trust.id, user_id=person.id)
    return training


def find_certificate(trust: Trust, number: str) -> list[DbsCheck]:
    """Checks in this trust with exactly this certificate number (by its keyed hash)."""
    lookup = crypto.keyed_hash(_normalise_number(number), CERTIFICATE_PURPOSE)
    return list(db.session.scalars(select(DbsCheck).where(
        DbsCheck.trust_id == trust.id, DbsCheck.certificate_number_lookup == lookup)))


def certificate_number(check: DbsCheck) -> str:
    return crypto.decrypt(check.certificate_number_encrypted, CERTIFICATE_PURPOSE).decode()


# --- entries ------------------------------------------------------------------------------


def _trust_schools(trust: Trust, schools: Iterable[School]) -> list[School]:
    chosen = list({s.id: s for s in schools}.values())
    if not chosen:
        raise DomainError("Choose at least one school where the tutor may tutor",
                          field="school_ids")
    if any(s.trust_id != trust.id for s in chosen):
        raise DomainError("Only this trust's schools can be listed", field="school_ids")
    return chosen


def _subject_of(trust: Trust, person: User) -> str:
    return db.session.scalar(select(Nomination.subject_focus).join(
        Enrolment, Enrolment.nomination_id == Nomination.id).where(
        Enrolment.user_id == person.id, Nomination.trust_id == trust.id)
        .order_by(Nomination.created_at.desc())) or ""


def add_to_register(trust: Trust, person: User, *, schools: Iterable[School], actor=None,
                    subject: str | None = None) -> RegisterEntry:
    """Put a tutor on the trust's register (or back on it), for the schools listed."""
    chosen = _trust_schools(trust, schools)
    entry = db.session.scalar(select(RegisterEntry).where(
        RegisterEntry.trust_id == trust.id, RegisterEntry.user_id == person.id))
    if entry is not None and entry.removed_at is None:
        raise DomainError(f"{person.name} is already on the register.")
    if entry is None:
        entry = RegisterEntry(trust_id=trust.id, user_id=person.id,
                              status=RegisterStatus.PENDING, reasons=[],
                              added_by_id=getattr(actor, "id", None))
        db.session.add(entry)
    entry.removed_at = entry.removed_by_id = entry.removed_reason = None
    entry.subject = subject if subject is not None else _subject_of(trust, person)
    entry.schools = chosen
    db.session.flush()
    audit.record("register_entry.added", entry, actor=actor, trust_id=trust.id,
                 changes={"schools": (None, sorted(s.id for s in chosen))})
    refresh_register(trust_id=trust.id, user_id=person.id)
    return entry


def set_register_schools(entry: RegisterEntry, schools: Iterable[School], *, actor=None
                         ) -> RegisterEntry:
    if entry.removed_at is not None:
        raise DomainError("This tutor has been removed from the register: add them back first.")
    chosen = _trust_schools(entry.trust, schools)
    before, after = sorted(s.id for s in entry.schools), sorted(s.id for s in chosen)
    if before == after:
        return entry
    entry.schools = chosen
    db.session.flush()
    audit.record("register_entry.schools_changed", entry, actor=actor, trust_id=entry.trust_id,
                 changes={"schools": (before, after)})
    return entry


def remove_from_register(entry: RegisterEntry, *, reason: str, actor=None) -> RegisterEntry:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason for removing the tutor", field="reason")
    if entry.removed_at is not None:
        raise DomainError("This tutor has already been removed.")
    entry.removed_at = clock.now()
    entry.removed_by_id = getattr(actor, "id", None)
    entry.removed_reason = reason
    entry.held_at = entry.held_by_id = None
    db.session.flush()
    audit.record("register_entry.removed", entry, actor=actor, trust_id=entry.trust_id,
                 reason=reason, changes={"removed": (False, True)})
    refresh_register(trust_id=entry.trust_id, user_id=entry.user_id)
    return entry


def suspend_pending_review(entry: RegisterEntry, *, reason: str, actor=None) -> RegisterEntry:
    """Suspend a tutor while an allegation about them is reviewed: not cleared anywhere on the
    register (their groups pause, verifiers see them not cleared) until reinstated or
    removed."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason for the suspension", field="reason")
    if entry.removed_at is not None:
        raise DomainError("This tutor has been removed from the register.")
    if entry.held_at is not None:
        raise DomainError("This tutor is already suspended pending review.")
    entry.held_at = clock.now()
    entry.held_by_id = getattr(actor, "id", None)
    db.session.flush()
    audit.record("register_entry.suspended_pending_review", entry, actor=actor,
                 trust_id=entry.trust_id, reason=reason, changes={"held": (False, True)})
    refresh_register(trust_id=entry.trust_id, user_id=entry.user_id)
    return entry


def reinstate_after_review(entry: RegisterEntry, *, reason: str, actor=None) -> RegisterEntry:
    """End a suspension pending review: the entry's status is derived from the facts again."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason for reinstating the tutor", field="reason")
    if entry.held_at is None:
        raise DomainError("This tutor is not suspended pending review.")
    entry.held_at = entry.held_by_id = None
    db.session.flush()
    audit.record("register_entry.reinstated_after_review", entry, actor=actor,
                 trust_id=entry.trust_id, reason=reason, changes={"held": (True, False)})
    refresh_register(trust_id=entry.trust_id, user_id=entry.user_id)
    return entry


def register_on_endorsement(endorsement: Endorsement) -> None:
    """A newly endorsed tutor is added to their trust's register for the nominating school
    (pending until their DBS check and training are recorded)."""
    exists = db.session.scalar(select(RegisterEntry.id).where(
        RegisterEntry.trust_id == endorsement.trust_id,
        RegisterEntry.user_id == endorsement.user_id))
    if exists is None:
        add_to_register(endorsement.trust, endorsement.user, schools=[endorsement.school])
    else:
        refresh_register(user_id=endorsement.user_id)


_STANDING = {RegisterStatus.APPROVED: 3, RegisterStatus.PENDING: 2,
             RegisterStatus.SUSPENDED: 1, RegisterStatus.REMOVED: 0}


def register_status_for(endorsement: Endorsement, trust_ids: set[int]) -> dict | None:
    """What a provider sees, from the registers of the trusts that gave it access: the tutor's
    entry (their current trust's if they moved: the entry with the best standing), or that
    they are not on the register of the trust that endorsed them. Never the DBS details or
    the reasons behind a status. None when no trust with a say has given access."""
    entries = db.session.scalars(select(RegisterEntry).where(
        RegisterEntry.user_id == endorsement.user_id,
        RegisterEntry.trust_id.in_(trust_ids))).all() if trust_ids else []
    if entries:
        entry = max(entries, key=lambda e: (_STANDING[e.status], e.added_at))
        return {"status": entry.status.value, "trust": entry.trust.name,
                "schools": [s.name for s in entry.schools]
                if entry.status != RegisterStatus.REMOVED else [], "reasons": []}
    if endorsement.trust_id in trust_ids:
        return {"status": "not_on_register", "trust": endorsement.trust.name, "schools": [],
                "reasons": []}
    return None


# --- checks due ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DueCheck:
    person: User
    due_on: date
    overdue: bool
    #: "DBS check" or "Safeguarding training".
    what: str


def due_condition(horizon: date):
    """An entry (not removed) whose DBS check or safeguarding training is due on or before
    ``horizon``, as the derivation last found the due dates."""
    return RegisterEntry.removed_at.is_(None) & (
        (RegisterEntry.dbs_due_on <= horizon) | (RegisterEntry.training_due_on <= horizon))


def due_entries(horizon: date) -> Select:
    """The entries of ``due_condition``, with what ``dues_of`` reads."""
    return select(RegisterEntry.id, RegisterEntry.trust_id, RegisterEntry.user_id,
                  RegisterEntry.dbs_due_on, RegisterEntry.training_due_on).where(
        due_condition(horizon))


def dues_of(row, horizon: date) -> list[tuple[str, date]]:
    """What of a ``due_entries`` row is due on or before ``horizon``, and when."""
    return [(what, due_on) for what, due_on in (("DBS check", row.dbs_due_on),
                                                 ("Safeguarding training", row.training_due_on))
            if due_on is not None and due_on <= horizon]


def due_items(rows, people: dict[int, User], on: date, horizon: date) -> list[DueCheck]:
    """``due_entries`` rows as the checks and training due, most urgent first."""
    due = [DueCheck(people[row.user_id], due_on, due_on <= on, what)
           for row in rows for what, due_on in dues_of(row, horizon)]
    return sorted(due, key=lambda d: (d.due_on, d.person.name))


def due_checks(trust: Trust, *, within_days: int = DUE_SOON_DAYS,
               now: datetime | None = None) -> list[DueCheck]:
    """DBS checks and safeguarding training of the trust's register due within
    ``within_days`` or already overdue, most urgent first."""
    on = today(now)
    horizon = on + timedelta(days=within_days)
    rows = db.session.execute(due_entries(horizon).where(
        RegisterEntry.trust_id == trust.id)).all()
    people = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_({r.user_id for r in rows})))} if rows else {}
    return due_items(rows, people, on, horizon)


def send_due_reminders(now: datetime | None = None) -> int:
    """Remind each trust's central team (once per item and due date) of checks and training
    due within 30 days or overdue."""
    from lms.notifications.services import send_email
    from lms.platform.roles import Role
    from lms.programme.models import SentReminder

    sent = 0
    for trust in db.session.scalars(select(Trust)):
        items = due_checks(trust, now=now)
        fresh = []
        for item in items:
            key = f"{item.what}:{item.person.id}:{item.due_on.isoformat()}"
            if db.session.scalar(select(SentReminder.id).where(
                    SentReminder.kind == "register-due", SentReminder.key == key)) is None:
                db.session.add(SentReminder(kind="register-due", subject_type="Trust",
                                            subject_id=trust.id, key=key))
                fresh.append(item)
        if not fresh:
            continue
        for person in db.session.scalars(select(User).join(
                Membership, Membership.user_id == User.id).where(
                Membership.trust_id == trust.id, Membership.role == Role.CENTRAL_TEAM,
                Membership.ended_at.is_(None))):
            send_email(person.email, "DBS checks and training due", "register_due",
                       person=person, trust=trust, items=fresh, today=today(now))
        sent += len(fresh)
    return sent
