"""Safeguarding's background work: escalating unacknowledged concerns, from the beat every
minute, and purging accounts recorded in schools' own systems, nightly."""

from __future__ import annotations

from celery import shared_task

from lms.platform.extensions import db

ESCALATE_TASK = "safeguarding.tasks.escalate_concern"


@shared_task(acks_late=True, name="safeguarding.tasks.escalate_overdue")
def escalate_overdue() -> int:
    """Hand each concern past a threshold to its own task: one concern's failure holds up no
    other, and a task lost with a worker is handed back (acks late) or found again by the
    next sweep."""
    from lms.platform.jobs import send
    from lms.safeguarding.escalation import due

    ids = due()
    db.session.rollback()  # read only: end the transaction before talking to the broker
    for concern_id in ids:
        send(ESCALATE_TASK, concern_id)
    return len(ids)


@shared_task(acks_late=True, name=ESCALATE_TASK)
def escalate_concern(concern_id: int) -> int:
    from lms.safeguarding.escalation import escalate

    level = escalate(concern_id)
    db.session.commit()
    return level


@shared_task(acks_late=True, name="safeguarding.tasks.purge_recorded_accounts")
def purge_recorded_accounts() -> int:
    from lms.safeguarding.services import purge_due

    count = purge_due()
    db.session.commit()
    return count
