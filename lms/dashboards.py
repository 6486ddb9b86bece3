"""Every figure the dashboards, their exports and the board report show, each defined once.

A figure is a function of a ``Scope`` (what the person may see: the whole programme, a trust,
a cluster's schools, one school) and ``Filters`` (school, cluster, trust, pathway, phase, and a
date range that picks the candidates nominated within it). Pipeline figures read the
pipeline records (``lms.pipeline``); register figures read the register itself. Pages,
exports and the board report call the same functions, so they cannot disagree.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, and_, case, func, select

from lms import clock
from lms.authz import Action, can, cluster_ids_for, is_admin
from lms.extensions import db
from lms.models import (
    AuditEntry,
    Cluster,
    Enrolment,
    Nomination,
    Pathway,
    PipelineRecord,
    PipelineStage,
    School,
    Trust,
    TutoringPhase,
    User,
)

#: Stages a candidate is still training in, and stages that mean they were endorsed.
TRAINING_STAGES = (PipelineStage.IN_TRAINING, PipelineStage.READY_FOR_ASSESSMENT,
                   PipelineStage.FAILED_FIRST_ATTEMPT)
ENDORSED_STAGES = (PipelineStage.ENDORSED, PipelineStage.APPROVED)
#: The action list's rule: a deadline this close with less than this share of the course done.
DEADLINE_SOON = timedelta(days=7)
BEHIND_PERCENT = 70
EXPIRY_SOON = timedelta(days=60)
DUE_SOON_DAYS = 30
#: The most items of one action list read at once (a download holds this many).
ACTION_LIST_LIMIT = 1_000


# --- who sees what ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What one person's dashboard covers."""

    title: str
    #: The trusts covered; ``None`` for the whole programme.
    trust_ids: frozenset[int] | None
    #: The schools covered within them; ``None`` for all of their schools.
    school_ids: frozenset[int] | None
    #: The comparison table's rows: "school" within a trust, "trust" across the programme.
    by: str = "school"
    trust: Trust | None = None
    school: School | None = None

    @property
    def is_programme(self) -> bool:
        return self.trust_ids is None


def programme_scope(user: User) -> Scope | None:
    return Scope("All trusts", None, None, by="trust") if is_admin(user) else None


def trust_scope(user: User, trust: Trust) -> Scope | None:
    """A trust's dashboard: all of it for its central team, trustees and programme admins;
    a cluster lead's clusters; ``None`` for anyone else."""
    if can(user, Action.VIEW, trust):
        return Scope(trust.name, frozenset({trust.id}), None, trust=trust)
    clusters = {c for c in cluster_ids_for(user)}
    schools = frozenset(db.session.scalars(select(School.id).where(
        School.trust_id == trust.id, School.cluster_id.in_(clusters)))) if clusters else None
    if not schools:
        return None
    names = db.session.scalars(select(Cluster.name).where(
        Cluster.id.in_(clusters), Cluster.trust_id == trust.id).order_by(Cluster.name)).all()
    return Scope(f"{', '.join(names)} ({trust.name})", frozenset({trust.id}), schools,
                 trust=trust)


def school_scope(user: User, school: School) -> Scope | None:
    """One school's dashboard, for its school leaders and anyone who sees its trust or
    cluster."""
    if not can(user, Action.VIEW, school):
        return None
    return Scope(school.name, frozenset({school.trust_id}), frozenset({school.id}),
                 trust=school.trust, school=school)


@dataclass(frozen=True)
class Filters:
    school_id: int | None = None
    cluster_id: int | None = None
    trust_id: int | None = None
    pathway: Pathway | None = None
    phase: TutoringPhase | None = None
    #: Candidates nominated on or after / on or before these days (UK dates).
    nominated_from: date | None = None
    nominated_to: date | None = None

    def is_empty(self) -> bool:
        return self == Filters()


def _start_of(day: date) -> datetime:
    from credentials.register import LONDON

    return datetime.combine(day, time(), tzinfo=LONDON).astimezone(UTC)


