"""The action lists (who needs chasing, one click from each record), register compliance and
exceptions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, case, func, select

from lms.accounts.models import User
from lms.audit.models import AuditEntry
from lms.insight.figures import Pipeline, TrainingProgress, _rate, at_risk
from lms.insight.models import PipelineRecord, PipelineStage
from lms.insight.scopes import (
    ACTION_LIST_LIMIT,
    BEHIND_PERCENT,
    DEADLINE_SOON,
    DUE_SOON_DAYS,
    EXPIRY_SOON,
    Filters,
    Scope,
    on_uk_days,
    record_conditions,
)
from lms.organisations.models import School
from lms.platform import clock
from lms.platform.extensions import db
from lms.programme.models import Nomination

# --- action lists ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionItem:
    name: str
    detail: str
    #: The record it leads to: an endpoint and its arguments.
    endpoint: str
    args: dict
    school: str = ""


@dataclass(frozen=True)
class ActionList:
    key: str
    title: str
    count: int
    items: list[ActionItem]


def _day(moment: datetime | date) -> str:
    return f"{moment:%-d %b %Y}"


def _pipeline_list(scope: Scope, filters: Filters, key: str, title: str, conditions: list,
                   order, detail, link, limit: int, count: int | None = None) -> ActionList:
    """An action list read from the pipeline records (``count`` when the caller knows it)."""
    where = [*record_conditions(scope, filters), *conditions]
    if count is None:
        count = db.session.scalar(select(func.count()).select_from(PipelineRecord)
                                  .where(*where))
    rows = db.session.execute(
        select(PipelineRecord, Nomination.candidate_name, School.name)
        .join(Nomination, Nomination.id == PipelineRecord.nomination_id)
        .join(School, School.id == PipelineRecord.school_id)
        .where(*where).order_by(order, PipelineRecord.id).limit(limit)).all()
    return ActionList(key, title, count, [
        ActionItem(name, detail(record), *link(record), school=school)
        for record, name, school in rows])


def _register_conditions(scope: Scope, filters: Filters, model) -> list:
    """Register entries and endorsements in scope (by trust, and by school when the scope or a
    filter names schools)."""
    from credentials.endorsements.models import Endorsement
    from credentials.register.models import RegisterEntry, register_entry_schools

    found = []
    trust_column = model.trust_id
    if scope.trust_ids is not None:
        found.append(trust_column.in_(scope.trust_ids))
    if filters.trust_id is not None:
        found.append(trust_column == filters.trust_id)
    schools = select(School.id)
    narrowed = False
    if scope.school_ids is not None:
        schools, narrowed = schools.where(School.id.in_(scope.school_ids)), True
    if filters.school_id is not None:
        schools, narrowed = schools.where(School.id == filters.school_id), True
    if filters.cluster_id is not None:
        schools, narrowed = schools.where(School.cluster_id == filters.cluster_id), True
    if narrowed:
        if model is RegisterEntry:
            found.append(RegisterEntry.id.in_(
                select(register_entry_schools.c.entry_id)
                .where(register_entry_schools.c.school_id.in_(schools))))
        else:
            found.append(Endorsement.school_id.in_(schools))
    if model is Endorsement:
        if filters.pathway is not None:
            found.append(Endorsement.pathway == filters.pathway)
        if filters.phase is not None:
            found.append(Endorsement.phase == filters.phase)
    return found


def _register_list(key: str, title: str, model, query: Select, conditions: list, order, item,
                   limit: int, count: int | None = None) -> ActionList:
    """An action list read from the register (``count`` when the caller knows it)."""
    if count is None:
        count = db.session.scalar(select(func.count()).select_from(model).where(*conditions))
    # The first few picked from the model's table alone, then joined to names: joining first
    # would join a whole register to the people table to keep a handful of rows.
    first = select(model.id).where(*conditions).order_by(*order).limit(limit)
    rows = db.session.execute(query.where(model.id.in_(first.scalar_subquery()))
                              .order_by(*order)).all()
    return ActionList(key, title, count, [item(row) for row in rows])


def action_lists(scope: Scope, filters: Filters, now: datetime | None = None,
                 limit: int = ACTION_LIST_LIMIT, *, figures: Pipeline | None = None,
                 compliance: RegisterCompliance | None = None,
                 progress: TrainingProgress | None = None) -> list[ActionList]:
    """What needs someone's attention, each item one click from its record; the first
    ``limit`` of each list, most urgent first, with the full count. A list that is a whole
    stage, register status or progress band counts it from ``figures``, ``compliance`` or
    ``progress`` when given, so the page can never show two different numbers for it."""
    from credentials.endorsements.models import Endorsement, EndorsementStatus
    from credentials.register import services as register
    from credentials.register.models import RegisterEntry, RegisterStatus

    now = now or clock.now()
    on = clock.today(now)
    stage_count = (lambda stage: figures.overall.stages.get(stage, 0)) if figures is not None \
        else (lambda stage: None)
    enrolment = lambda r: ("lms.enrolment", {"enrolment_id": r.enrolment_id})  # noqa: E731
    nomination = lambda r: ("lms.nomination", {"nomination_id": r.nomination_id})  # noqa: E731
    lists = [
        _pipeline_list(
            scope, filters, "deadline_soon",
            f"Deadline within {DEADLINE_SOON.days} days, less than {BEHIND_PERCENT}% done",
            [PipelineRecord.stage == PipelineStage.IN_TRAINING, *at_risk(now)],
            PipelineRecord.deadline_at,
            lambda r: f"{r.percent_done or 0}% done; deadline {_day(r.deadline_at)}",
            enrolment, limit, progress.at_risk if progress is not None else None),
        _pipeline_list(
            scope, filters, "second_attempt", "Failed the first attempt: second still to come",
            [PipelineRecord.stage == PipelineStage.FAILED_FIRST_ATTEMPT],
            PipelineRecord.deadline_at,
            lambda r: f"First attempt {_day(r.first_attempt_at)}; deadline "
                      f"{_day(r.deadline_at)}", enrolment, limit,
            stage_count(PipelineStage.FAILED_FIRST_ATTEMPT)),
        _pipeline_list(
            scope, filters, "invitations", "Invitations not accepted",
            [PipelineRecord.stage == PipelineStage.INVITED], PipelineRecord.nominated_at,
            lambda r: f"Invited {_day(r.invited_at)}" if r.invited_at else "Approved, not "
                      "yet invited", nomination, limit, stage_count(PipelineStage.INVITED)),
        _pipeline_list(
            scope, filters, "approvals", "Nominations awaiting approval",
            [PipelineRecord.stage == PipelineStage.AWAITING_APPROVAL],
            PipelineRecord.nominated_at, lambda r: f"Nominated {_day(r.nominated_at)}",
            nomination, limit, stage_count(PipelineStage.AWAITING_APPROVAL)),
    ]
    horizon = on + timedelta(days=DUE_SOON_DAYS)
    entries = _register_conditions(scope, filters, RegisterEntry)
    first_due = case((RegisterEntry.training_due_on.is_(None), RegisterEntry.dbs_due_on),
                     (RegisterEntry.dbs_due_on.is_(None), RegisterEntry.training_due_on),
                     (RegisterEntry.dbs_due_on <= RegisterEntry.training_due_on,
                      RegisterEntry.dbs_due_on), else_=RegisterEntry.training_due_on)
    lists.append(_register_list(
        "checks_due",
        f"DBS checks and safeguarding training due within {DUE_SOON_DAYS} days or overdue",
        RegisterEntry,
        register.due_entries(horizon).add_columns(User.name)
        .join(User, User.id == RegisterEntry.user_id),
        [*entries, register.due_condition(horizon)], (first_due, RegisterEntry.id),
        lambda row: ActionItem(row.name, "; ".join(
            f"{what} {'overdue since' if due_on <= on else 'due'} {_day(due_on)}"
            for what, due_on in register.dues_of(row, horizon)),
            "credentials.person_records", {"trust_id": row.trust_id, "user_id": row.user_id}),
        limit, compliance.checks_due if compliance is not None else None))
    lists.append(_register_list(
        "expiring", f"Endorsements expiring within {EXPIRY_SOON.days} days", Endorsement,
        select(Endorsement.id, Endorsement.valid_until, User.name, School.name.label("school"))
        .join(User, User.id == Endorsement.user_id)
        .join(School, School.id == Endorsement.school_id),
        [Endorsement.status == EndorsementStatus.ACTIVE, Endorsement.valid_until > now,
         Endorsement.valid_until <= now + EXPIRY_SOON,
         *_register_conditions(scope, filters, Endorsement)],
        (Endorsement.valid_until, Endorsement.id),
        lambda row: ActionItem(row.name, f"Expires {_day(row.valid_until)}",
                               "credentials.endorsement", {"endorsement_id": row.id},
                               school=row.school), limit))
    lists.append(_register_list(
        "suspended", "Register entries suspended", RegisterEntry,
        select(RegisterEntry.trust_id, RegisterEntry.user_id, RegisterEntry.status_since,
               RegisterEntry.reasons, User.name).join(User, User.id == RegisterEntry.user_id),
        [RegisterEntry.status == RegisterStatus.SUSPENDED, *entries],
        (RegisterEntry.status_since, RegisterEntry.id),
        lambda row: ActionItem(row.name, f"Since {_day(row.status_since)}: "
                                         + "; ".join(row.reasons[:2]),
                               "credentials.person_records",
                               {"trust_id": row.trust_id, "user_id": row.user_id}), limit,
        compliance.statuses.get("suspended", 0) if compliance is not None else None))
    if scope.trust_ids is not None and len(scope.trust_ids) == 1 and scope.school_ids is None:
        lists.append(_schools_without_dsl(next(iter(scope.trust_ids)), limit))
    return lists


def _schools_without_dsl(trust_id: int, limit: int) -> ActionList:
    """Schools tutoring with no DSL or deputy on the platform: their concerns go straight to
    the trust safeguarding lead until one is appointed."""
    from lms.safeguarding.figures import schools_without_dsl

    schools = schools_without_dsl(trust_id)
    return ActionList(
        "no_dsl", "Schools tutoring with no designated safeguarding lead", len(schools),
        [ActionItem(s.name, "Appoint a DSL: its concerns go to the trust safeguarding lead",
                    "lms.trust_people", {"trust_id": trust_id}, school=s.name)
         for s in schools[:limit]])


# --- the register and safeguarding ------------------------------------------------------------


@dataclass(frozen=True)
class RegisterCompliance:
    """The register as it stands today."""

    statuses: dict[str, int]
    dbs_overdue: int
    dbs_due_soon: int
    training_overdue: int
    training_due_soon: int
    #: Entries (not removed) with a DBS check or training due within 30 days or overdue.
    checks_due: int = 0

    @property
    def listed(self) -> int:
        """Entries not removed."""
        return sum(n for status, n in self.statuses.items() if status != "removed")

    @property
    def approved_percent(self) -> float | None:
        return _rate(self.statuses.get("approved", 0), self.listed)

    @property
    def by_status(self) -> list[tuple[str, int]]:
        """Every status, in the register's order, with its count (0 where there is none)."""
        from credentials.register.models import RegisterStatus

        return [(status.label, self.statuses.get(status.value, 0)) for status in RegisterStatus]


