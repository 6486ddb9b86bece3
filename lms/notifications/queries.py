"""Reading the outbox."""

from __future__ import annotations

from sqlalchemy import select

from lms.notifications.models import OutboxEmail
from lms.platform.extensions import db


def outbox(limit: int = 200) -> list[OutboxEmail]:
    return list(
        db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit))
    )

