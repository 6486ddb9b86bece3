"""Background tasks of the core: they take ids, load, act, commit, and are safe to repeat."""

from __future__ import annotations

from celery import shared_task

from lms.extensions import db
from lms.models import OutboxEmail
from lms.notifications import deliver


@shared_task(bind=True, max_retries=5, default_retry_delay=60, acks_late=True)
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
