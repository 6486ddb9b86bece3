"""Counters shared by every web process: sign-in failures and rate limits.

With ``REDIS_URL`` configured they live in Redis, so several gunicorn processes on several
machines count as one; without it (the embedded default, one process) they live in memory.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol

from flask import Flask, current_app
from werkzeug.local import LocalProxy

from lms import clock


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
    def __init__(self, url: str, prefix: str = "lms:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix

    def failures(self, key: str) -> tuple[int, datetime | None]:
        count, last = self._redis.hmget(self._prefix + key, "count", "last")
        if not count:
            return 0, None
        return int(count), datetime.fromtimestamp(float(last), UTC)

    def add_failure(self, key: str, window: timedelta) -> int:
        full = self._prefix + key
        pipe = self._redis.pipeline()
        pipe.hincrby(full, "count", 1)
        pipe.hset(full, "last", clock.now().timestamp())
        pipe.expire(full, int(window.total_seconds()))
        return int(pipe.execute()[0])

    def clear(self, key: str) -> None:
        self._redis.delete(self._prefix + key)

    def hit(self, key: str, limit: int, window: timedelta) -> tuple[bool, int]:
        full = self._prefix + "rate:" + key
        pipe = self._redis.pipeline()
        pipe.incr(full)
        pipe.expire(full, int(window.total_seconds()), nx=True)
        pipe.ttl(full)
        count, _, ttl = pipe.execute()
        return int(count) <= limit, max(int(ttl), 1)


def init_counters(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    app.extensions["lms.counters"] = RedisCounterStore(url) if url else MemoryCounterStore()


counters: CounterStore = LocalProxy(lambda: current_app.extensions["lms.counters"])  # type: ignore[assignment]
