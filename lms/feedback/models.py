"""Tutors' ratings of the course, the prompts they skipped, and school leaders' surveys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.types import UTCDateTime, enum_column
from lms.programme.models import Pathway

#: The module key of a rating of the whole course, given when every module is done.
COURSE = "course"
MAX_COMMENT = 500
DEFAULT_SURVEY_WEEKS = 6


class ModuleRating(db.Model):
    """A tutor's rating of one module (or, under ``COURSE``, the whole course): how clear it
    was and how useful for their tutoring, against the content version they studied."""

    __tablename__ = "module_ratings"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "module"),
        CheckConstraint("clear BETWEEN 1 AND 5", name="clear_in_range"),
        CheckConstraint("useful BETWEEN 1 AND 5", name="useful_in_range"),
        Index("ix_module_ratings_pathway_module", "pathway", "module"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    pathway: Mapped[Pathway] = mapped_column(enum_column(Pathway, "pathway"))
    #: The module's slug, or ``COURSE``.
    module: Mapped[str] = mapped_column(String(100))
    #: The enrolment's pinned course version: the content the tutor actually studied.
    course_version: Mapped[str] = mapped_column(String(64))
    clear: Mapped[int]
    useful: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class SkippedRating(db.Model):
    """A rating prompt the tutor chose to skip: it is not shown again, and nothing is rated."""

    __tablename__ = "skipped_ratings"
    __table_args__ = (UniqueConstraint("enrolment_id", "module"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"))
    module: Mapped[str] = mapped_column(String(100))
    skipped_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class FeedbackSettings(db.Model):
    """A trust's choice of how long after an endorsement its school leaders are asked about
    the tutor's training."""

    __tablename__ = "feedback_settings"
    __table_args__ = (CheckConstraint("survey_weeks BETWEEN 2 AND 26", name="weeks_in_range"),)

    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), primary_key=True)
    survey_weeks: Mapped[int] = mapped_column(default=DEFAULT_SURVEY_WEEKS)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class LeaderSurvey(db.Model):
    """One school leader's short survey about one endorsed tutor's training: sent once,
    answered once."""

    __tablename__ = "leader_surveys"
    __table_args__ = (
        UniqueConstraint("endorsement_id", "leader_id"),
        CheckConstraint("practice_changed IS NULL OR practice_changed BETWEEN 1 AND 5",
                        name="practice_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endorsement_id: Mapped[int] = mapped_column(ForeignKey("endorsements.id"), index=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), index=True)
    tutor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    pathway: Mapped[Pathway] = mapped_column(enum_column(Pathway, "pathway"))
    course_version: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: "Has their practice changed?" 1 (not at all) to 5 (a great deal).
    practice_changed: Mapped[int | None]
    missing: Mapped[str | None] = mapped_column(Text)
    would_nominate: Mapped[bool | None]

    tutor: Mapped[User] = relationship(foreign_keys=[tutor_id])
    leader: Mapped[User] = relationship(foreign_keys=[leader_id])