def register_compliance(scope: Scope, filters: Filters, now: datetime | None = None
                        ) -> RegisterCompliance:
    """One query: entries by status, with the checks and training overdue or due soon."""
    from credentials.register import services as register
    from credentials.register.models import RegisterEntry

    on = clock.today(now)
    soon = on + timedelta(days=DUE_SOON_DAYS)
    live = RegisterEntry.removed_at.is_(None)

    def counted(*conditions):
        return func.sum(case((and_(live, *conditions), 1), else_=0))

    rows = db.session.execute(
        select(RegisterEntry.status, func.count(),
               counted(RegisterEntry.dbs_due_on <= on),
               counted(RegisterEntry.dbs_due_on > on, RegisterEntry.dbs_due_on <= soon),
               counted(RegisterEntry.training_due_on <= on),
               counted(RegisterEntry.training_due_on > on,
                       RegisterEntry.training_due_on <= soon),
               counted(register.due_condition(soon)))
        .where(*_register_conditions(scope, filters, RegisterEntry))
        .group_by(RegisterEntry.status)).all()
    totals = [sum(int(row[i] or 0) for row in rows) for i in range(2, 7)]
    return RegisterCompliance({status.value: count for status, count, *_ in rows}, *totals)


# --- exceptions, for the board ------------------------------------------------------------------

