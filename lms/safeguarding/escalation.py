"""Escalating a concern nobody has acknowledged, in real time (not office hours).

The beat's sweep finds the concerns whose next threshold has passed and escalates each in its
own transaction, with its row locked; the level is compared again under the lock and every
alert is unique per person, concern and level, so a sweep that runs twice, or a task that is
handed to a second worker after the first died, escalates nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from lms.audit import services as audit
from lms.platform import clock
from lms.platform.extensions import db
from lms.safeguarding.models import Concern, EntryKind, SafeguardingSettings
from lms.safeguarding.services import chronicle, notify, settings_for


def thresholds(settings: SafeguardingSettings) -> tuple[timedelta, timedelta]:
    return (timedelta(minutes=settings.first_escalation_minutes),
            timedelta(minutes=settings.second_escalation_minutes))


def due_level(concern: Concern, now: datetime, settings: SafeguardingSettings) -> int:
    """The level the concern should be at now: 0, 1 or 2."""
    if concern.acknowledged_at is not None or concern.closed_at is not None:
        return concern.escalation_level
    first, second = thresholds(settings)
    waited = now - concern.raised_at
    return 2 if waited >= second else 1 if waited >= first else 0


def due(now: datetime | None = None) -> list[int]:
    """Concerns unacknowledged past their next threshold."""
    now = now or clock.now()
    waiting = db.session.execute(select(Concern.id, Concern.trust_id, Concern.raised_at,
                                        Concern.escalation_level).where(
        Concern.acknowledged_at.is_(None), Concern.closed_at.is_(None),
        Concern.escalation_level < 2, Concern.raised_at <= now - timedelta(minutes=5))).all()
    settings = {t: settings_for(t) for t in {row.trust_id for row in waiting}}
    ids = []
    for row in waiting:
        first, second = thresholds(settings[row.trust_id])
        waited = now - row.raised_at
        if (row.escalation_level == 0 and waited >= first) or waited >= second:
            ids.append(row.id)
    return ids


def escalate(concern_id: int, now: datetime | None = None) -> int:
    """Escalate one concern as far as it is due; the level it reached, 0 if nothing was
    due."""
    now = now or clock.now()
    concern = db.session.scalar(select(Concern).where(Concern.id == concern_id)
                                .with_for_update().execution_options(populate_existing=True))
    if concern is None:
        return 0
    target = due_level(concern, now, settings_for(concern.trust_id))
    reached = 0
    while concern.escalation_level < target:
        level = concern.escalation_level + 1
        concern.escalation_level = level
        if level == 1:
            concern.escalated_at = now
        else:
            concern.escalated_again_at = now
        chronicle(concern, EntryKind.ESCALATED, None, at=now, level=level)
        notify(concern, level, now=now)
        audit.record("safeguarding.concern_escalated", concern, trust_id=concern.trust_id,
                     changes={"escalation_level": (level - 1, level)})
        reached = level
    return reached
