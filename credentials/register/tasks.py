"""Refreshing the register and reminding keepers of checks due."""

from __future__ import annotations

from celery import shared_task

from lms.platform.extensions import db


@shared_task(acks_late=True, name="credentials.tasks.refresh_register")
def refresh_register() -> int:
    """Derive every register entry again: a DBS check or training that lapsed at midnight
    suspends the entry, through the same rules as any other change."""
    from credentials.register.derivation import refresh_register as refresh

    changes = refresh()
    db.session.commit()
    return len(changes)


@shared_task(acks_late=True, name="credentials.tasks.send_register_reminders")
def send_register_reminders() -> int:
    from credentials.register.services import send_due_reminders

    count = send_due_reminders()
    db.session.commit()
    return count

