"""A formative check: one try at a module's check."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.types import UTCDateTime


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