EXCEPTION_ACTIONS = {
    "enrolment.extended": "Deadline extended",
    "adjustment.granted": "Assessment adjustment",
    "enrolment.withdrawn": "Training withdrawn",
    "endorsement.suspended": "Endorsement suspended",
    "endorsement.reinstated": "Endorsement reinstated",
    "endorsement.revoked": "Endorsement revoked",
    "register_entry.removed": "Removed from the register",
}


@dataclass(frozen=True)
class ExceptionItem:
    at: datetime
    kind: str
    reason: str | None


def exceptions(trust_ids: set[int] | None, start: date, end: date) -> list[ExceptionItem]:
    """Decisions outside the usual path taken between ``start`` and ``end`` (UK dates), with
    their reasons, from the audit log. Never names the tutor: the board sees what was
    decided and why."""
    query = (select(AuditEntry.created_at, AuditEntry.action, AuditEntry.reason)
             .where(AuditEntry.action.in_(EXCEPTION_ACTIONS),
                    *on_uk_days(AuditEntry.created_at, start, end))
             .order_by(AuditEntry.created_at, AuditEntry.id))
    if trust_ids is not None:
        query = query.where(AuditEntry.trust_id.in_(trust_ids))
    return [ExceptionItem(at, EXCEPTION_ACTIONS[action], reason)
            for at, action, reason in db.session.execute(query)]

