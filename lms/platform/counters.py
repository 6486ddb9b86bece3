"""Counters shared by every web process: sign-in failures and rate limits.

With ``REDIS_URL`` configured they live in Redis, so several gunicorn processes on several
machines count as one; without it (the embedded default, one process) they live in memory.
While Redis is unreachable each process counts in its own memory (see ``RedisCounterStore``).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from flask import Flask, current_app
from werkzeug.local import LocalProxy

from lms.platform import clock
from lms.platform.errors import DomainError

log = logging.getLogger(__name__)


class CounterStore(Protocol):
    def failures(self, key: str) -> tuple[int, datetime | None]: ...
    def add_failure(self, key: str, window: timedelta) -> int: ...
    def clear(self, key: str) -> None: ...
    def hit(self, key: str, limit: int, window: timedelta) -> tuple[bool, int]: ...


class MemoryCounterStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, tuple[int, datetime, datetime]] = {}

    def _live(self, key: str) -> tuple[int, datetime, datetime] | None:
        item = self._data.get(key)
        if item and item[2] <= clock.now():
            del self._data[key]
            return None
        return item

    def failures(self, key: str) -> tuple[int, datetime | None]:
        with self._lock:
            item = self._live(key)
            return (item[0], item[1]) if item else (0, None)

    def add_failure(self, key: str, window: timedelta) -> int:
        with self._lock:
            item = self._live(key)
            count = (item[0] if item else 0) + 1
            now = clock.now()
            self._data[key] = (count, now, now + window)
            return count

    def clear(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def hit(self, key: str, limit: int, window: timedelta) -> tuple[bool, int]:
        with self._lock:
            now = clock.now()
            item = self._live(key)
            if item is None:
                item = (0, now, now + window)
            count = item[0] + 1
            self._data[key] = (count, item[1], item[2])
            retry_after = math.ceil((item[2] - now).total_seconds())
            return count <= limit, max(retry_after, 1)


class RedisCounterStore:
    """Counters in Redis, shared by every web process.

    While Redis cannot be reached (restarting, a network fault) each process counts in its own
    memory instead, and tries Redis again every ``RETRY_SECONDS``. That is a deliberate choice
    between two worse ones: failing every sign-in (a 500 for every tutor whose session ends
    while Redis restarts) or not throttling at all (unlimited password guessing for as long as
    Redis is down). During an outage the limits still hold in each process, so across N web
    processes an account takes at most N times the usual failures before it locks; counts made
    during the outage are not carried into Redis when it returns.
    """

    RETRY_SECONDS = 5.0

    def __init__(self, url: str, prefix: str = "lms:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix
        self._fallback = MemoryCounterStore()
        self._down_until = 0.0

    def _shared(self, name: str, *args):
        """Run ``_redis_<name>``, or the same on this process's memory while Redis is down."""
        import redis

        if time.monotonic() >= self._down_until:
            try:
                result = getattr(self, "_redis_" + name)(*args)
            except redis.RedisError as exc:
                if not self._down_until:
                    log.warning("Redis is not answering (%s): sign-in throttling and rate "
                                "limits are counted in this process until it is back", exc)
                self._down_until = time.monotonic() + self.RETRY_SECONDS
            else:
                if self._down_until:
                    log.warning("Redis is answering again: counters are shared again")
                    self._down_until = 0.0
                return result
        return getattr(self._fallback, name)(*args)

    def failures(self, key: str) -> tuple[int, datetime | None]:
        return self._shared("failures", key)

    def add_failure(self, key: str, window: timedelta) -> int:
        return self._shared("add_failure", key, window)

    def clear(self, key: str) -> None:
        self._fallback.clear(key)
        return self._shared("clear", key)

    def hit(self, key: str, limit: int, window: timedelta) -> tuple[bool, int]:
        return self._shared("hit", key, limit, window)

    def _redis_failures(self, key: str) -> tuple[int, datetime | None]:
        count, last = self._redis.hmget(self._prefix + key, "count", "last")
        if not count:
            return 0, None
        return int(count), datetime.fromtimestamp(float(last), UTC)

    def _redis_add_failure(self, key: str, window: timedelta) -> int:
        full = self._prefix + key
        pipe = self._redis.pipeline()
        pipe.hincrby(full, "count", 1)
        pipe.hset(full, "last", clock.now().timestamp())
        pipe.expire(full, int(window.total_seconds()))
        return int(pipe.execute()[0])

    def _redis_clear(self, key: str) -> None:
        self._redis.delete(self._prefix + key)

    def _redis_hit(self, key: str, limit: int, window: timedelta) -> tuple[bool, int]:
        full = self._prefix + "rate:" + key
        pipe = self._redis.pipeline()
        pipe.incr(full)
        pipe.expire(full, int(window.total_seconds()), nx=True)
        pipe.ttl(full)
        count, _, ttl = pipe.execute()
        return int(count) <= limit, max(int(ttl), 1)


class RateLimited(DomainError):
    """Too many requests of one kind from one client; try again in ``retry_after`` seconds
    (sent as the ``Retry-After`` header)."""

    def __init__(self, message: str, retry_after: int, field: str | None = None):
        super().__init__(message, field)
        self.retry_after = retry_after


def client_key(kind: str, value: str | None) -> str:
    """The counter's key for one client (a network address, an email), hashed so that the
    store never holds the address itself."""
    digest = hashlib.sha256((value or "").encode("utf-8", "surrogatepass")).hexdigest()
    return f"{kind}:{digest[:32]}"


def wait_in_words(seconds: int) -> str:
    """``Retry-After`` as a person reads it: "40 seconds", "1 minute", "12 minutes"."""
    if seconds < 60:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def init_counters(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    app.extensions["lms.counters"] = RedisCounterStore(url) if url else MemoryCounterStore()


counters: CounterStore = LocalProxy(lambda: current_app.extensions["lms.counters"])  # type: ignore[assignment]
