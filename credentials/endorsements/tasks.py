"""Background work for endorsements: take ids, load, act, commit; safe to repeat."""

from __future__ import annotations

from celery import shared_task

from credentials.endorsements.services import ISSUE_TASK
from lms.platform.extensions import db


@shared_task(acks_late=True, max_retries=5, default_retry_delay=10, bind=True, name=ISSUE_TASK)
def issue_endorsement_for(self, enrolment_id: int) -> str:
    from sqlalchemy.exc import IntegrityError

    from credentials.endorsements.services import issue_endorsement
    from lms.programme.models import Enrolment

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


@shared_task(acks_late=True, name="credentials.tasks.issue_missing_endorsements")
def issue_missing_endorsements() -> int:
    """A pass whose issuing task was lost is endorsed within a minute anyway."""
    from credentials.endorsements.services import passed_without_endorsement

    pending = passed_without_endorsement()
    for enrolment_id in pending:
        issue_endorsement_for.apply(args=(enrolment_id,))
    return len(pending)


@shared_task(acks_late=True, name="credentials.tasks.publish_status_lists")
def publish_status_lists() -> int:
    from credentials.endorsements.status import publish_pending

    count = publish_pending()
    db.session.commit()
    return count


@shared_task(acks_late=True, name="credentials.tasks.expire_endorsements")
def expire_endorsements() -> int:
    from credentials.endorsements.services import expire_endorsements as expire

    count = expire()
    db.session.commit()
    return count


@shared_task(acks_late=True, name="credentials.tasks.send_expiry_reminders")
def send_expiry_reminders() -> int:
    from credentials.endorsements.services import send_expiry_reminders as remind

    count = remind()
    db.session.commit()
    return count