def on_uk_days(column, first: date | None, last: date | None) -> list:
    """``column`` (a UTC time) falls on or after the UK date ``first`` and on or before
    ``last`` (either may be open): days as every report and search counts them."""
    found = []
    if first is not None:
        found.append(column >= _start_of(first))
    if last is not None:
        found.append(column < _start_of(last + timedelta(days=1)))
    return found


def record_conditions(scope: Scope, filters: Filters) -> list:
    """The pipeline records a scope covers, filtered."""
    found = []
    if scope.trust_ids is not None:
        found.append(PipelineRecord.trust_id.in_(scope.trust_ids))
    if scope.school_ids is not None:
        found.append(PipelineRecord.school_id.in_(scope.school_ids))
    if filters.trust_id is not None:
        found.append(PipelineRecord.trust_id == filters.trust_id)
    if filters.school_id is not None:
        found.append(PipelineRecord.school_id == filters.school_id)
    if filters.cluster_id is not None:
        found.append(PipelineRecord.cluster_id == filters.cluster_id)
    if filters.pathway is not None:
        found.append(PipelineRecord.pathway == filters.pathway)
    if filters.phase is not None:
        found.append(PipelineRecord.phase == filters.phase)
    found += on_uk_days(PipelineRecord.nominated_at, filters.nominated_from, filters.nominated_to)
    return found


def trust_ids_of(scope: Scope, filters: Filters) -> set[int] | None:
    """The trusts whose records a dashboard reads (to keep them fresh)."""
    if filters.trust_id is not None:
        return {filters.trust_id} if scope.trust_ids is None or filters.trust_id in \
            scope.trust_ids else set()
    return set(scope.trust_ids) if scope.trust_ids is not None else None


# --- the pipeline ----------------------------------------------------------------------------


def _rate(passed: int, taken: int) -> float | None:
    return round(100 * passed / taken, 1) if taken else None


@dataclass
class GroupFigures:
    """The pipeline of one school (or trust), or of everything in scope."""

    key: int | None
    name: str
    stages: dict[PipelineStage, int] = field(default_factory=dict)
    first_taken: int = 0
    first_passed: int = 0
    second_taken: int = 0
    second_passed: int = 0

    @property
    def total(self) -> int:
        return sum(self.stages.values())

    def count(self, *stages: PipelineStage) -> int:
        return sum(self.stages.get(stage, 0) for stage in stages)

    @property
    def in_training(self) -> int:
        return self.count(*TRAINING_STAGES)

    @property
    def endorsed(self) -> int:
        return self.count(*ENDORSED_STAGES)

    @property
    def approved(self) -> int:
        return self.count(PipelineStage.APPROVED)

    @property
    def endorsed_percent(self) -> float | None:
        return _rate(self.endorsed, self.total)

    @property
    def first_pass_rate(self) -> float | None:
        return _rate(self.first_passed, self.first_taken)

    @property
    def second_pass_rate(self) -> float | None:
        return _rate(self.second_passed, self.second_taken)

    def add(self, other: GroupFigures) -> None:
        for stage, count in other.stages.items():
            self.stages[stage] = self.stages.get(stage, 0) + count
        self.first_taken += other.first_taken
        self.first_passed += other.first_passed
        self.second_taken += other.second_taken
        self.second_passed += other.second_passed


@dataclass(frozen=True)
class StageCount:
    stage: PipelineStage
    count: int
    percent: float


@dataclass
class Pipeline:
    """Candidates by stage, in scope and per school (or per trust across the programme), with
    first and second attempts taken and passed per pathway."""

    overall: GroupFigures
    groups: list[GroupFigures]
    #: Per pathway: the figures of everyone in scope on it.
    pathways: dict[Pathway, GroupFigures] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.overall.total

    @property
    def stages(self) -> list[StageCount]:
        total = self.total
        return [StageCount(stage, self.overall.stages.get(stage, 0),
                           round(100 * self.overall.stages.get(stage, 0) / total, 1)
                           if total else 0.0) for stage in PipelineStage]


