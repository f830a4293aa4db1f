"""Where the online state lives: Redis in production, this process's memory in the embedded default.

Both stores hold the same four kinds of keys under a catalog's prefix (``"<prefix>:"`` + key):

- ``recent:u:<shopper>`` / ``recent:s:<session>``: a list of product ids, newest first, at most
  ``recent_max`` long, expiring ``ttl_s`` after its last push;
- ``trend`` and ``trend:c:<category path>``: sorted sets of product → decayed score (see
  :mod:`dashboard.services.trending` for the scale);
- ``co:<product>``: sorted set of product → co-occurrence count;
- ``cursor`` and other small values.

In Redis every key expires ``ttl_s`` after its last write (a catalog quiet that long is rebuilt from its
stored events on its next event); the in-memory store keeps everything until the process ends.

:meth:`write` is atomic (one Redis ``MULTI``): the counters and the cursor that says which events they
hold change together, so a failure half-way never counts an event twice. Reads and writes raise
:class:`StoreDown` when Redis cannot be reached in :data:`TIMEOUT_S`; the caller keeps its place and
retries (the stored events are the source of truth).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

TIMEOUT_S = 0.5  # a Redis call slower than this counts as Redis being down
LOCK_TTL_S = 30.0  # a catch-up lock left by a dead process expires after this


class StoreDown(ConnectionError):
    """The online-state store cannot be reached now; the message says where."""


@dataclass
class Writes:
    """One atomic batch: list pushes (``{key: [values, oldest first]}``), sorted-set increments
    (``{key: {member: amount}}``), sorted sets to trim to their ``n`` best, and plain values."""

    pushes: dict[str, list[str]] = field(default_factory=dict)
    increments: dict[str, dict[str, float]] = field(default_factory=dict)
    trims: dict[str, int] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)

    def push(self, key: str, value: str) -> None:
        self.pushes.setdefault(key, []).append(value)

    def add(self, key: str, member: str, amount: float) -> None:
        members = self.increments.setdefault(key, {})
        members[member] = members.get(member, 0.0) + amount


class Store(Protocol):
    name: str

    def write(self, prefix: str, writes: Writes, *, recent_max: int, ttl_s: int) -> None: ...
    def lists(self, prefix: str, keys: Sequence[str], n: int) -> dict[str, list[str]]: ...
    def top(self, prefix: str, key: str, n: int) -> list[tuple[str, float]]: ...
    def get(self, prefix: str, key: str) -> str | None: ...
    def scale(self, prefix: str, key_start: str, factor: float) -> None: ...
    def clear(self, prefix: str) -> None: ...
    def lock(self, prefix: str, name: str) -> Any: ...
    def ping(self) -> None: ...


class MemoryStore:
    """The embedded default's store: dicts in this process (lost on restart, rebuilt from the events)."""

    name = "memory"

    def __init__(self) -> None:
        self._lists: dict[str, tuple[list[str], float]] = {}
        self._sets: dict[str, dict[str, float]] = {}
        self._values: dict[str, str] = {}
        self._mutex = threading.RLock()
        self._locks: dict[str, threading.Lock] = {}

    def write(self, prefix: str, writes: Writes, *, recent_max: int, ttl_s: int) -> None:
        with self._mutex:
            expires = time.time() + ttl_s
            for key, values in writes.pushes.items():
                old = self._live_list(f"{prefix}:{key}")
                self._lists[f"{prefix}:{key}"] = ((list(reversed(values)) + old)[:recent_max], expires)
            for key, members in writes.increments.items():
                zset = self._sets.setdefault(f"{prefix}:{key}", {})
                for member, amount in members.items():
                    zset[member] = zset.get(member, 0.0) + amount
            for key, n in writes.trims.items():
                zset = self._sets.get(f"{prefix}:{key}", {})
                if len(zset) > n:
                    self._sets[f"{prefix}:{key}"] = dict(sorted(zset.items(), key=lambda kv: -kv[1])[:n])
            for key, value in writes.values.items():
                self._values[f"{prefix}:{key}"] = value

    def _live_list(self, full: str) -> list[str]:
        found = self._lists.get(full)
        if found is None or found[1] < time.time():
            return []
        return found[0]

    def lists(self, prefix: str, keys: Sequence[str], n: int) -> dict[str, list[str]]:
        with self._mutex:
            return {key: list(self._live_list(f"{prefix}:{key}")[:n]) for key in keys}

    def top(self, prefix: str, key: str, n: int) -> list[tuple[str, float]]:
        with self._mutex:
            zset = self._sets.get(f"{prefix}:{key}", {})
            return sorted(zset.items(), key=lambda kv: (-kv[1], kv[0]))[:n]

    def get(self, prefix: str, key: str) -> str | None:
        with self._mutex:
            return self._values.get(f"{prefix}:{key}")

    def scale(self, prefix: str, key_start: str, factor: float) -> None:
        with self._mutex:
            start = f"{prefix}:{key_start}"
            for key, zset in self._sets.items():
                if key.startswith(start):
                    for member in zset:
                        zset[member] *= factor

    def clear(self, prefix: str) -> None:
        with self._mutex:
            for table in (self._lists, self._sets, self._values):
                for key in [k for k in table if k.startswith(f"{prefix}:")]:
                    del table[key]

    @contextmanager
    def lock(self, prefix: str, name: str) -> Iterator[bool]:
        with self._mutex:
            lock = self._locks.setdefault(f"{prefix}:{name}", threading.Lock())
        got = lock.acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                lock.release()

    def ping(self) -> None:
        return None


