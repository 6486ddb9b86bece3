"""Delivering emails, and sending again those whose task was lost."""

from __future__ import annotations

from celery import shared_task

from lms.notifications.models import OutboxEmail
from lms.notifications.services import DELIVER_TASK, deliver, waiting_longer_than
from lms.platform.extensions import db


@shared_task(bind=True, max_retries=5, default_retry_delay=60, acks_late=True, name=DELIVER_TASK)
def deliver_email(self, email_id: int) -> str:
    email = db.session.get(OutboxEmail, email_id, with_for_update=True)
    if email is None:
        return "missing"
    try:
        deliver(email)
    except OSError as exc:
        db.session.rollback()
        raise self.retry(exc=exc) from exc
    db.session.commit()
    return email.status.value


@shared_task(acks_late=True, name="lms.tasks.requeue_queued_emails")
def requeue_queued_emails(older_than_seconds: int = 5 * 60) -> int:
    """Queue delivery again for every email still waiting after ``older_than_seconds``: its
    task was lost (the broker was down when the change committed, or restarted empty) or keeps
    failing. From the beat every few minutes. Delivering is safe to repeat: ``deliver_email``
    locks the row and sends only a queued email, so each email goes out once."""
    from datetime import timedelta

    from lms.platform.jobs import send

    waiting = waiting_longer_than(timedelta(seconds=older_than_seconds))
    db.session.rollback()  # read only: end the transaction before talking to the broker
    for email_id in waiting:
        send(deliver_email, email_id)
    return len(waiting)

