"""The platform's Celery worker (``lms.worker``) with a short Redis visibility timeout, for
tests/app/test_faults.py.

A worker that dies holding a task (acks late) leaves it unacknowledged in Redis; another worker
takes it back once the visibility timeout has passed since it was handed out: an hour by
default, ``FAULTS_VISIBILITY_TIMEOUT`` seconds here, checked every second.

Run: ``celery -A tests.fault_worker worker`` with the repository on ``PYTHONPATH``.
"""

import os

from lms.worker import celery, flask_app  # noqa: F401  (celery -A finds ``celery`` here)

celery.conf.broker_transport_options = {
    "visibility_timeout": float(os.environ.get("FAULTS_VISIBILITY_TIMEOUT", "5")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
