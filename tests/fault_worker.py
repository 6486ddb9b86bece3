"""The platform's Celery worker (``lms.worker``) with a short Redis visibility timeout, for
tests/app/test_faults.py.

A worker that dies holding a task (acks late) leaves it unacknowledged in Redis; another worker
takes it back once the visibility timeout has passed since it was handed out: an hour by
default, ``FAULTS_VISIBILITY_TIMEOUT`` seconds here, checked every second.

``FAULTS_ESCALATION_DELAY`` (seconds, off by default) holds every safeguarding escalation that
long after its work is done and before its task commits, with the concern's row still locked,
and says so in the log: a test can then kill the worker at a moment it knows, with the
escalation made in the transaction but not committed.

Run: ``celery -A tests.fault_worker worker`` with the repository on ``PYTHONPATH``.
"""

import logging
import os
import time

from lms.worker import celery, flask_app  # noqa: F401  (celery -A finds ``celery`` here)

celery.conf.broker_transport_options = {
    "visibility_timeout": float(os.environ.get("FAULTS_VISIBILITY_TIMEOUT", "5")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}

ESCALATION_DELAY = float(os.environ.get("FAULTS_ESCALATION_DELAY") or 0)

if ESCALATION_DELAY:
    from lms.safeguarding import escalation

    _escalate = escalation.escalate

    def _escalate_and_hold(concern_id, now=None):
        level = _escalate(concern_id, now)
        logging.getLogger(__name__).warning(
            "concern %s escalated to level %s, not committed: holding %g s", concern_id,
            level, ESCALATION_DELAY)
        time.sleep(ESCALATION_DELAY)
        return level

    # The task looks ``escalate`` up when it runs, so it finds this one.
    escalation.escalate = _escalate_and_hold
