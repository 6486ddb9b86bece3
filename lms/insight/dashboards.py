"""One dashboard: every figure of a scope put together, and a school's candidates by stage.

A figure is a function of a ``Scope`` (what the person may see: the whole programme, a trust,
a cluster's schools, one school) and ``Filters`` (school, cluster, trust, pathway, phase, and a
date range that picks the candidates nominated within it). Pipeline figures read the
pipeline records (``lms.insight.pipeline``); register figures read the register itself. Pages,
exports and the board report call the same functions, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from lms.insight.action_lists import (
    ActionList,
    RegisterCompliance,
    action_lists,
    register_compliance,
)
from lms.insight.figures import (
    PassRate,
    Pipeline,
    TrainingProgress,
    median_days_to_endorsement,
    pass_rates_of,
    pipeline,
    training_progress,
)
from lms.insight.models import PipelineRecord, PipelineStage
from lms.insight.scopes import (
    ACTION_LIST_LIMIT,
    TRAINING_STAGES,
    Filters,
    Scope,
    record_conditions,
    trust_ids_of,
)
from lms.organisations.models import School
from lms.platform import clock
from lms.platform.extensions import db
from lms.programme.models import Enrolment, Nomination

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
    (see ``lms.insight.pipeline.refresh``), with the first ``items`` of each action list."""
    from lms.insight import pipeline as records

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
