"""Applying stored events to the online state: the catch-up every hook triggers, and the rebuild.

The store keeps a ``cursor``: every stored event with a lower or equal id is in the state. A catch-up
reads the events after it, in id order, in chunks of :data:`CHUNK`, and writes each chunk's counters
together with the new cursor in one atomic write, so an event is never counted twice and a failure
(Redis down) loses nothing: the next catch-up starts where the last write ended.

Ids are handed out before commit, so on PostgreSQL a transaction still open may hold lower ids than
one already committed. The catch-up therefore reads a candidate high-water mark (the largest event id)
and the time just after, and uses it once no transaction that began before that time still writes to
the events table (``pg_locks`` and ``pg_stat_activity``; a writer holds its lock from before it takes an
id until it commits, and one begun later can only take higher ids): every event up to the mark is then
committed or gone. Nothing is locked, so writers never wait and the state lags by at most the longest
write in flight (during a long import, until it commits). SQLite has one writer at a time, so its ids
commit in order.

Per event with a product (types of weight > 0 in the catalog's event weights):

- its product is pushed on the shopper's and the session's recent lists;
- every other product among the :data:`CO_WINDOW` newest of those lists gains 1 co-occurrence
  with it (both ways);
- ``weight × 2 ** ((t − t0) / half_life)`` is added to the product's trending score, overall and in
  each of its category's ancestors (see :mod:`dashboard.services.trending`).
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection

from dashboard.models import Catalog, Event
from dashboard.services.online_state_store import Store, Writes
from mlcore.data.events import event_weights

log = logging.getLogger(__name__)
CHUNK = 2000  # events per atomic write
CO_WINDOW = 10  # the newest items of a shopper's or session's list a new item co-occurs with
CO_KEEP = 200  # neighbours kept per product (the best by count)
TREND_KEEP = 2000  # products kept per trending set
RECENT_MAX = 50  # items kept per shopper or session
RECENT_TTL_S = 30 * 24 * 3600  # every key expires this long after its last write (Redis)
REBUILD_EVENTS = 500_000  # a rebuild (or a first catch-up) replays at most this many newest events
REBUILD_WAIT_S = 600.0  # a rebuild gives up when writers hold the events table this long
REBASE_AFTER = 60.0  # half-lives after t0 beyond which the trending scores are rescaled (2**60 stays exact)
CATEGORY_SEPARATOR = " > "
FIELDS = ("id", "type", "shopper__external_id", "session_id", "product__external_id", "product__category_path",
          "timestamp")


@dataclass(frozen=True)
class Applied:
    """What one catch-up did: ``events`` read (with or without a product), the cursor after it, and whether
    the high-water mark could not be read (a writer held the table: try again soon)."""

    events: int
    cursor: int
    busy: bool = False


_CANDIDATE: dict[str, Any] = {}  # the high-water mark waiting for older writers: {"top": id, "at": read time}
_CANDIDATE_LOCK = threading.Lock()


def high_water() -> int | None:
    """The largest stored event id such that every lower id is committed or gone, 0 with no events; None
    while a transaction that may hold a lower id is still writing (PostgreSQL; see the module doc)."""
    table = Event._meta.db_table
    with connection.cursor() as c, _CANDIDATE_LOCK:
        if connection.vendor != "postgresql":
            c.execute(f"SELECT max(id) FROM {table}")  # noqa: S608 - the model's own table name
            return int(c.fetchone()[0] or 0)
        if not _CANDIDATE:
            c.execute(f"SELECT max(id) FROM {table}")  # noqa: S608
            top = int(c.fetchone()[0] or 0)
            c.execute("SELECT clock_timestamp()")  # after max(id): a writer begun later takes only higher ids
            _CANDIDATE.update(top=top, at=c.fetchone()[0])
        c.execute("SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'relation' "
                  "AND l.relation = %s::regclass AND l.mode = 'RowExclusiveLock' AND l.granted "
                  "AND l.pid <> pg_backend_pid() AND a.xact_start < %s LIMIT 1", [table, _CANDIDATE["at"]])
        if c.fetchone() is not None:
            return None
        top = int(_CANDIDATE["top"])
        _CANDIDATE.clear()
        return top


def categories_of(path: str) -> list[str]:
    """``"Home > Kitchen > Mugs"`` → ``["Home", "Home > Kitchen", "Home > Kitchen > Mugs"]``."""
    parts = [p.strip() for p in (path or "").split(CATEGORY_SEPARATOR.strip()) if p.strip()]
    return [CATEGORY_SEPARATOR.join(parts[:n]) for n in range(1, len(parts) + 1)]


class Applier:
    """Applies one catalog's events to ``store`` under ``prefix`` (see the module doc)."""

    def __init__(self, catalog: Catalog, store: Store, prefix: str, half_life_hours: float) -> None:
        self.catalog = catalog
        self.store = store
        self.prefix = prefix
        self.half_life_s = max(float(half_life_hours), 0.01) * 3600.0
        self.weights = event_weights(catalog.event_weights or {})

    def epoch(self, writes: Writes) -> float:
        """The trending scale's t0 (Unix seconds), rescaling the scores first when it is too far behind."""
        now = time.time()
        raw = self.store.get(self.prefix, "t0")
        t0 = float(raw) if raw else now
        if raw and (now - t0) / self.half_life_s > REBASE_AFTER:
            self.store.scale(self.prefix, "trend", 2.0 ** (-(now - t0) / self.half_life_s))
            t0 = now
            self.store.write(self.prefix, Writes(values={"t0": repr(t0)}), recent_max=RECENT_MAX,
                             ttl_s=RECENT_TTL_S)
        writes.values["t0"] = repr(t0)  # with every write: it expires with the counters it scales
        return t0

    def start_cursor(self) -> int:
        """Where a catch-up starts: the store's cursor, or (an empty store) just before the
        :data:`REBUILD_EVENTS`-th newest event of the catalog."""
        raw = self.store.get(self.prefix, "cursor")
        if raw is not None:
            return int(raw)
        ids = Event.objects.filter(catalog=self.catalog).order_by("-id").values_list("id", flat=True)
        oldest = ids[REBUILD_EVENTS - 1:REBUILD_EVENTS].first()
        return int(oldest) - 1 if oldest is not None else 0

    def catch_up(self, *, max_events: int | None = None) -> Applied:
        """Apply the events after the cursor up to the high-water mark (at most ``max_events``, in whole chunks).

        Raises :class:`~dashboard.services.online_state_store.StoreDown` when the store fails (nothing
        after the last completed chunk is applied; the next call resumes there)."""
        cursor = self.start_cursor()
        high = high_water()
        if high is None:
            return Applied(0, cursor, busy=True)
        done = 0
        while cursor < high and (max_events is None or done < max_events):
            rows = list(Event.objects.filter(catalog=self.catalog, id__gt=cursor, id__lte=high).order_by("id")
                        .values_list(*FIELDS)[:CHUNK])
            last = int(rows[-1][0]) if len(rows) == CHUNK else high
            self.write(rows, cursor=last)
            cursor = last
            done += len(rows)
        if cursor < high:
            return Applied(done, cursor)
        if self.store.get(self.prefix, "cursor") is None:  # an empty catalog: remember where it starts
            self.store.write(self.prefix, Writes(values={"cursor": str(cursor)}), recent_max=RECENT_MAX,
                             ttl_s=RECENT_TTL_S)
        return Applied(done, cursor)

    def write(self, rows: Iterable[tuple], *, cursor: int) -> None:
        """One atomic write: ``rows`` (:data:`FIELDS` tuples in id order) and the cursor after them."""
        rows = list(rows)
        writes = Writes(values={"cursor": str(cursor)})
        t0 = self.epoch(writes)
        now = time.time()
        lists: dict[str, list[str]] = {}
        keys = sorted({key for row in rows if row[4] for key in _keys(row)})
        lists.update(self.store.lists(self.prefix, keys, CO_WINDOW))
        co_touched: set[str] = set()
        trend_touched: set[str] = set()
        for _id, kind, _shopper, _session, item, category, when in rows:
            weight = self.weights.get(kind, 0.0)
            if not item or weight <= 0:
                continue
            row_keys = _keys((_id, kind, _shopper, _session, item, category, when))
            before = {other for key in row_keys for other in lists.get(key, [])[:CO_WINDOW]} - {item}
            for other in before:
                writes.add(f"co:{item}", other, 1.0)
                writes.add(f"co:{other}", item, 1.0)
                co_touched.update((f"co:{item}", f"co:{other}"))
            for key in row_keys:
                lists[key] = [item, *lists.get(key, [])][:CO_WINDOW]
                writes.push(key, item)
            age_halves = (min(when.timestamp(), now) - t0) / self.half_life_s
            if age_halves < -REBASE_AFTER:  # older than 60 half-lives: counts for nothing now
                continue
            amount = weight * math.pow(2.0, age_halves)
            for key in ["trend", *(f"trend:c:{c}" for c in categories_of(category))]:
                writes.add(key, item, amount)
                trend_touched.add(key)
        writes.trims.update({key: CO_KEEP for key in co_touched})
        writes.trims.update({key: TREND_KEEP for key in trend_touched})
        self.store.write(self.prefix, writes, recent_max=RECENT_MAX, ttl_s=RECENT_TTL_S)

    def rebuild(self, *, progress: bool = False) -> Applied:
        """Forget the catalog's state and replay its :data:`REBUILD_EVENTS` newest events."""
        self.store.clear(self.prefix)
        total = 0
        deadline = time.monotonic() + REBUILD_WAIT_S
        while time.monotonic() < deadline:
            step = self.catch_up(max_events=CHUNK * 25)
            total += step.events
            if progress:
                log.info("online state of %s: %d events replayed (cursor %d)", self.catalog.slug, total, step.cursor)
            if step.busy:
                time.sleep(0.2)
                continue
            if step.events < CHUNK * 25:
                return Applied(total, step.cursor)
        raise TimeoutError(f"online state of {self.catalog.slug}: writers held the events table for "
                           f"{REBUILD_WAIT_S:.0f} s; run the rebuild again when the import has finished")


def _keys(row: tuple) -> list[str]:
    """The recent lists an event row pushes onto: its shopper's and its session's."""
    _id, _kind, shopper, session, *_ = row
    return [*([f"recent:u:{shopper}"] if shopper else []), *([f"recent:s:{session}"] if session else [])]

