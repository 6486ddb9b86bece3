"""Tutoring's background work: the pupil retention sweep."""

from __future__ import annotations

from celery import shared_task

from lms.platform.extensions import db


@shared_task(acks_late=True, name="tutoring.tasks.sweep_expired_pupils")
def sweep_expired_pupils() -> int:
    """Erase pupils whose trust's retention period after their last group has passed."""
    from lms.tutoring.pupils import sweep_expired_pupils as sweep

    count = sweep()
    db.session.commit()
    return count