class RedisStore:
    """Production's store: one Redis database (``ONLINE_STATE_URL``), shared by every process."""

    name = "redis"

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        self._redis = redis
        self.client = redis.Redis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S,
                                           decode_responses=True, health_check_interval=30)

    @contextmanager
    def _down(self) -> Iterator[None]:
        try:
            yield
        except (self._redis.ConnectionError, self._redis.TimeoutError) as exc:
            raise StoreDown(f"online state: Redis at {self._where()} is not answering ({exc})") from None

    def _where(self) -> str:
        kwargs: Mapping[str, Any] = self.client.connection_pool.connection_kwargs
        return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"

    def write(self, prefix: str, writes: Writes, *, recent_max: int, ttl_s: int) -> None:
        with self._down():
            pipe = self.client.pipeline(transaction=True)
            for key, values in writes.pushes.items():
                pipe.lpush(f"{prefix}:{key}", *values)
                pipe.ltrim(f"{prefix}:{key}", 0, recent_max - 1)
                pipe.expire(f"{prefix}:{key}", ttl_s)
            for key, members in writes.increments.items():
                for member, amount in members.items():
                    pipe.zincrby(f"{prefix}:{key}", amount, member)
                pipe.expire(f"{prefix}:{key}", ttl_s)
            for key, n in writes.trims.items():
                pipe.zremrangebyrank(f"{prefix}:{key}", 0, -(n + 1))
            for key, value in writes.values.items():
                pipe.set(f"{prefix}:{key}", value, ex=ttl_s)
            pipe.execute()

    def lists(self, prefix: str, keys: Sequence[str], n: int) -> dict[str, list[str]]:
        if not keys:
            return {}
        with self._down():
            pipe = self.client.pipeline(transaction=False)
            for key in keys:
                pipe.lrange(f"{prefix}:{key}", 0, n - 1)
            return dict(zip(keys, pipe.execute(), strict=True))

    def top(self, prefix: str, key: str, n: int) -> list[tuple[str, float]]:
        with self._down():
            found: list[Any] = self.client.zrevrange(f"{prefix}:{key}", 0, n - 1, withscores=True)  # type: ignore[assignment]
            return [(str(member), float(score)) for member, score in found]

    def get(self, prefix: str, key: str) -> str | None:
        with self._down():
            value = self.client.get(f"{prefix}:{key}")
            return None if value is None else str(value)

    def scale(self, prefix: str, key_start: str, factor: float) -> None:
        with self._down():
            for key in self.client.scan_iter(match=f"{prefix}:{key_start}*", count=500):
                self.client.zunionstore(key, {key: factor})

    def clear(self, prefix: str) -> None:
        with self._down():
            keys = list(self.client.scan_iter(match=f"{prefix}:*", count=1000))
            for start in range(0, len(keys), 500):
                self.client.unlink(*keys[start:start + 500])

    @contextmanager
    def lock(self, prefix: str, name: str) -> Iterator[bool]:
        with self._down():
            lock = self.client.lock(f"{prefix}:lock:{name}", timeout=LOCK_TTL_S, blocking=False)
            got = bool(lock.acquire(blocking=False))
        try:
            yield got
        finally:
            if got:
                try:
                    lock.release()
                except (self._redis.RedisError, self._redis.exceptions.LockError):
                    pass  # expired or Redis gone: the lock frees itself after LOCK_TTL_S

    def ping(self) -> None:
        with self._down():
            self.client.ping()


_STORES: dict[str, Store] = {}
_STORES_LOCK = threading.Lock()


def store_for(url: str) -> Store:
    """The store for ``url`` (``redis://…`` or ``memory://``), one per process."""
    with _STORES_LOCK:
        if url not in _STORES:
            _STORES[url] = RedisStore(url) if url.startswith(("redis://", "rediss://", "unix://")) else MemoryStore()
        return _STORES[url]


def stores_forget() -> None:
    """Drop every store of this process (tests: a Redis URL that now points at another server)."""
    with _STORES_LOCK:
        _STORES.clear()
