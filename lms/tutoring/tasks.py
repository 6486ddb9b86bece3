"""Tutoring's background work: the pupil retention sweep, the nightly totals
rebuild and the trust dashboards kept warm."""

from __future__ import annotations

from celery import shared_task

from lms.platform.extensions import db


@shared_task(acks_late=True, name="tutoring.tasks.sweep_expired_pupils")
def sweep_expired_pupils() -> int:
    """Erase pupils whose trust's retention period after their last group has passed."""
    from lms.tutoring.pupils import sweep_expired_pupils as sweep

    count = sweep()
    db.session.commit()
    return count


@shared_task(acks_late=True, name="tutoring.tasks.rebuild_totals")
def rebuild_totals() -> int:
    """Work every trust's totals out again from its sessions, a trust at a time: whatever
    went wrong with an addition is right again by morning."""
    from lms.tutoring.totals import rebuild_all

    return rebuild_all()


@shared_task(acks_late=True, name="tutoring.tasks.refresh_dashboards")
def refresh_dashboards() -> int:
    """Work out again the trust dashboards viewed lately, before anyone waits for them."""
    from lms.tutoring.snapshots import refresh_viewed

    count = refresh_viewed()
    db.session.commit()
    return count
