"""A person's own data: everything the platform holds about them, to download, and erasure of
their personal data on request.

Erasure keeps what others rely on: the audit chain is never touched (its entries hold ids, not
personal data), an endorsement is revoked before its credential is replaced by a stub, so its
status-list bit stays set for good, and training progress and results stay (they name nobody
once the account is anonymised) so each trust's figures stay right.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, inspect, or_, select, update
from sqlalchemy.orm import aliased

from assessments.attempts.models import Adjustment, Attempt, AttemptStatus
from assessments.checks.models import FormativeResult
from courses.models import CourseModule, Lesson, LessonProgress, ScenarioAnswer
from credentials.endorsements.models import Endorsement, EndorsementStatus, VerificationCheck
from credentials.endorsements.services import credential_url, erase_credential, revoke_endorsement
from credentials.register.derivation import add_months, dbs_due_on, masked, register_policies
from credentials.register.models import (
    DbsCheck,
    DbsStatusCheck,
    RegisterEntry,
    SafeguardingTraining,
    register_entry_schools,
)
from credentials.register.services import certificate_number, remove_from_register
from lms.accounts.models import RecoveryCode, User
from lms.accounts.services import erased_email, is_erased
from lms.audit import services as audit
from lms.notifications.models import OutboxEmail
from lms.organisations.models import Cluster, Membership, Provider, School, Trust
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.programme.models import (
    OPEN_NOMINATION_STATUSES,
    DeadlineExtension,
    Enrolment,
    Nomination,
    NominationImport,
)

ERASED_NAME = "Erased person"
#: Given to each endorsement revoked by an erasure (the holder is told nothing more).
REVOCATION_REASON = "Erased at the holder's request"
#: Given to the roles ended and the register entries removed by an erasure.
REMOVAL_REASON = "Personal data erased at the person's request"
#: Stands in for a teacher reference number: a QTS holder's nomination must keep one.
ERASED_TRN = "0000000"

ABOUT = (
    "Everything the Tutor Endorsement Platform holds about you, on the date above: your "
    "account, roles, nominations, training, assessment results, endorsements (with the signed "
    "credentials), register entries, DBS checks and safeguarding training recorded about you, "
    "and the emails sent to you. Times are in UTC. Assessment results are given by topic, as "
    "you saw them: the questions and answers stay in the item bank. DBS certificate numbers "
    "are shown masked, as they are everywhere on the platform. To have your personal data "
    "erased, ask your school or the programme's administrators."
)


# --- the export ---------------------------------------------------------------------------


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _scope_name(school: str | None, cluster: str | None, trust: str | None,
                provider: str | None) -> str:
    """``Membership.scope_name``, from names read in one query."""
    if school is not None:
        return school
    if cluster is not None:
        return f"{cluster} ({trust})"
    return trust or provider or "Whole platform"


def personal_data(user: User) -> dict[str, Any]:
    """Everything held about ``user``, as a JSON-ready dict, in a fixed number of queries
    however much there is. Never an item of the bank (ids, keys, answers), never a DBS
    certificate number unmasked, never anything about anyone else but the names of the
    schools, trusts and providers involved and of the person who nominated them."""
    run = db.session.execute
    mine = select(Enrolment.id).where(Enrolment.user_id == user.id).scalar_subquery()
    nominator = aliased(User)

    memberships = [{
        "role": role.label, "scope": _scope_name(school, cluster, trust, provider),
        "started_at": _iso(created_at), "ended_at": _iso(ended_at),
    } for role, created_at, ended_at, school, cluster, trust, provider in run(
        select(Membership.role, Membership.created_at, Membership.ended_at, School.name,
               Cluster.name, Trust.name, Provider.name)
        .outerjoin(School, School.id == Membership.school_id)
        .outerjoin(Cluster, Cluster.id == Membership.cluster_id)
        .outerjoin(Trust, Trust.id == Membership.trust_id)
        .outerjoin(Provider, Provider.id == Membership.provider_id)
        .where(Membership.user_id == user.id).order_by(Membership.created_at, Membership.id))]

    nominations = [{
        "id": n.id, "school": school, "name_given": n.candidate_name,
        "email_given": n.candidate_email, "role_in_school": n.role_in_school.label,
        "holds_qts": n.holds_qts, "teacher_reference_number": n.trn,
        "pathway": n.pathway.short_label, "phase": n.tutoring_phase.label,
        "subject_focus": n.subject_focus, "status": n.status.label,
        "nominated_by": nominated_by, "nominated_at": _iso(n.created_at),
        "decided_at": _iso(n.decided_at), "decision_reason": n.decision_reason,
        "invited_at": _iso(n.invited_at), "accepted_at": _iso(n.accepted_at),
        "privacy_notice_accepted_at": _iso(n.privacy_consent_at),
        "closed_at": _iso(n.closed_at),
    } for n, school, nominated_by in run(
        select(Nomination, School.name, nominator.name)
        .join(School, School.id == Nomination.school_id)
        .outerjoin(nominator, nominator.id == Nomination.nominated_by_id)
        .where(or_(Nomination.candidate_email == user.email,
                   Nomination.id.in_(select(Enrolment.nomination_id)
                                     .where(Enrolment.user_id == user.id))))
        .order_by(Nomination.created_at, Nomination.id)).all()]

    extensions: dict[int, list] = {}
    for enrolment_id, days, reason, created_at in run(
            select(DeadlineExtension.enrolment_id, DeadlineExtension.days,
                   DeadlineExtension.reason, DeadlineExtension.created_at)
            .where(DeadlineExtension.enrolment_id.in_(mine))
            .order_by(DeadlineExtension.created_at)):
        extensions.setdefault(enrolment_id, []).append(
            {"days": days, "reason": reason, "granted_at": _iso(created_at)})
    enrolments = [{
        "id": e.id, "nomination_id": e.nomination_id, "school": school,
        "pathway": e.pathway.short_label, "course_version": e.course_version,
        "opened_at": _iso(e.opened_at), "deadline_at": _iso(e.deadline_at),
        "extensions": extensions.get(e.id, []), "status": e.status.label,
        "closed_at": _iso(e.closed_at), "close_reason": e.close_reason,
    } for e, school in run(
        select(Enrolment, School.name).join(School, School.id == Enrolment.school_id)
        .where(Enrolment.user_id == user.id).order_by(Enrolment.opened_at)).all()]

    lesson_progress = [{
        "enrolment_id": row.enrolment_id, "module": row.module, "lesson": row.lesson,
        "started_at": _iso(row.started_at), "last_seen_at": _iso(row.last_seen_at),
        "completed_at": _iso(row.completed_at), "seconds_spent": row.seconds_spent,
    } for row in run(
        select(LessonProgress.enrolment_id, CourseModule.title.label("module"),
               Lesson.title.label("lesson"), LessonProgress.started_at,
               LessonProgress.last_seen_at, LessonProgress.completed_at,
               LessonProgress.seconds_spent)
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .join(CourseModule, CourseModule.id == Lesson.module_id)
        .where(LessonProgress.enrolment_id.in_(mine))
        .order_by(LessonProgress.enrolment_id, CourseModule.position, Lesson.position))]

    scenario_answers = [{
        "enrolment_id": row.enrolment_id, "lesson": row.lesson, "scenario": row.number,
        "answer": row.answer, "answered_at": _iso(row.answered_at),
    } for row in run(
        select(ScenarioAnswer.enrolment_id, Lesson.title.label("lesson"), ScenarioAnswer.number,
               ScenarioAnswer.answer, ScenarioAnswer.answered_at)
        .join(Lesson, Lesson.id == ScenarioAnswer.lesson_id)
        .where(ScenarioAnswer.enrolment_id.in_(mine))
        .order_by(ScenarioAnswer.answered_at))]

    formative_checks = [{
        "enrolment_id": row.enrolment_id, "topic": row.topic, "correct": row.correct,
        "out_of": row.total, "passed": row.passed, "started_at": _iso(row.created_at),
        "submitted_at": _iso(row.submitted_at),
    } for row in run(
        select(FormativeResult.enrolment_id, FormativeResult.topic, FormativeResult.correct,
               FormativeResult.total, FormativeResult.passed, FormativeResult.created_at,
               FormativeResult.submitted_at)
        .where(FormativeResult.enrolment_id.in_(mine)).order_by(FormativeResult.created_at))]

    summative_attempts = [{
        "enrolment_id": row.enrolment_id, "number": row.number,
        "started_at": _iso(row.started_at), "deadline_at": _iso(row.deadline_at),
        "submitted_at": _iso(row.submitted_at), "submitted_when_time_ran_out":
            row.auto_submitted, "in_progress": row.status == AttemptStatus.IN_PROGRESS,
        "correct": row.correct, "out_of": row.total, "passed": row.passed,
        # As the result page shows them: a score per topic and the lessons to revisit.
        "topics": [{"topic": topic, "correct": result.get("correct"),
                    "out_of": result.get("total"), "secure": result.get("secure"),
                    "lessons_to_revisit": list(result.get("lessons") or [])}
                   for topic, result in (row.topic_results or {}).items()],
    } for row in run(
        select(Attempt.enrolment_id, Attempt.number, Attempt.status, Attempt.started_at,
               Attempt.deadline_at, Attempt.submitted_at, Attempt.auto_submitted,
               Attempt.correct, Attempt.total, Attempt.passed, Attempt.topic_results)
        .where(Attempt.enrolment_id.in_(mine)).order_by(Attempt.enrolment_id, Attempt.number))]

    adjustments = [{
        "enrolment_id": row.enrolment_id, "kind": row.kind.value.replace("_", " "),
        "value": row.value, "reason": row.reason, "granted_at": _iso(row.created_at),
    } for row in run(
        select(Adjustment.enrolment_id, Adjustment.kind, Adjustment.value, Adjustment.reason,
               Adjustment.created_at)
        .where(Adjustment.enrolment_id.in_(mine)).order_by(Adjustment.created_at))]

    endorsements = [{
        "public_id": e.public_id, "page": credential_url(e.public_id),
        "pathway": e.pathway.short_label, "phase": e.phase.label,
        "course_version": e.course_version, "passed_at": _iso(e.passed_at),
        "issued_at": _iso(e.issued_at), "valid_from": _iso(e.valid_from),
        "valid_until": _iso(e.valid_until), "status": e.status.label,
        "status_changed_at": _iso(e.status_changed_at), "status_reason": e.status_reason,
        "credential": json.loads(e.credential),
    } for e in db.session.scalars(
        select(Endorsement).where(Endorsement.user_id == user.id)
        .order_by(Endorsement.issued_at))]

    verification_checks = [{
        "endorsement": public_id, "provider": provider, "checked_at": _iso(checked_at),
    } for public_id, provider, checked_at in run(
        select(Endorsement.public_id, Provider.name, VerificationCheck.checked_at)
        .join(Endorsement, Endorsement.id == VerificationCheck.endorsement_id)
        .join(Provider, Provider.id == VerificationCheck.provider_id)
        .where(Endorsement.user_id == user.id).order_by(VerificationCheck.checked_at))]

    listed: dict[int, list[str]] = {}
    for entry_id, school in run(
            select(register_entry_schools.c.entry_id, School.name)
            .join(School, School.id == register_entry_schools.c.school_id)
            .join(RegisterEntry, RegisterEntry.id == register_entry_schools.c.entry_id)
            .where(RegisterEntry.user_id == user.id).order_by(School.name)):
        listed.setdefault(entry_id, []).append(school)
    register_entries = [{
        "trust": trust, "status": e.status.label, "status_since": _iso(e.status_since),
        "reasons": list(e.reasons or []), "schools": listed.get(e.id, []),
        "subject": e.subject, "dbs_check_due_on": _iso(e.dbs_due_on),
        "training_due_on": _iso(e.training_due_on), "added_at": _iso(e.added_at),
        "removed_at": _iso(e.removed_at), "removed_reason": e.removed_reason,
    } for e, trust in run(
        select(RegisterEntry, Trust.name).join(Trust, Trust.id == RegisterEntry.trust_id)
        .where(RegisterEntry.user_id == user.id).order_by(RegisterEntry.added_at)).all()]

    checks = run(select(DbsCheck, Trust.name).join(Trust, Trust.id == DbsCheck.trust_id)
                 .where(DbsCheck.user_id == user.id).order_by(DbsCheck.issued_on)).all()
    trainings = run(select(SafeguardingTraining, Trust.name)
                    .join(Trust, Trust.id == SafeguardingTraining.trust_id)
                    .where(SafeguardingTraining.user_id == user.id)
                    .order_by(SafeguardingTraining.completed_on)).all()
    last_status_check = dict(run(
        select(DbsStatusCheck.dbs_check_id, func.max(DbsStatusCheck.checked_on))
        .join(DbsCheck, DbsCheck.id == DbsStatusCheck.dbs_check_id)
        .where(DbsCheck.user_id == user.id).group_by(DbsStatusCheck.dbs_check_id)).all())
    policies = register_policies(
        {c.trust_id for c, _ in checks} | {t.trust_id for t, _ in trainings})
    dbs_checks = [{
        # Only what the app itself shows: never who saw it, barred lists or any detail.
        "trust": trust, "certificate_number": masked(certificate_number(c)),
        "issued_on": _iso(c.issued_on), "level": c.level.label,
        "workforce": c.workforce.label, "update_service": c.update_service,
        "next_check_due_on": _iso(dbs_due_on(policies[c.trust_id], c.issued_on,
                                              c.update_service, last_status_check.get(c.id))),
        "showed_information": c.showed_information,
        "risk_decision": c.risk_decision.label if c.risk_decision else None,
        "risk_decision_on": _iso(c.risk_decision_on),
    } for c, trust in checks]
    safeguarding_training = [{
        "trust": trust, "completed_on": _iso(t.completed_on), "course": t.course,
        "due_again_on": _iso(add_months(t.completed_on, policies[t.trust_id].training_months)),
    } for t, trust in trainings]

    emails = [{"subject": subject, "created_at": _iso(created_at), "sent_at": _iso(sent_at)}
              for subject, created_at, sent_at in run(
                  select(OutboxEmail.subject, OutboxEmail.created_at, OutboxEmail.sent_at)
                  .where(OutboxEmail.to_address == user.email)
                  .order_by(OutboxEmail.created_at, OutboxEmail.id))]

    return {
        "about": ABOUT,
        "generated_at": _iso(clock.now()),
        "account": {"name": user.name, "email": user.email,
                    "created_at": _iso(user.created_at),
                    "last_signed_in_at": _iso(user.last_signed_in_at),
                    "email_verified_at": _iso(user.email_verified_at),
                    "active": user.is_active},
        "memberships": memberships,
        "nominations": nominations,
        "enrolments": enrolments,
        "lesson_progress": lesson_progress,
        "scenario_answers": scenario_answers,
        "formative_checks": formative_checks,
        "summative_attempts": summative_attempts,
        "adjustments": adjustments,
        "endorsements": endorsements,
        "verification_checks": verification_checks,
        "register_entries": register_entries,
        "dbs_checks": dbs_checks,
        "safeguarding_training": safeguarding_training,
        "emails": emails,
    }


# --- erasure ------------------------------------------------------------------------------


@dataclass
class ErasureReport:
    """What an erasure changed, by kind. A second erasure of the same person finds nothing."""

    user_id: int
    account_anonymised: int = 0
    memberships_ended: int = 0
    nominations_withdrawn: int = 0
    nominations_anonymised: int = 0
    register_entries_removed: int = 0
    endorsements_revoked: int = 0
    credentials_erased: int = 0
    dbs_checks_deleted: int = 0
    dbs_status_checks_deleted: int = 0
    training_records_deleted: int = 0
    emails_deleted: int = 0
    nomination_imports_cleaned: int = 0

    LABELS = {
        "account_anonymised": "Account anonymised and closed",
        "memberships_ended": "Roles ended",
        "nominations_withdrawn": "Open nominations withdrawn",
        "nominations_anonymised": "Nominations anonymised",
        "register_entries_removed": "Register entries removed",
        "endorsements_revoked": "Endorsements revoked",
        "credentials_erased": "Signed credentials replaced by a stub",
        "dbs_checks_deleted": "DBS checks deleted",
        "dbs_status_checks_deleted": "DBS Update Service status checks deleted",
        "training_records_deleted": "Safeguarding training records deleted",
        "emails_deleted": "Emails to them deleted from the outbox",
        "nomination_imports_cleaned": "Nomination CSV uploads with their row removed",
    }

    def counts(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "user_id"}

    def lines(self) -> list[tuple[str, int]]:
        return [(self.LABELS[name], count) for name, count in self.counts().items()]

    @property
    def total(self) -> int:
        return sum(self.counts().values())


#: Account columns an erasure keeps; every other is emptied (or reset to its default), so
#: columns added later (two-factor secrets, recovery codes) are cleared without a change here.
_KEPT_ACCOUNT_COLUMNS = {"id", "email", "name", "created_at", "deactivated_at"}


def _anonymise_account(user: User, now: datetime) -> bool:
    values: dict[str, Any] = {"name": ERASED_NAME, "email": erased_email(user.id)}
    for attribute in inspect(User).column_attrs:
        column = attribute.columns[0]
        if attribute.key in _KEPT_ACCOUNT_COLUMNS or column.primary_key:
            continue
        if column.nullable:
            values[attribute.key] = None
        elif column.default is not None and column.default.is_scalar:
            values[attribute.key] = column.default.arg
    changed = audit.diff(user, **values)
    if user.deactivated_at is None:
        user.deactivated_at = now
        changed["deactivated_at"] = (None, now)
    return bool(changed)


def _scrub_imports(email: str, user_id: int) -> int:
    """Blank the person's row in nomination CSV uploads (kept for the import job), keeping the
    line so every other row keeps its line number, and their address in the row reports."""
    pattern = re.compile(re.escape(email), re.IGNORECASE)
    cleaned = 0
    for upload in db.session.scalars(select(NominationImport).where(
            func.lower(NominationImport.content).contains(email, autoescape=True))):
        lines = upload.content.splitlines(keepends=True)
        upload.content = "".join(
            ("\r\n" if line.endswith("\r\n") else "\n" if line.endswith("\n") else "")
            if pattern.search(line) else line for line in lines)
        upload.row_errors = [{**row, "reason": pattern.sub(erased_email(user_id),
                                                           str(row.get("reason", "")))}
                             for row in upload.row_errors or []]
        cleaned += 1
    return cleaned


_ACTIONS = {DbsStatusCheck: "dbs_status_check", DbsCheck: "dbs_check",
            SafeguardingTraining: "safeguarding_training"}


def erase_person(user: User, *, reason: str, actor: User | None) -> ErasureReport:
    """Erase a person's personal data at their request, in the caller's transaction.

    Their endorsements are revoked (the status-list bit stays set for good) and the signed
    credentials replaced by stubs naming nobody; the account is anonymised and closed, roles
    ended, nominations anonymised, register entries removed, DBS checks, status checks,
    training records, emails to them and their own written scenario answers deleted. Progress
    and results stay, naming nobody. Safeguarding concerns they raised, or that name them, are
    kept: they are the school's child-protection record, not this person's to erase.
    The audit log is never touched; the erasure itself is recorded there by ids.
    """
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason for the erasure: the audit log keeps it.",
                          field="reason")
    if len(reason) > 1000:
        raise DomainError("The reason must be 1,000 characters or fewer.", field="reason")
    if actor is not None and actor.id == user.id:
        raise DomainError("You cannot erase your own account. Ask another programme admin.")
    # Hold the account: two erasures at once run one after the other.
    db.session.flush()
    db.session.refresh(user, with_for_update=True)
    if user.is_programme_admin:
        raise DomainError("This person is a programme admin. Remove that role first; then "
                          "their data can be erased.")
    now = clock.now()
    report = ErasureReport(user.id)
    old_email = user.email
    addresses = {old_email, erased_email(user.id)}
    was_erased = is_erased(user)

    # The account first, so nothing sent or recorded from here on carries their name.
    report.account_anonymised = int(_anonymise_account(user, now))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    # What they wrote in their own words may say anything about them or the pupils they know.
    db.session.execute(delete(ScenarioAnswer).where(ScenarioAnswer.enrolment_id.in_(
        select(Enrolment.id).where(Enrolment.user_id == user.id))))
    # A concern they never sent is theirs alone; one they sent is the school's safeguarding
    # record and is kept (the privacy notice says why and for how long).
    from lms.safeguarding.models import ConcernDraft

    db.session.execute(delete(ConcernDraft).where(ConcernDraft.user_id == user.id))
    # Words about them (an observer's notes) or by them (their comments on the course) go;
    # the scores and ratings stay, naming nobody, as results do.
    from lms.feedback.models import LeaderSurvey, ModuleRating
    from lms.observations.models import Observation, ObservationScore

    observed = select(Observation.id).where(Observation.tutor_id == user.id)
    db.session.execute(update(Observation).where(Observation.tutor_id == user.id)
                       .values(comment="", next_step=""))
    db.session.execute(update(ObservationScore).where(
        ObservationScore.observation_id.in_(observed)).values(note=""))
    db.session.execute(update(ModuleRating).where(ModuleRating.user_id == user.id)
                       .values(comment=""))
    # A leader's survey about them, or by them: the answers stay, the words go.
    db.session.execute(update(LeaderSurvey).where(
        or_(LeaderSurvey.tutor_id == user.id, LeaderSurvey.leader_id == user.id),
        LeaderSurvey.missing.is_not(None)).values(missing=""))

    from lms.organisations.people import end_membership
    from lms.programme.nominations import withdraw_nomination

    for membership in db.session.scalars(select(Membership).where(
            Membership.user_id == user.id, Membership.ended_at.is_(None))).all():
        end_membership(membership, actor=actor, reason=REMOVAL_REASON)
        report.memberships_ended += 1

    for nomination in db.session.scalars(select(Nomination).where(or_(
            Nomination.candidate_email.in_(addresses),
            Nomination.id.in_(select(Enrolment.nomination_id)
                              .where(Enrolment.user_id == user.id))))).all():
        if nomination.status in OPEN_NOMINATION_STATUSES:
            withdraw_nomination(nomination, actor=actor, reason=REMOVAL_REASON)
            report.nominations_withdrawn += 1
        changes = audit.diff(nomination, candidate_name=ERASED_NAME,
                             candidate_email=erased_email(user.id),
                             trn=ERASED_TRN if nomination.trn else None)
        if changes:  # the trust's auditors see it happen; what it held stays out of the log
            audit.record("nomination.anonymised", nomination, actor=actor,
                         reason=REMOVAL_REASON, changes={"candidate": ("held", "erased")})
            report.nominations_anonymised += 1

    # Removed before the revocations, so those change no register status (and tell no one).
    for entry in db.session.scalars(select(RegisterEntry).where(
            RegisterEntry.user_id == user.id, RegisterEntry.removed_at.is_(None))).all():
        remove_from_register(entry, reason=REMOVAL_REASON, actor=actor)
        report.register_entries_removed += 1

    for endorsement in db.session.scalars(select(Endorsement).where(
            Endorsement.user_id == user.id).order_by(Endorsement.id)).all():
        if endorsement.status in (EndorsementStatus.ACTIVE, EndorsementStatus.SUSPENDED):
            revoke_endorsement(endorsement, reason=REVOCATION_REASON, actor=actor)
            report.endorsements_revoked += 1
        report.credentials_erased += erase_credential(endorsement, actor=actor)

    checks = db.session.scalars(select(DbsCheck).where(DbsCheck.user_id == user.id)).all()
    status_checks = db.session.scalars(select(DbsStatusCheck).where(
        DbsStatusCheck.dbs_check_id.in_([c.id for c in checks]))).all() if checks else []
    trainings = db.session.scalars(select(SafeguardingTraining).where(
        SafeguardingTraining.user_id == user.id)).all()
    # Each trust's auditors see that (and when) a record of theirs went, by its id.
    for row in (*status_checks, *checks, *trainings):
        audit.record(f"{_ACTIONS[type(row)]}.deleted", row, actor=actor, reason=REMOVAL_REASON,
                     trust_id=row.dbs_check.trust_id if isinstance(row, DbsStatusCheck)
                     else row.trust_id, changes={"deleted": (False, True)})
    for row in (*status_checks, *checks, *trainings):
        db.session.delete(row)
    db.session.flush()
    report.dbs_status_checks_deleted = len(status_checks)
    report.dbs_checks_deleted = len(checks)
    report.training_records_deleted = len(trainings)

    # Last: the revocations above emailed the (already anonymised) address.
    report.emails_deleted = db.session.execute(delete(OutboxEmail).where(
        func.lower(OutboxEmail.to_address).in_(addresses))).rowcount or 0
    report.nomination_imports_cleaned = _scrub_imports(old_email, user.id) \
        if not was_erased else 0

    if report.total or not was_erased:
        audit.record("user.erased", user, actor=actor, reason=reason, changes={
            "erased": (was_erased, True),
            **{name: (0, count) for name, count in report.counts().items() if count}})
    return report
