"""Background work for endorsements: take ids, load, act, commit; safe to repeat."""

from __future__ import annotations

from celery import shared_task

from lms.extensions import db


@shared_task(acks_late=True, max_retries=5, default_retry_delay=10, bind=True)
def issue_endorsement_for(self, enrolment_id: int) -> str:
    from sqlalchemy.exc import IntegrityError

    from credentials.services import issue_endorsement
    from lms.models import Enrolment

    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None:
        return "missing"
    try:
        endorsement = issue_endorsement(enrolment)
        db.session.commit()
    except IntegrityError as exc:
        # Two workers raced for the same status index or enrolment: try again; the second
        # attempt finds the endorsement already issued or draws another index.
        db.session.rollback()
        raise self.retry(exc=exc) from exc
    return endorsement.public_id


@shared_task(acks_late=True)
def issue_missing_endorsements() -> int:
    """A pass whose issuing task was lost is endorsed within a minute anyway."""
    from credentials.services import passed_without_endorsement

    pending = passed_without_endorsement()
    for enrolment_id in pending:
        issue_endorsement_for.apply(args=(enrolment_id,))
    return len(pending)


@shared_task(acks_late=True)
def publish_status_lists() -> int:
    from credentials.status import publish_pending

    count = publish_pending()
    db.session.commit()
    return count


@shared_task(acks_late=True)
def expire_endorsements() -> int:
    from credentials.services import expire_endorsements as expire

    count = expire()
    db.session.commit()
    return count


@shared_task(acks_late=True)
def send_expiry_reminders() -> int:
    from credentials.services import send_expiry_reminders as remind

    count = remind()
    db.session.commit()
    return count


@shared_task(acks_late=True)
def refresh_register() -> int:
    """Derive every register entry again: a DBS check or training that lapsed at midnight
    suspends the entry, through the same rules as any other change."""
    from credentials.register import refresh_register as refresh

    changes = refresh()
    db.session.commit()
    return len(changes)


@shared_task(acks_late=True)
def send_register_reminders() -> int:
    from credentials.register import send_due_reminders

    count = send_due_reminders()
    db.session.commit()
    return count
