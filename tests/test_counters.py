"""Sign-in throttling and rate limits are shared by every web process through Redis."""

from datetime import timedelta

import pytest

from lms import create_app
from lms.counters import MemoryCounterStore, RedisCounterStore
from tests.conftest import need_service, redis_url


@pytest.fixture
def redis_stores():
    import redis

    url = redis_url()
    need_service("Redis", lambda: redis.Redis.from_url(url, socket_timeout=2).ping())
    redis.Redis.from_url(url).flushdb()
    # Two stores, as two gunicorn processes (or two machines) would each have.
    return RedisCounterStore(url), RedisCounterStore(url)


def test_two_processes_see_the_same_sign_in_failures(redis_stores):
    first, second = redis_stores
    first.add_failure("signin:acct:x", timedelta(minutes=30))
    second.add_failure("signin:acct:x", timedelta(minutes=30))
    count, last = first.failures("signin:acct:x")
    assert count == 2 and last is not None
    second.clear("signin:acct:x")
    assert first.failures("signin:acct:x") == (0, None)


def test_two_processes_share_one_rate_limit(redis_stores):
    first, second = redis_stores
    results = [store.hit("verify:key", 3, timedelta(minutes=1))[0]
               for store in (first, second, first, second)]
    assert results == [True, True, True, False]


def test_redis_is_used_when_configured_and_memory_otherwise(monkeypatch):
    base = {"LMS_ENV": "testing", "SECRET_KEY": "x" * 8 + "0123456789abcdefghijklmnop",
            "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    assert isinstance(create_app(base).extensions["lms.counters"], MemoryCounterStore)
    with_redis = create_app({**base, "REDIS_URL": "redis://127.0.0.1:6379/15"})
    assert isinstance(with_redis.extensions["lms.counters"], RedisCounterStore)
