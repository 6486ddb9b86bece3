"""Observations of tutoring sessions, scored against the practice rubric."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.organisations.models import School
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.types import UTCDateTime
from lms.tutoring.models import TutoringGroup, TutoringSession


class Observation(db.Model):
    """A school leader's or tutoring lead's observation of one tutor with one group, on one
    day (and, when it was logged, one session): a score for every criterion of the rubric
    version it names, a general comment and one next step for the tutor."""

    __tablename__ = "observations"
    __table_args__ = (
        Index("ix_observations_tutor_observed", "tutor_id", "observed_on", "id"),
        Index("ix_observations_trust_observed", "trust_id", "observed_on"),
        CheckConstraint("mean_score BETWEEN 1 AND 4", name="mean_score_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("tutoring_groups.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("tutoring_sessions.id"))
    tutor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    observer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    observed_on: Mapped[date] = mapped_column(Date)
    rubric_version: Mapped[str] = mapped_column(String(20))
    #: The mean of its scores, kept so the impact report reads one row per tutor.
    mean_score: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    next_step: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    school: Mapped[School] = relationship()
    group: Mapped[TutoringGroup] = relationship()
    session: Mapped[TutoringSession | None] = relationship()
    tutor: Mapped[User] = relationship(foreign_keys=[tutor_id])
    observer: Mapped[User | None] = relationship(foreign_keys=[observer_id])
    scores: Mapped[list[ObservationScore]] = relationship(
        back_populates="observation", order_by="ObservationScore.id",
        cascade="all, delete-orphan")

    def score_for(self, key: str) -> ObservationScore | None:
        return next((s for s in self.scores if s.criterion == key), None)


class ObservationScore(db.Model):
    """One criterion's score (1-4) in an observation, with the observer's note."""

    __tablename__ = "observation_scores"
    __table_args__ = (
        UniqueConstraint("observation_id", "criterion"),
        CheckConstraint("score BETWEEN 1 AND 4", name="score_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id",
                                                           ondelete="CASCADE"))
    criterion: Mapped[str] = mapped_column(String(40))
    score: Mapped[int] = mapped_column()
    note: Mapped[str] = mapped_column(String(500), default="")

    observation: Mapped[Observation] = relationship(back_populates="scores")
