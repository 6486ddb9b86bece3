"""Pilots with their comparison groups, schools' consent for research use, and the record
of each research export (who, when, which trust, how many rows; never its salt)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.organisations.models import School, Trust
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.types import UTCDateTime, enum_column


class ComparisonKind(enum.StrEnum):
    #: Another of the trust's programmes (another delivery model, say).
    PROGRAMME = "programme"
    #: Schools that have not started the pilot's programme, tutoring as they were.
    SCHOOLS = "schools"

    @property
    def label(self) -> str:
        return {"programme": "Another programme or delivery model",
                "schools": "Schools that have not started the pilot"}[self.value]


class OutcomeMeasure(enum.StrEnum):
    """The tutoring figures a pilot can be judged on (defined in ``lms.tutoring.figures``)."""

    ATTENDANCE = "attendance_percent"
    HOURS = "hours_per_pupil"
    PROGRESS = "progress"
    AT_TARGET = "at_target_percent"

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self.value]


OUTCOME_LABELS = {
    "attendance_percent": "Attendance (% of marks present or late)",
    "hours_per_pupil": "Attended hours per pupil",
    "progress": "Progress against baseline (current minus baseline)",
    "at_target_percent": "Share of pupils at or above target (%)",
}


class Pilot(db.Model):
    """A programme (or some of its schools) tried out before scaling, against a comparison
    group, over a set period, judged on one outcome measure."""

    __tablename__ = "research_pilots"
    __table_args__ = (CheckConstraint("ends_on > starts_on", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    #: The pilot's programme, across its versions.
    programme_key: Mapped[str] = mapped_column(String(32))
    #: The schools piloting it (empty: every school running it).
    school_ids: Mapped[list] = mapped_column(JSON, default=list)
    comparison_kind: Mapped[ComparisonKind] = mapped_column(
        enum_column(ComparisonKind, "pilot_comparison_kind"))
    comparison_programme_key: Mapped[str | None] = mapped_column(String(32))
    #: For a programme comparison, the schools running it to compare (empty: all); for a
    #: schools comparison, the schools.
    comparison_school_ids: Mapped[list] = mapped_column(JSON, default=list)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[OutcomeMeasure] = mapped_column(enum_column(OutcomeMeasure,
                                                                "pilot_outcome"))
    #: Whether schools or pupils were allocated to pilot and comparison at random.
    random_allocation: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    trust: Mapped[Trust] = relationship()

    def ended(self, today: date | None = None) -> bool:
        return (today or clock.today()) >= self.ends_on


class ResearchConsent(db.Model):
    """A school's consent for its pupils' tutoring records to be used in research, recorded
    by its leader or the trust's central team. Withdrawing keeps the row and its dates."""

    __tablename__ = "research_consents"
    __table_args__ = (
        Index("uq_research_consents_school_open", "school_id", unique=True,
              postgresql_where=text("withdrawn_at IS NULL"),
              sqlite_where=text("withdrawn_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    school: Mapped[School] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])

    @property
    def trust_id(self) -> int:
        return self.school.trust_id


class ResearchExport(db.Model):
    """One research export taken: who, when, which trust (none: every trust), its rows."""

    __tablename__ = "research_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trusts.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    row_count: Mapped[int] = mapped_column(default=0)
    #: ``rows`` or ``aggregates``.
    kind: Mapped[str] = mapped_column(String(20), default="rows")
