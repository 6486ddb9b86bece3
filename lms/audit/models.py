"""The audit log's entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from lms.platform.extensions import db
from lms.platform.types import UTCDateTime


class AuditEntry(db.Model):
    """An append-only, hash-chained record of one state change.

    Entries hold ids, never personal data, so a person can be erased without breaking the chain.
    """

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Position in the chain, gap-free from 1; unique so two sealers cannot fork it. Empty
    #: until the entry is sealed, moments after the transaction that wrote it commits.
    seq: Mapped[int | None] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    #: The trust the object belongs to, so a trust's auditors can search their own entries.
    trust_id: Mapped[int | None] = mapped_column(index=True)
    #: ``{field: [before, after]}`` for every field the change touched.
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_entries_object", "object_type", "object_id"),)

    @property
    def is_sealed(self) -> bool:
        return self.seq is not None

