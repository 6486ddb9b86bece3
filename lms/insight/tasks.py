"""Keeping the dashboards' figures fresh."""

from __future__ import annotations

from celery import shared_task

from lms.platform.extensions import db


@shared_task(acks_late=True, name="lms.tasks.refresh_dashboards")
def refresh_dashboards() -> int:
    """Rebuild the dashboards' records of every trust with activity since its last build."""
    from datetime import timedelta

    from lms.insight import pipeline

    count = len(pipeline.refresh(older_than=timedelta(0)))
    db.session.commit()
    return count

