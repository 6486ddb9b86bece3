"""Item versions, formative check results, summative attempts, answers and adjustments."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.extensions import db
from lms.types import UTCDateTime, enum_column


class ItemVersion(db.Model):
    """One wording of a bank item. Papers point at versions, so edits never change them."""

    __tablename__ = "item_versions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(100), index=True)
    lesson: Mapped[str] = mapped_column(String(100))
    use: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(16))
    pathways: Mapped[list] = mapped_column(JSON)
    difficulty: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    stem: Mapped[str] = mapped_column(Text)
    scenario: Mapped[str | None] = mapped_column(Text)
    #: ``[{"text", "correct", "feedback"}]`` in file order; never sent to a browser as is.
    options: Mapped[list] = mapped_column(JSON)
    #: The version the bank files hold now; older versions stay for the papers that used them.
    is_current: Mapped[bool] = mapped_column(default=True)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    @property
    def correct_indexes(self) -> set[int]:
        return correct_indexes(self.options)


def correct_indexes(options: list[dict]) -> set[int]:
    """The indexes, in file order, of an item's keys."""
    return {i for i, option in enumerate(options) if option["correct"]}


class FormativeResult(db.Model):
    """One try at a module's check: the items drawn, then the score once answered. Any number
    of tries; a passed one completes the module's check."""

    __tablename__ = "formative_results"
    __table_args__ = (Index("ix_formative_results_enrolment_topic", "enrolment_id", "topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"))
    topic: Mapped[str] = mapped_column(String(100))
    #: ``[{"item_version_id", "option_order"}]``: kept here so the browser only sees positions.
    items: Mapped[list] = mapped_column(JSON)
    correct: Mapped[int | None]
    total: Mapped[int]
    passed: Mapped[bool | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class AttemptStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class Attempt(db.Model):
    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "number"),
        Index(
            "uq_attempts_one_in_progress",
            "enrolment_id",
            unique=True,
            postgresql_where=text("status = 'in_progress'"),
            sqlite_where=text("status = 'in_progress'"),
        ),
        Index("ix_attempts_status_deadline", "status", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    number: Mapped[int]
    #: Rebuilds the paper exactly, with the item versions recorded below.
    seed: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[AttemptStatus] = mapped_column(
        enum_column(AttemptStatus, "attempt_status"), default=AttemptStatus.IN_PROGRESS
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Held by the server: answers after it are refused and the attempt is submitted as saved.
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    auto_submitted: Mapped[bool] = mapped_column(default=False)
    correct: Mapped[int | None]
    total: Mapped[int]
    passed: Mapped[bool | None]
    #: ``{topic: {"correct", "total", "secure", "lessons": [lesson, ...]}}`` after grading.
    topic_results: Mapped[dict | None] = mapped_column(JSON)

    items: Mapped[list[AttemptItem]] = relationship(
        back_populates="attempt", order_by="AttemptItem.position"
    )

    @property
    def is_open(self) -> bool:
        return self.status == AttemptStatus.IN_PROGRESS


class AttemptItem(db.Model):
    __tablename__ = "attempt_items"
    __table_args__ = (UniqueConstraint("attempt_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    position: Mapped[int]
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id"))
    #: ``option_order[i]`` is the file index of the option shown in position ``i``.
    option_order: Mapped[list] = mapped_column(JSON)
    #: Positions (as shown) the tutor chose; saved as they go.
    selected: Mapped[list | None] = mapped_column(JSON)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_correct: Mapped[bool | None]

    attempt: Mapped[Attempt] = relationship(back_populates="items")
    item: Mapped[ItemVersion] = relationship()


class AdjustmentKind(enum.StrEnum):
    EXTRA_TIME = "extra_time"
    EXTRA_ATTEMPT = "extra_attempt"


class Adjustment(db.Model):
    """An access arrangement the central team granted, with its reason."""

    __tablename__ = "assessment_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    kind: Mapped[AdjustmentKind] = mapped_column(enum_column(AdjustmentKind, "adjustment_kind"))
    #: Extra time as a percentage of the time limit, or a number of extra attempts.
    value: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
