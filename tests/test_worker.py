"""A real Celery worker process, fed through a real Redis broker, does the platform's work."""

import os
import subprocess
import sys
import time

import pytest
from celery import Celery
from sqlalchemy import select

from lms.extensions import db
from lms.models import EmailStatus, OutboxEmail
from tests.conftest import need_service, redis_url


@pytest.fixture
def broker():
    import redis

    url = redis_url()
    need_service("Redis", lambda: redis.Redis.from_url(url, socket_timeout=2).ping())
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def worker(broker, database_url, tmp_path):
    env = {
        **os.environ,
        "LMS_ENV": "development",
        "SECRET_KEY": "worker-test-secret-key-0123456789abcdefghij",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "REDIS_URL": broker,
    }
    log = tmp_path / "worker.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "lms.worker", "worker", "--pool=solo",
             "--concurrency=1", "--without-heartbeat", "--without-gossip", "--without-mingle",
             "--loglevel=INFO"],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
        )
    try:
        yield process, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_task_sent_through_redis_is_done_by_the_worker_process(db_session, broker, worker):
    process, log = worker
    email = OutboxEmail(to_address="reader@school.example", subject="Hello", template="test",
                        body_text="Hello", body_html="<p>Hello</p>", status=EmailStatus.QUEUED)
    db.session.add(email)
    db.session.commit()
    client = Celery(broker=broker)
    client.send_task("lms.tasks.deliver_email", args=[email.id])
    deadline = time.monotonic() + 45
    status = EmailStatus.QUEUED
    while time.monotonic() < deadline and process.poll() is None:
        db.session.rollback()  # end the read transaction so the worker's commit is visible
        status = db.session.scalar(select(OutboxEmail.status).where(OutboxEmail.id == email.id))
        if status != EmailStatus.QUEUED:
            break
        time.sleep(0.25)
    assert status == EmailStatus.OUTBOX, log.read_text()[-4000:]
    assert db.session.get(OutboxEmail, email.id).attempts == 1
