"""The pipeline as the dashboards read it: one record per nominated candidate, rebuilt from the
live records (nominations, enrolments, progress, attempts, endorsements, the register).

Dashboards for a whole trust, or the whole programme, count tens of thousands of candidates;
joining the live tables for every page would take seconds. Instead each trust's records are
rebuilt in one pass: every minute by the beat for trusts with activity since their last build,
on a page view when the trust's records are older than ``DASHBOARD_MAX_AGE_SECONDS`` and
something happened since, and at once when someone asks for fresh figures. Every page says how
old its figures are.

``stage_of`` is the one definition of where a candidate is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from lms.audit.models import AuditEntry
from lms.insight.models import PipelineBuild, PipelineRecord, PipelineStage
from lms.organisations.models import School, Trust
from lms.platform import bulk, clock
from lms.platform.extensions import db
from lms.programme.models import Enrolment, EnrolmentStatus, Nomination, NominationStatus

#: Activity stamped this long before a build may belong to a transaction the build could not
#: see yet (it committed a moment later), so it still marks the trust as changed.
COMMIT_MARGIN = timedelta(seconds=60)
_ADVISORY_LOCK = 7_305_192


@dataclass(frozen=True)
class AttemptFacts:
    number: int
    submitted_at: datetime | None
    passed: bool | None


def stage_of(nomination_status: NominationStatus, enrolment_status: EnrolmentStatus | None,
             *, course_complete: bool, attempts: Iterable[AttemptFacts],
             register_status: str | None) -> PipelineStage:
    """Where a candidate is now: before training by their nomination, then by their
    enrolment, their course and attempts, and, once endorsed, their register entry."""
    if enrolment_status is None:
        if nomination_status == NominationStatus.SUBMITTED:
            return PipelineStage.AWAITING_APPROVAL
        if nomination_status in (NominationStatus.APPROVED, NominationStatus.INVITED):
            return PipelineStage.INVITED
        return PipelineStage.NOT_STARTED
    if enrolment_status == EnrolmentStatus.ACTIVE:
        if any(a.submitted_at is not None and a.passed is False for a in attempts):
            return PipelineStage.FAILED_FIRST_ATTEMPT
        if course_complete:
            return PipelineStage.READY_FOR_ASSESSMENT
        return PipelineStage.IN_TRAINING
    if enrolment_status == EnrolmentStatus.PASSED:
        return (PipelineStage.APPROVED if register_status == "approved"
                else PipelineStage.ENDORSED)
    return {EnrolmentStatus.FAILED: PipelineStage.FAILED,
            EnrolmentStatus.LAPSED: PipelineStage.LAPSED,
            EnrolmentStatus.WITHDRAWN: PipelineStage.WITHDRAWN}[enrolment_status]


# --- rebuilding -------------------------------------------------------------------------------


def _lock() -> None:
    """One rebuild at a time (the beat's and a page's could overlap): on PostgreSQL an
    advisory lock held to the end of the transaction; SQLite serialises writers anyway."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(_ADVISORY_LOCK)))


def rebuild(trust_ids: Iterable[int] | None = None, *, now: datetime | None = None) -> int:
    """Rebuild the records of these trusts (all when ``None``); returns how many were
    written. Runs in the caller's transaction."""
    from assessments.attempts.models import Attempt, AttemptStatus
    from courses.queries import completions
    from credentials.endorsements.models import Endorsement
    from credentials.register.models import RegisterEntry

    now = now or clock.now()
    _lock()
    trusts = (sorted(set(trust_ids)) if trust_ids is not None
              else list(db.session.scalars(select(Trust.id))))
    if not trusts:
        return 0
    db.session.execute(delete(PipelineRecord).where(PipelineRecord.trust_id.in_(trusts)))
    db.session.execute(delete(PipelineBuild).where(PipelineBuild.trust_id.in_(trusts)))
    of_trusts = Nomination.trust_id.in_(trusts)
    enrolled = select(Enrolment.id).where(Enrolment.trust_id.in_(trusts))
    active = enrolled.where(Enrolment.status == EnrolmentStatus.ACTIVE)

    enrolments = {row.nomination_id: row for row in db.session.execute(
        select(Enrolment.id, Enrolment.nomination_id, Enrolment.user_id, Enrolment.status,
               Enrolment.opened_at, Enrolment.deadline_at)
        .where(Enrolment.trust_id.in_(trusts)))}
    attempts: dict[int, list[AttemptFacts]] = {}
    for enrolment_id, number, submitted_at, passed in db.session.execute(
            select(Attempt.enrolment_id, Attempt.number, Attempt.submitted_at, Attempt.passed)
            .where(Attempt.enrolment_id.in_(enrolled),
                   Attempt.status == AttemptStatus.SUBMITTED)
            .order_by(Attempt.enrolment_id, Attempt.number)):
        attempts.setdefault(enrolment_id, []).append(AttemptFacts(number, submitted_at, passed))
    endorsements = {row.enrolment_id: row for row in db.session.execute(
        select(Endorsement.enrolment_id, Endorsement.issued_at, Endorsement.status,
               Endorsement.valid_until).where(Endorsement.enrolment_id.in_(enrolled)))}
    registered = {(trust_id, user_id): status.value for trust_id, user_id, status in
                  db.session.execute(select(RegisterEntry.trust_id, RegisterEntry.user_id,
                                            RegisterEntry.status)
                                     .where(RegisterEntry.trust_id.in_(trusts)))}
    progress = completions(active)

    records = []
    for row in db.session.execute(
            select(Nomination.id, Nomination.trust_id, Nomination.school_id,
                   Nomination.pathway, Nomination.tutoring_phase, Nomination.status,
                   Nomination.created_at, Nomination.invited_at, School.trust_id,
                   School.cluster_id)
            .join(School, School.id == Nomination.school_id).where(of_trusts)):
        (nomination_id, trust_id, school_id, pathway, phase, status, nominated_at,
         invited_at, school_trust_id, cluster_id) = row
        enrolment = enrolments.get(nomination_id)
        tried = attempts.get(enrolment.id, []) if enrolment else []
        endorsement = endorsements.get(enrolment.id) if enrolment else None
        register_status = registered.get((trust_id, enrolment.user_id)) if enrolment else None
        done = progress.get(enrolment.id) if enrolment else None
        first = next((a for a in tried if a.number == 1), None)
        second = next((a for a in tried if a.number == 2), None)
        records.append({
            "nomination_id": nomination_id, "trust_id": trust_id, "school_id": school_id,
            "cluster_id": cluster_id if school_trust_id == trust_id else None,
            "user_id": enrolment.user_id if enrolment else None,
            "enrolment_id": enrolment.id if enrolment else None,
            "pathway": pathway, "phase": phase,
            "stage": stage_of(status, enrolment.status if enrolment else None,
                              course_complete=done is not None and done.complete,
                              attempts=tried, register_status=register_status),
            "nominated_at": nominated_at, "invited_at": invited_at,
            "opened_at": enrolment.opened_at if enrolment else None,
            "deadline_at": enrolment.deadline_at if enrolment else None,
            "percent_done": done.percent if done else None,
            "on_track_until": enrolment.opened_at + (enrolment.deadline_at
                                                     - enrolment.opened_at) * done.percent / 100
            if done else None,
            "attempts": len(tried),
            "first_attempt_at": first.submitted_at if first else None,
            "first_attempt_passed": first.passed if first else None,
            "second_attempt_at": second.submitted_at if second else None,
            "second_attempt_passed": second.passed if second else None,
            "endorsed_at": endorsement.issued_at if endorsement else None,
            "days_to_endorsement": (endorsement.issued_at - nominated_at).days
            if endorsement else None,
            "endorsement_status": endorsement.status.value if endorsement else None,
            "endorsement_valid_until": endorsement.valid_until if endorsement else None,
            "register_status": register_status,
        })
    bulk.insert_rows(PipelineRecord.__table__, records)
    bulk.insert_rows(PipelineBuild.__table__,
                     [{"trust_id": trust_id, "built_at": now} for trust_id in trusts])
    return len(records)


