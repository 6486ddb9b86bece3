"""Emails, kept in the outbox until delivered."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.types import UTCDateTime, enum_column


class EmailStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    #: Kept in the in-app outbox because no SMTP server is configured.
    OUTBOX = "outbox"
    FAILED = "failed"


class OutboxEmail(db.Model):
    __tablename__ = "outbox_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    template: Mapped[str] = mapped_column(String(100))
    status: Mapped[EmailStatus] = mapped_column(
        enum_column(EmailStatus, "email_status"), default=EmailStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

