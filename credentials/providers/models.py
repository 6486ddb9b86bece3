"""Providers' API keys and the checks they made."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.organisations.models import Provider
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.types import UTCDateTime


class ApiKey(db.Model):
    """A provider's key for the verification API. Only a hash of the secret is kept; the key
    is shown once, when it is made."""

    __tablename__ = "provider_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: The start of the key, shown to tell keys apart and used to find one quickly.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    provider: Mapped[Provider] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