def pipeline(scope: Scope, filters: Filters) -> Pipeline:
    """One query: candidates counted by group, pathway and stage, with first and second
    attempts taken and passed."""
    group = PipelineRecord.trust_id if scope.by == "trust" else PipelineRecord.school_id
    rows = db.session.execute(
        select(group, PipelineRecord.pathway, PipelineRecord.stage, func.count(),
               func.count(PipelineRecord.first_attempt_at),
               func.sum(case((PipelineRecord.first_attempt_passed.is_(True), 1), else_=0)),
               func.count(PipelineRecord.second_attempt_at),
               func.sum(case((PipelineRecord.second_attempt_passed.is_(True), 1), else_=0)))
        .where(*record_conditions(scope, filters))
        .group_by(group, PipelineRecord.pathway, PipelineRecord.stage)).all()
    names = _names(scope.by, {row[0] for row in rows})
    groups: dict[int, GroupFigures] = {}
    pathways = {pathway: GroupFigures(None, pathway.label) for pathway in Pathway}
    for key, pathway, stage, count, first_taken, first_passed, second_taken, second_passed \
            in rows:
        group = groups.get(key) or groups.setdefault(key, GroupFigures(key, names.get(key, "")))
        for figures in (group, pathways[pathway]):
            figures.stages[stage] = figures.stages.get(stage, 0) + count
            figures.first_taken += first_taken
            figures.first_passed += first_passed or 0
            figures.second_taken += second_taken
            figures.second_passed += second_passed or 0
    overall = GroupFigures(None, scope.title)
    for figures in groups.values():
        overall.add(figures)
    return Pipeline(overall, sorted(groups.values(), key=lambda g: g.name), pathways)


def _names(by: str, keys: set[int]) -> dict[int, str]:
    if not keys:
        return {}
    model = Trust if by == "trust" else School
    return dict(db.session.execute(select(model.id, model.name).where(model.id.in_(keys))).all())


#: The comparison table's columns: key, heading, how to read it from a group's figures.
COMPARISON_COLUMNS = [
    ("name", "Name", lambda g: g.name),
    ("nominated", "Nominated", lambda g: g.total),
    ("training", "In training", lambda g: g.in_training),
    ("endorsed", "Endorsed", lambda g: g.endorsed),
    ("endorsed_percent", "Endorsed (%)", lambda g: g.endorsed_percent),
    ("approved", "On the register", lambda g: g.approved),
    ("first_pass_rate", "First-attempt pass rate (%)", lambda g: g.first_pass_rate),
    ("second_pass_rate", "Second-attempt pass rate (%)", lambda g: g.second_pass_rate),
    ("failed", "Failed", lambda g: g.count(PipelineStage.FAILED)),
    ("lapsed", "Lapsed", lambda g: g.count(PipelineStage.LAPSED)),
]


def sorted_groups(groups: list[GroupFigures], sort: str, descending: bool
                  ) -> list[GroupFigures]:
    """The comparison table sorted by one of its columns (empty figures last)."""
    read = dict((key, reader) for key, _, reader in COMPARISON_COLUMNS).get(sort)
    if read is None:
        return groups
    present = [g for g in groups if read(g) is not None]
    missing = [g for g in groups if read(g) is None]
    return sorted(present, key=read, reverse=descending) + missing


# --- leading indicators ----------------------------------------------------------------------


@dataclass(frozen=True)
class PassRate:
    pathway: Pathway | None
    first_taken: int
    first_passed: int
    second_taken: int
    second_passed: int

    @property
    def label(self) -> str:
        return self.pathway.short_label if self.pathway is not None else "All pathways"

    @property
    def first_rate(self) -> float | None:
        return _rate(self.first_passed, self.first_taken)

    @property
    def second_rate(self) -> float | None:
        return _rate(self.second_passed, self.second_taken)


def pass_rates_of(figures: Pipeline) -> list[PassRate]:
    """First- and second-attempt pass rates per pathway, then all pathways together."""
    rates = [PassRate(pathway, g.first_taken, g.first_passed, g.second_taken, g.second_passed)
             for pathway, g in figures.pathways.items()]
    overall = figures.overall
    return rates + [PassRate(None, overall.first_taken, overall.first_passed,
                             overall.second_taken, overall.second_passed)]


