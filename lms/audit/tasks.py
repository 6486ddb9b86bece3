"""Sealing new audit entries into the chain."""

from __future__ import annotations

from celery import shared_task

from lms.audit.services import SEAL_TASK


@shared_task(acks_late=True, name=SEAL_TASK)
def seal_audit_log() -> int:
    """Seal newly committed audit entries into the chain: every few seconds from the beat, or
    after each commit that wrote some when tasks run in-process."""
    from lms.audit import services as audit

    return audit.seal()

