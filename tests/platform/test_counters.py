"""Sign-in throttling and rate limits are shared by every web process through Redis."""

from datetime import timedelta

import pytest

from lms import create_app
from lms.accounts.security import record_sign_in_failure, sign_in_throttle
from lms.platform.counters import MemoryCounterStore, RedisCounterStore
from tests.conftest import need_service, redis_url

BASE = {"LMS_ENV": "testing", "SECRET_KEY": "counter-test-secret-key-0123456789abcdefghij",
        "SQLALCHEMY_DATABASE_URI": "sqlite://"}


@pytest.fixture(autouse=True)
def _no_redis_from_the_shell(monkeypatch):
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def redis_db():
    import redis

    url = redis_url()
    need_service("Redis", lambda: redis.Redis.from_url(url, socket_timeout=2).ping())
    connection = redis.Redis.from_url(url)
    connection.flushdb()
    connection.close()
    return url


@pytest.fixture
def redis_stores(redis_db):
    # Two stores, as two gunicorn processes (or two machines) would each have.
    return RedisCounterStore(redis_db), RedisCounterStore(redis_db)


def test_two_processes_see_the_same_sign_in_failures(redis_stores):
    first, second = redis_stores
    first.add_failure("signin:acct:x", timedelta(minutes=30))
    second.add_failure("signin:acct:x", timedelta(minutes=30))
    count, last = first.failures("signin:acct:x")
    assert count == 2 and last is not None
    assert second.failures("signin:acct:x") == (count, last)
    second.clear("signin:acct:x")
    assert first.failures("signin:acct:x") == (0, None)


def test_two_processes_share_one_rate_limit(redis_stores):
    first, second = redis_stores
    results = [store.hit("verify:key", 3, timedelta(minutes=1))[0]
               for store in (first, second, first, second)]
    assert results == [True, True, True, False]
    allowed, retry_after = second.hit("verify:other", 3, timedelta(minutes=1))
    assert allowed and 1 <= retry_after <= 60


def test_failures_in_one_web_process_lock_the_account_in_another(redis_db):
    web1 = create_app({**BASE, "REDIS_URL": redis_db})
    web2 = create_app({**BASE, "REDIS_URL": redis_db})
    with web2.app_context():
        assert sign_in_throttle("tutor@school.example", "203.0.113.9").allowed
    with web1.app_context():
        for _ in range(web1.config["SIGN_IN_MAX_FAILURES"]):
            record_sign_in_failure("tutor@school.example", "203.0.113.9")
    with web2.app_context():
        throttle = sign_in_throttle("Tutor@School.example", None)
        assert not throttle.allowed
        assert throttle.retry_after > web2.config["SIGN_IN_LOCK"] - timedelta(minutes=1)


def test_redis_is_used_when_configured_and_memory_otherwise(monkeypatch):
    assert isinstance(create_app(BASE).extensions["lms.counters"], MemoryCounterStore)
    with_redis = create_app({**BASE, "REDIS_URL": "redis://127.0.0.1:6379/15"})
    assert isinstance(with_redis.extensions["lms.counters"], RedisCounterStore)
    # A Redis broker is where the counters go too, unless REDIS_URL says otherwise.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
    assert isinstance(create_app(BASE).extensions["lms.counters"], RedisCounterStore)
