"""Tutoring's answers to what lower domains announce (connected in ``lms.events``)."""

from __future__ import annotations

from lms.platform import clock
from lms.platform.extensions import db
from lms.tutoring.models import TutoringTotalsBuild


def keep_totals_from_the_start(sender, trust, **_) -> None:
    """A new trust has no sessions, so its (empty) totals are right from the start: every
    session it logs is added to them, and its dashboards never add up marks."""
    db.session.add(TutoringTotalsBuild(trust_id=trust.id, built_at=clock.now()))
    db.session.flush()