# --- keeping them fresh -----------------------------------------------------------------------


def max_age() -> timedelta:
    return timedelta(seconds=current_app.config["DASHBOARD_MAX_AGE_SECONDS"])


def built_at(trust_ids: Iterable[int] | None) -> datetime | None:
    """When the oldest of these trusts' records were built (None if one never was)."""
    query = select(func.min(PipelineBuild.built_at), func.count(PipelineBuild.trust_id))
    wanted = db.session.scalar(select(func.count(Trust.id))) if trust_ids is None else None
    if trust_ids is not None:
        trust_ids = set(trust_ids)
        wanted = len(trust_ids)
        query = query.where(PipelineBuild.trust_id.in_(trust_ids))
    oldest, count = db.session.execute(query).one()
    return oldest if count == wanted else None


def changed_trusts(trust_ids: Iterable[int] | None, *, older_than: timedelta = timedelta(0),
                   now: datetime | None = None) -> set[int]:
    """Trusts whose records were never built, or were built at least ``older_than`` ago and
    something has happened since (an audited change, a lesson opened, a check answered)."""
    from assessments.checks.models import FormativeResult
    from courses.models import LessonProgress

    now = now or clock.now()
    wanted = (set(trust_ids) if trust_ids is not None
              else set(db.session.scalars(select(Trust.id))))
    builds = dict(db.session.execute(select(PipelineBuild.trust_id, PipelineBuild.built_at)
                                     .where(PipelineBuild.trust_id.in_(wanted))).all())
    due = {t for t, at in builds.items() if now - at >= older_than}
    stale = wanted - set(builds)
    if not due:
        return stale
    since = min(builds[t] for t in due) - COMMIT_MARGIN
    last: dict[int, datetime] = {}
    for query in (
            select(AuditEntry.trust_id, func.max(AuditEntry.created_at))
            .where(AuditEntry.created_at > since, AuditEntry.trust_id.in_(due))
            .group_by(AuditEntry.trust_id),
            select(Enrolment.trust_id, func.max(LessonProgress.last_seen_at))
            .join(Enrolment, Enrolment.id == LessonProgress.enrolment_id)
            .where(LessonProgress.last_seen_at > since, Enrolment.trust_id.in_(due))
            .group_by(Enrolment.trust_id),
            select(Enrolment.trust_id, func.max(FormativeResult.submitted_at))
            .join(Enrolment, Enrolment.id == FormativeResult.enrolment_id)
            .where(FormativeResult.submitted_at > since, Enrolment.trust_id.in_(due))
            .group_by(Enrolment.trust_id)):
        for trust_id, moment in db.session.execute(query):
            if moment is not None and (trust_id not in last or moment > last[trust_id]):
                last[trust_id] = moment
    return stale | {t for t in due if t in last and last[t] > builds[t] - COMMIT_MARGIN}


def refresh(trust_ids: Iterable[int] | None = None, *, older_than: timedelta | None = None,
            now: datetime | None = None) -> set[int]:
    """Rebuild the trusts (of these, or all) whose records are out of date; returns them.
    ``older_than`` spares records built so recently (default ``DASHBOARD_MAX_AGE_SECONDS``):
    a page view rebuilds only what the beat has let grow old."""
    now = now or clock.now()
    stale = changed_trusts(trust_ids, older_than=max_age() if older_than is None
                           else older_than, now=now)
    if stale:
        rebuild(stale, now=now)
    return stale
