"""Library units as loaded (one row per unit and version) and each tutor's progress through
them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.types import UTCDateTime


class LibraryUnit(db.Model):
    """A follow-on unit as one version of its file read it. A changed file is a new row; the
    newest is current, and the older rows stay for the progress recorded against them."""

    __tablename__ = "library_units"
    __table_args__ = (UniqueConstraint("slug", "version"),
                      Index("ix_library_units_current", "is_current", "slug"))

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
    #: A hash of the unit's file and its resource: any edit gives a new version.
    version: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    phases: Mapped[list] = mapped_column(JSON, default=list)
    #: Course modules (assessment topics) it follows on from.
    topics: Mapped[list] = mapped_column(JSON, default=list)
    #: Observation rubric criteria it strengthens.
    practices: Mapped[list] = mapped_column(JSON, default=list)
    #: Pupil evidence that makes it relevant: attendance, progress, send.
    signals: Mapped[list] = mapped_column(JSON, default=list)
    words: Mapped[int] = mapped_column(default=0)
    #: The CPD minutes a completion records: its words at 200 a minute, plus 10 for the
    #: resource.
    minutes: Mapped[int] = mapped_column(default=0)
    #: The body rendered to sanitised HTML.
    body_html: Mapped[str] = mapped_column(Text)
    resource_title: Mapped[str] = mapped_column(String(200))
    resource_filename: Mapped[str] = mapped_column(String(120))
    resource_mimetype: Mapped[str] = mapped_column(String(80))
    resource_content: Mapped[bytes] = mapped_column(LargeBinary)
    is_current: Mapped[bool] = mapped_column(default=False)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class UnitProgress(db.Model):
    """A tutor's progress through one unit: started when first opened, completed once. The
    minutes credited are the unit's minutes in the version they completed."""

    __tablename__ = "library_unit_progress"
    __table_args__ = (UniqueConstraint("user_id", "unit_slug"),
                      Index("ix_library_unit_progress_completed", "user_id", "completed_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    unit_slug: Mapped[str] = mapped_column(String(80))
    unit_version: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    minutes_credited: Mapped[int] = mapped_column(default=0)

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None
