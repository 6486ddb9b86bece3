"""Background tasks of the core: they take ids, load, act, commit, and are safe to repeat."""

from __future__ import annotations

from celery import shared_task

from lms.extensions import db
from lms.models import OutboxEmail
from lms.notifications import deliver, waiting_longer_than


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


@shared_task(acks_late=True)
def requeue_queued_emails(older_than_seconds: int = 5 * 60) -> int:
    """Queue delivery again for every email still waiting after ``older_than_seconds``: its
    task was lost (the broker was down when the change committed, or restarted empty) or keeps
    failing. From the beat every few minutes. Delivering is safe to repeat: ``deliver_email``
    locks the row and sends only a queued email, so each email goes out once."""
    from datetime import timedelta

    from lms.jobs import send

    waiting = waiting_longer_than(timedelta(seconds=older_than_seconds))
    db.session.rollback()  # read only: end the transaction before talking to the broker
    for email_id in waiting:
        send(deliver_email, email_id)
    return len(waiting)


@shared_task(acks_late=True)
def seal_audit_log() -> int:
    """Seal newly committed audit entries into the chain: every few seconds from the beat, or
    after each commit that wrote some when tasks run in-process."""
    from lms import audit

    return audit.seal()


@shared_task(acks_late=True)
def run_nomination_import(import_id: int) -> str:
    """Validate and import a CSV of nominations, committing progress as it goes so the
    leader's page can show it; rerunning after a crash skips rows already imported."""
    from lms.models import NominationImport
    from lms.nominations import run_import

    nomination_import = db.session.get(NominationImport, import_id)
    if nomination_import is None:
        return "missing"
    run_import(nomination_import, on_progress=lambda _: db.session.commit())
    db.session.commit()
    return nomination_import.status.value


@shared_task(acks_late=True)
def expire_invitations() -> int:
    from lms.nominations import expire_invitations as expire

    count = expire()
    db.session.commit()
    return count


@shared_task(acks_late=True)
def lapse_enrolments() -> int:
    from lms.nominations import lapse_overdue_enrolments

    count = lapse_overdue_enrolments()
    db.session.commit()
    return count


@shared_task(acks_late=True)
def send_deadline_reminders() -> int:
    from lms.nominations import send_deadline_reminders as remind

    count = remind()
    db.session.commit()
    return count


@shared_task(acks_late=True)
def refresh_dashboards() -> int:
    """Rebuild the dashboards' records of every trust with activity since its last build."""
    from datetime import timedelta

    from lms import pipeline

    count = len(pipeline.refresh(older_than=timedelta(0)))
    db.session.commit()
    return count
