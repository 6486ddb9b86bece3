"""The programme's background tasks (CSV imports, expiring invitations, lapsing enrolments,
deadline reminders): they take ids, load, act, commit, and are safe to repeat."""

from __future__ import annotations

from celery import shared_task

from lms.platform.extensions import db
from lms.programme.imports import IMPORT_TASK


@shared_task(acks_late=True, name=IMPORT_TASK)
def run_nomination_import(import_id: int) -> str:
    """Validate and import a CSV of nominations, committing progress as it goes so the
    leader's page can show it; rerunning after a crash skips rows already imported."""
    from lms.programme.imports import run_import
    from lms.programme.models import NominationImport

    nomination_import = db.session.get(NominationImport, import_id)
    if nomination_import is None:
        return "missing"
    run_import(nomination_import, on_progress=lambda _: db.session.commit())
    db.session.commit()
    return nomination_import.status.value


@shared_task(acks_late=True, name="lms.tasks.expire_invitations")
def expire_invitations() -> int:
    from lms.programme.window import expire_invitations as expire

    count = expire()
    db.session.commit()
    return count


@shared_task(acks_late=True, name="lms.tasks.lapse_enrolments")
def lapse_enrolments() -> int:
    from lms.programme.window import lapse_overdue_enrolments

    count = lapse_overdue_enrolments()
    db.session.commit()
    return count


@shared_task(acks_late=True, name="lms.tasks.send_deadline_reminders")
def send_deadline_reminders() -> int:
    from lms.programme.window import send_deadline_reminders as remind

    count = remind()
    db.session.commit()
    return count
