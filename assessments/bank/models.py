"""Item versions as loaded from the bank."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.types import UTCDateTime


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