def pass_rates(scope: Scope, filters: Filters) -> list[PassRate]:
    return pass_rates_of(pipeline(scope, filters))


def median_days_to_endorsement(scope: Scope, filters: Filters) -> float | None:
    """Median whole days from nomination to endorsement, from the count of endorsements at
    each number of days (a few hundred rows however many tutors)."""
    counts = db.session.execute(
        select(PipelineRecord.days_to_endorsement, func.count())
        .where(*record_conditions(scope, filters),
               PipelineRecord.days_to_endorsement.is_not(None))
        .group_by(PipelineRecord.days_to_endorsement)
        .order_by(PipelineRecord.days_to_endorsement)).all()
    total = sum(count for _, count in counts)
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]
    values, seen = [], 0
    for days, count in counts:
        while wanted and wanted[0] < seen + count:
            values.append(days)
            wanted.pop(0)
        seen += count
    return statistics.mean(values)


@dataclass(frozen=True)
class TrainingProgress:
    """Tutors still working through the course, by progress against the time used."""

    at_risk: int
    behind: int
    on_track: int

    @property
    def total(self) -> int:
        return self.at_risk + self.behind + self.on_track


def at_risk(now: datetime) -> list:
    """A tutor in training whose deadline is within 7 days with under 70% of the course done."""
    return [PipelineRecord.deadline_at <= now + DEADLINE_SOON,
            func.coalesce(PipelineRecord.percent_done, 0) < BEHIND_PERCENT]


def progress_band(now: datetime):
    """At risk (see ``at_risk``), behind (less of the course done than of the window used:
    past the moment they were on track until) or on track."""
    return case(
        (and_(*at_risk(now)), "at_risk"),
        (func.coalesce(PipelineRecord.on_track_until, PipelineRecord.opened_at) < now,
         "behind"), else_="on_track")


def training_progress(scope: Scope, filters: Filters, now: datetime | None = None
                      ) -> TrainingProgress:
    now = now or clock.now()
    band = progress_band(now)
    bands = dict(db.session.execute(
        select(band, func.count())
        .where(*record_conditions(scope, filters),
               PipelineRecord.stage == PipelineStage.IN_TRAINING).group_by(band)).all())
    return TrainingProgress(bands.get("at_risk", 0), bands.get("behind", 0),
                            bands.get("on_track", 0))


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
    from credentials.models import Endorsement, RegisterEntry, register_entry_schools

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
    from credentials import register
    from credentials.models import Endorsement, EndorsementStatus, RegisterEntry, RegisterStatus

    now = now or clock.now()
    on = register.today(now)
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
    return lists


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
        from credentials.models import RegisterStatus

        return [(status.label, self.statuses.get(status.value, 0)) for status in RegisterStatus]


def register_compliance(scope: Scope, filters: Filters, now: datetime | None = None
                        ) -> RegisterCompliance:
    """One query: entries by status, with the checks and training overdue or due soon."""
    from credentials import register
    from credentials.models import RegisterEntry

    on = register.today(now)
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


# --- a school's candidates -------------------------------------------------------------------

#: Candidates still on their way, whom a school leader or the central team may nudge.
NUDGE_STAGES = (PipelineStage.INVITED, PipelineStage.IN_TRAINING,
                PipelineStage.READY_FOR_ASSESSMENT, PipelineStage.FAILED_FIRST_ATTEMPT)
#: What has to happen next for a candidate at each stage, and who does it.
NEXT_ACTIONS = {
    PipelineStage.AWAITING_APPROVAL: "Central team to approve or reject the nomination",
    PipelineStage.INVITED: "Candidate to accept the invitation",
    PipelineStage.NOT_STARTED: "None (nominate them again if they want to train)",
    PipelineStage.IN_TRAINING: "Tutor to finish the course",
    PipelineStage.READY_FOR_ASSESSMENT: "Tutor to sit the assessment",
    PipelineStage.FAILED_FIRST_ATTEMPT: "Tutor to revisit the flagged lessons and try again",
    PipelineStage.ENDORSED: "Record their DBS check and safeguarding training",
    PipelineStage.APPROVED: "None: approved on the register",
    PipelineStage.FAILED: "None (they may be nominated again)",
    PipelineStage.LAPSED: "None (they may be nominated again)",
    PipelineStage.WITHDRAWN: "None",
}


