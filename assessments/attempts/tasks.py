"""Background work for assessments: submit attempts whose time is up, with what was saved."""

from __future__ import annotations

from celery import shared_task

from lms.platform.extensions import db


@shared_task(acks_late=True, name="assessments.tasks.submit_timed_out_attempts")
def submit_timed_out_attempts() -> int:
    from assessments.attempts.services import submit_timed_out

    count = submit_timed_out()
    db.session.commit()
    return count
