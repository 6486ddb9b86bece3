"""The dashboards figures, each defined once: the pipeline by stage, pass rates, days to
endorsement and progress against time left."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, select

from lms.insight.models import PipelineRecord, PipelineStage
from lms.insight.scopes import (
    BEHIND_PERCENT,
    DEADLINE_SOON,
    ENDORSED_STAGES,
    TRAINING_STAGES,
    Filters,
    Scope,
    record_conditions,
)
from lms.organisations.models import School, Trust
from lms.platform import clock
from lms.platform.extensions import db
from lms.programme.models import Pathway

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