@dataclass(frozen=True)
class CandidateRow:
    """One nominee or tutor as their school sees them."""

    nomination_id: int
    enrolment_id: int | None
    name: str
    school: str
    stage: PipelineStage
    percent_done: int | None
    deadline_at: datetime | None
    #: Whole days to the deadline while their training is open (``Enrolment.days_left``).
    days_left: int | None

    @property
    def next_action(self) -> str:
        return NEXT_ACTIONS[self.stage]

    @property
    def can_be_nudged(self) -> bool:
        return self.stage in NUDGE_STAGES


def school_candidates(scope: Scope, filters: Filters, now: datetime | None = None
                      ) -> list[CandidateRow]:
    """Every candidate in scope with their stage, progress and days left, in the pipeline's
    order of stages, soonest deadline first within a stage (one query)."""
    now = now or clock.now()
    rows = db.session.execute(
        select(PipelineRecord.nomination_id, PipelineRecord.enrolment_id,
               Nomination.candidate_name, School.name, PipelineRecord.stage,
               PipelineRecord.percent_done, PipelineRecord.deadline_at)
        .join(Nomination, Nomination.id == PipelineRecord.nomination_id)
        .join(School, School.id == PipelineRecord.school_id)
        .where(*record_conditions(scope, filters))).all()
    order = {stage: index for index, stage in enumerate(PipelineStage)}
    open_stages = set(TRAINING_STAGES)
    found = [CandidateRow(
        nomination_id, enrolment_id, name, school, stage, percent, deadline_at,
        # The enrolment's own rule, applied to the deadline the record carries.
        Enrolment.days_left(_Deadline(deadline_at), now)
        if stage in open_stages and deadline_at is not None else None)
        for nomination_id, enrolment_id, name, school, stage, percent, deadline_at in rows]
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(found, key=lambda r: (order[r.stage], r.deadline_at or far,
                                        r.name.casefold(), r.nomination_id))


@dataclass(frozen=True)
class _Deadline:
    deadline_at: datetime


# --- one dashboard ---------------------------------------------------------------------------


@dataclass
class Dashboard:
    scope: Scope
    filters: Filters
    built_at: datetime | None
    pipeline: Pipeline
    pass_rates: list[PassRate]
    median_days: float | None
    progress: TrainingProgress
    actions: list[ActionList]
    register: RegisterCompliance


def dashboard(scope: Scope, filters: Filters, now: datetime | None = None,
              items: int = ACTION_LIST_LIMIT) -> Dashboard:
    """Every figure of one dashboard, after bringing its trusts' pipeline records up to date
    (see ``lms.pipeline.refresh``), with the first ``items`` of each action list."""
    from lms import pipeline as records

    now = now or clock.now()
    trusts = trust_ids_of(scope, filters)
    records.refresh(trusts, now=now)
    figures = pipeline(scope, filters)
    compliance = register_compliance(scope, filters, now)
    progress = training_progress(scope, filters, now)
    return Dashboard(scope, filters, records.built_at(trusts), figures, pass_rates_of(figures),
                     median_days_to_endorsement(scope, filters), progress,
                     action_lists(scope, filters, now, items, figures=figures,
                                  compliance=compliance, progress=progress), compliance)


__all__ = ["Scope", "Filters", "Dashboard", "dashboard", "pipeline", "pass_rates",
           "median_days_to_endorsement", "training_progress", "action_lists",
           "register_compliance", "exceptions", "programme_scope", "trust_scope",
           "school_scope", "COMPARISON_COLUMNS", "sorted_groups", "school_candidates",
           "CandidateRow", "NUDGE_STAGES"]
