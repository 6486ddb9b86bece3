"""Feedback background work: the school leaders' surveys, from the beat once a day."""

from __future__ import annotations

from celery import shared_task

from lms.platform.extensions import db


@shared_task(acks_late=True, name="feedback.tasks.send_leader_surveys")
def send_leader_surveys() -> int:
    """Email every school leader whose survey about a tutor's training is due. Safe to run
    again (or twice at once on one database: the unique key refuses a second survey)."""
    from lms.feedback.surveys import send_due

    count = send_due()
    db.session.commit()
    return count
