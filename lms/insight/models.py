"""The pipeline read model: one row per candidate, rebuilt from the live tables."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from lms.platform.extensions import db
from lms.platform.types import UTCDateTime, enum_column
from lms.programme.models import Pathway, TutoringPhase

# --- the pipeline as the dashboards read it ------------------------------------------------


class PipelineStage(enum.StrEnum):
    """Where a nominated candidate is now. Every candidate is in exactly one stage."""

    AWAITING_APPROVAL = "awaiting_approval"
    INVITED = "invited"
    NOT_STARTED = "not_started"
    IN_TRAINING = "in_training"
    READY_FOR_ASSESSMENT = "ready_for_assessment"
    FAILED_FIRST_ATTEMPT = "failed_first_attempt"
    ENDORSED = "endorsed"
    APPROVED = "approved"
    FAILED = "failed"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return PIPELINE_STAGE_LABELS[self]


PIPELINE_STAGE_LABELS = {
    PipelineStage.AWAITING_APPROVAL: "Awaiting approval",
    PipelineStage.INVITED: "Invited",
    PipelineStage.NOT_STARTED: "Did not start",
    PipelineStage.IN_TRAINING: "In training",
    PipelineStage.READY_FOR_ASSESSMENT: "Ready for assessment",
    PipelineStage.FAILED_FIRST_ATTEMPT: "Failed first attempt",
    PipelineStage.ENDORSED: "Endorsed",
    PipelineStage.APPROVED: "On the register (approved)",
    PipelineStage.FAILED: "Failed",
    PipelineStage.LAPSED: "Lapsed",
    PipelineStage.WITHDRAWN: "Withdrawn",
}


class PipelineRecord(db.Model):
    """One nominated candidate as the dashboards see them: their stage, and the dates and results
    the figures are made of. Rebuilt from the live records by ``lms.insight.pipeline``, never
    edited otherwise, so that a trust-wide or programme-wide figure is one pass over one narrow
    table. Its ids point at live records without foreign keys: the table is rebuilt whole, and
    checking a hundred thousand references on every rebuild would double its cost."""

    __tablename__ = "pipeline_records"
    __table_args__ = (
        Index("ix_pipeline_records_trust_stage", "trust_id", "stage"),
        Index("ix_pipeline_records_school_stage", "school_id", "stage"),
        # The action lists across the programme: a stage, most urgent or oldest first.
        Index("ix_pipeline_records_stage_deadline", "stage", "deadline_at"),
        Index("ix_pipeline_records_stage_nominated", "stage", "nominated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(unique=True)
    trust_id: Mapped[int]
    school_id: Mapped[int]
    #: The school's cluster when the record was built (if it is still in the same trust).
    cluster_id: Mapped[int | None]
    user_id: Mapped[int | None]
    enrolment_id: Mapped[int | None]
    pathway: Mapped[Pathway] = mapped_column(enum_column(Pathway, "pathway"))
    phase: Mapped[TutoringPhase] = mapped_column(enum_column(TutoringPhase, "tutoring_phase"))
    stage: Mapped[PipelineStage] = mapped_column(enum_column(PipelineStage, "pipeline_stage"))
    nominated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Share of the course's minutes done, for enrolments still in training.
    percent_done: Mapped[int | None]
    #: When a tutor still in training falls behind if they do no more: the moment the share
    #: of their window used passes the share of the course done.
    on_track_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_attempt_passed: Mapped[bool | None]
    second_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    second_attempt_passed: Mapped[bool | None]
    endorsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Whole days from nomination to endorsement.
    days_to_endorsement: Mapped[int | None]
    endorsement_status: Mapped[str | None] = mapped_column(String(16))
    endorsement_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The tutor's entry on the nominating trust's register, if any.
    register_status: Mapped[str | None] = mapped_column(String(16))


class PipelineBuild(db.Model):
    """When a trust's pipeline records were last rebuilt."""

    __tablename__ = "pipeline_builds"

    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), primary_key=True)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime())

