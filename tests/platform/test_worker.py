"""A real Celery worker process, fed through a real Redis broker, does the platform's work.

The test app runs tasks in-process (no broker configured), so here the task that
``send_email`` enqueues after commit is pointed at a Celery client on the real broker instead.
Nothing in this process can then deliver the email: only the worker can move it on.
"""

import os
import re
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
from celery import Celery
from sqlalchemy import func, select

from lms.audit import services as audit
from lms.audit.models import AuditEntry
from lms.notifications.models import EmailStatus, OutboxEmail
from lms.notifications.services import send_email
from lms.platform.extensions import db
from tests.conftest import need_service, redis_url
from tests.factories import make_trust

pytestmark = pytest.mark.celery_worker

TASK = "lms.tasks.deliver_email"
WAIT_SECONDS = 45
# Settings of the surrounding shell that would change what the worker does.
NOT_INHERITED = {"MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD", "CELERY_RESULT_BACKEND",
                 "REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL", "LMS_ENV", "SECRET_KEY"}


@pytest.fixture
def broker():
    import redis

    url = redis_url()
    need_service("Redis", lambda: redis.Redis.from_url(url, socket_timeout=2).ping())
    connection = redis.Redis.from_url(url)
    connection.flushdb()
    connection.close()
    return url


@pytest.fixture
def worker(broker, database_url, tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env.update({
        "LMS_ENV": "development",
        "SECRET_KEY": "worker-test-secret-key-0123456789abcdefghij",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "REDIS_URL": broker,
    })
    log = tmp_path / "worker.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "lms.worker", "worker", "--pool=solo",
             "--concurrency=1", "-Q", "celery", "--without-heartbeat", "--without-gossip",
             "--without-mingle", "--loglevel=INFO",
             # The beat too, as production runs it, with a schedule file of its own.
             "--beat", "--schedule", str(tmp_path / "beat-schedule")],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
        )
    try:
        yield SimpleNamespace(process=process, output=lambda: log.read_text()[-4000:])
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def broker_client(broker):
    client = Celery("broker-client", broker=broker)
    yield client
    client.close()


def test_an_email_queued_in_the_app_is_delivered_by_the_worker_process(
    app, broker_client, worker, monkeypatch
):
    # With an SMTP server configured, send_email queues delivery after commit; the task it
    # enqueues goes to the real broker (the app's own Celery would run it here, eagerly).
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.invalid")
    monkeypatch.setitem(app.extensions["celery"].tasks, TASK, broker_client.signature(TASK))
    email = send_email("reader@school.example", "Confirm your email address", "verify_email",
                       user=SimpleNamespace(name="Ada Reader"),
                       link="http://localhost/verify/abc")
    email_id = email.id
    assert (email.status, email.attempts) == (EmailStatus.QUEUED, 0)
    db.session.commit()  # the after-commit hook sends the task to the broker

    # The worker has no SMTP server configured, so delivering means keeping it in the outbox.
    deadline = time.monotonic() + WAIT_SECONDS
    row = (EmailStatus.QUEUED, 0)
    while time.monotonic() < deadline and worker.process.poll() is None:
        db.session.rollback()  # end the read transaction so the worker's commit is visible
        row = tuple(db.session.execute(
            select(OutboxEmail.status, OutboxEmail.attempts).where(OutboxEmail.id == email_id)
        ).one())
        if row[0] != EmailStatus.QUEUED:
            break
        time.sleep(0.25)
    assert row == (EmailStatus.OUTBOX, 1), (
        f"email {email_id} is {row} after {WAIT_SECONDS} s; worker exit code "
        f"{worker.process.poll()}; worker output:\n{worker.output()}"
    )
    # And it was the worker that did it: it logs the task it ran.
    done = re.compile(rf"Task {re.escape(TASK)}\[[-0-9a-f]+\] succeeded in [0-9.]+s: 'outbox'")
    while time.monotonic() < deadline and not done.search(worker.output()):
        time.sleep(0.1)
    assert done.search(worker.output()), worker.output()
    assert "Ada Reader" in db.session.get(OutboxEmail, email_id).body_text


def test_with_a_broker_the_beat_seals_the_audit_entries_requests_wrote(app, worker, monkeypatch):
    # As in production: requests only write their entries; the worker's beat seals them.
    monkeypatch.setitem(app.config["CELERY"], "task_always_eager", False)
    make_trust("Beech Trust")
    db.session.commit()
    unsealed = select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None))
    assert db.session.scalar(unsealed) > 0
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and worker.process.poll() is None:
        db.session.rollback()
        if db.session.scalar(unsealed) == 0:
            break
        time.sleep(0.25)
    assert db.session.scalar(unsealed) == 0, worker.output()
    report = audit.verify_chain()
    assert report.ok and report.entries_checked > 0
