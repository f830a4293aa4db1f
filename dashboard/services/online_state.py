"""The online state: what shoppers did in the last seconds, for serving — recent items per shopper and per
session, time-decayed trending counters, incremental co-occurrence counts.

Where it lives: ``ONLINE_STATE_URL`` (a Redis URL), else the Celery broker's Redis server when the broker
is ``redis://``, else this process's memory (the embedded default, ``make run``: each process catches up
from the stored events on its own).

How events reach it: the events API and the importer's writer call :func:`events_stored` once their
rows are committed (never before). That only queues the catalog for this process's applier thread, so
ingestion never waits for Redis (back-pressure: a slow store makes the state lag, never the API). The
thread runs :func:`catch_up_now`, which applies every stored event after the store's cursor
(:mod:`dashboard.services.online_state_apply`). When the store is down the catalog is marked pending
in the database (:class:`~dashboard.models.OnlineState` ``pending_since``) and retried every
:data:`RETRY_S` seconds by every process, so the state catches up when the store returns; nothing is lost
because the stored events are the source of truth (``manage.py rebuild_online_state`` replays them).
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence

import numpy as np
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from dashboard.models import Catalog, OnlineState
from dashboard.services.online_state_apply import CHUNK, Applied, Applier
from dashboard.services.online_state_store import Store, StoreDown, store_for

log = logging.getLogger(__name__)
RETRY_S = 2.0  # a pending catalog (store down, writers busy) is retried this often
PASS_EVENTS = CHUNK * 10  # events one pass applies per catalog before the others get a turn
RECORD_EVERY_S = 1.0  # the freshness figures are written to the database at most this often per catalog
LAGS_KEPT = 200
SETTINGS_TTL_S = 2.0
REFRESH_S = 0.5  # the in-memory store re-reads the stored events at most this often per catalog


def state_url() -> str:
    """Where the online state lives (see the module doc): a Redis URL or ``memory://``."""
    url = str(getattr(settings, "ONLINE_STATE_URL", "") or "")
    if url:
        return url
    broker = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    return broker if broker.startswith(("redis://", "rediss://")) else "memory://"


def store() -> Store:
    return store_for(state_url())


def prefix_of(catalog: Catalog) -> str:
    """The catalog's key prefix: its database, id and creation time (a recreated database never reads
    another's state)."""
    name = str(connection.settings_dict.get("NAME") or "").rsplit("/", 1)[-1]
    created = int(catalog.created_at.timestamp() * 1000) if catalog.created_at else 0
    return f"os:{name}:{catalog.pk}:{created}"


_SETTINGS: dict[int, tuple[float, OnlineState]] = {}


def settings_of(catalog: Catalog, *, fresh: bool = False) -> OnlineState:
    """The catalog's :class:`OnlineState` row (created with the defaults on first use; read at most every
    :data:`SETTINGS_TTL_S` seconds per process unless ``fresh``)."""
    now = time.monotonic()
    found = _SETTINGS.get(catalog.pk)
    if fresh or found is None or found[0] < now:
        row, _ = OnlineState.objects.get_or_create(catalog=catalog)
        found = _SETTINGS[catalog.pk] = (now + SETTINGS_TTL_S, row)
    return found[1]


def settings_forget() -> None:
    _SETTINGS.clear()


def applier_for(catalog: Catalog) -> Applier:
    row = settings_of(catalog)
    return Applier(catalog, store(), prefix_of(catalog), row.trending_half_life_hours)


# -- the hook ---------------------------------------------------------------------------------------

def events_stored(*, catalog_id: int) -> None:
    """Call after storing events for ``catalog_id``: once the transaction commits (at once outside one),
    this process's applier thread brings the online state up to date. Never raises, never waits."""
    started = time.monotonic()
    transaction.on_commit(lambda: _worker().notify(catalog_id, started))


def catch_up_now(catalog_id: int, *, max_events: int | None = PASS_EVENTS) -> Applied | None:
    """Apply the catalog's stored events the state lacks (at most ``max_events``) here and now.

    Returns what was applied, ``Applied(busy=True)`` when another process is applying or writers hold the
    table, or None when the store is down (the catalog is then marked pending)."""
    catalog = Catalog.objects.filter(pk=catalog_id).first()
    if catalog is None:
        return Applied(0, 0)
    applier = applier_for(catalog)
    try:
        with applier.store.lock(applier.prefix, "apply") as got:
            if not got:
                return Applied(0, 0, busy=True)
            applied = applier.catch_up(max_events=max_events)
    except StoreDown as exc:
        _record_down(catalog_id, str(exc))
        return None
    _record(catalog_id, applied)
    return applied


def rebuild(catalog: Catalog) -> Applied:
    """Forget the catalog's online state and replay its stored events (``manage.py rebuild_online_state``).

    Raises :class:`StoreDown` when the store cannot be reached."""
    applier = applier_for(catalog)
    with applier.store.lock(applier.prefix, "apply") as got:
        if not got:
            raise RuntimeError(f"the online state of {catalog.slug} is being applied by another process; "
                               "run the rebuild again in a minute")
        applied = applier.rebuild(progress=True)
    OnlineState.objects.filter(catalog=catalog).update(rebuilt_at=timezone.now(), pending_since=None,
                                                        last_error="", applied_event_id=applied.cursor)
    _record(catalog.pk, applied, force=True)
    return applied


# -- freshness figures ------------------------------------------------------------------------------

_LAGS: dict[int, deque[float]] = {}
_RECORDED: dict[int, float] = {}
_FIG_LOCK = threading.Lock()


def lag_p95_ms(catalog_id: int) -> float | None:
    """The 95th percentile of this process's latest event-to-effect lags (commit → applied), in ms."""
    with _FIG_LOCK:
        lags = list(_LAGS.get(catalog_id, ()))
    return float(np.percentile(lags, 95)) if lags else None


def _note_lag(catalog_id: int, lag_s: float) -> None:
    with _FIG_LOCK:
        _LAGS.setdefault(catalog_id, deque(maxlen=LAGS_KEPT)).append(lag_s * 1000.0)


def _record(catalog_id: int, applied: Applied, *, force: bool = False) -> None:
    now = time.monotonic()
    with _FIG_LOCK:
        due = force or now - _RECORDED.get(catalog_id, 0.0) >= RECORD_EVERY_S
        if due:
            _RECORDED[catalog_id] = now
    if not (due or applied.events):
        return
    fields: dict = {"pending_since": None, "last_error": "", "applied_event_id": applied.cursor}
    if applied.events:
        fields["last_applied_at"] = timezone.now()
    if due:
        fields["lag_ms_p95"] = lag_p95_ms(catalog_id)
    with transaction.atomic():  # SQLite: waits for the write lock instead of failing beside a writing request
        OnlineState.objects.filter(catalog_id=catalog_id).update(
            events_applied=F("events_applied") + applied.events, **fields)


def _record_down(catalog_id: int, error: str) -> None:
    log.warning("online state of catalog %s is behind: %s", catalog_id, error)
    with transaction.atomic():
        OnlineState.objects.filter(catalog_id=catalog_id, pending_since__isnull=True).update(
            pending_since=timezone.now())
        OnlineState.objects.filter(catalog_id=catalog_id).update(last_error=error[:500])


# -- the applier thread -----------------------------------------------------------------------------

class _Applier(threading.Thread):
    """One per process: applies the catalogs :func:`events_stored` queued, one pass each in turn, and every
    :data:`RETRY_S` seconds the catalogs marked pending in the database."""

    def __init__(self) -> None:
        super().__init__(name="online-state", daemon=True)
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.queued: dict[int, float] = {}  # catalog id → when its oldest unapplied notice came (monotonic)
        self.paused = threading.Event()  # set by pause(): no new pass starts
        self.running = threading.Lock()  # held during a pass

    def notify(self, catalog_id: int, since: float | None = None) -> None:
        with self.lock:
            self.queued.setdefault(catalog_id, since if since is not None else time.monotonic())
        self.wake.set()

    def run(self) -> None:
        while True:
            self.wake.wait(timeout=RETRY_S)
            self.wake.clear()
            if self.paused.is_set():
                continue
            try:
                with self.running:
                    self.pass_once()
            except DatabaseError as exc:  # the database restarting (or a test database dropped): retry later
                log.warning("online state: a catch-up pass could not reach the database (%s)", exc)
                time.sleep(RETRY_S)
            except Exception:  # the thread must outlive any one failure
                log.exception("online state: a catch-up pass failed")
                time.sleep(RETRY_S)
            finally:
                with self.lock:
                    idle = not self.queued
                if idle:  # hold no connection between bursts
                    connection.close()
                else:
                    close_old_connections()

    def pass_once(self) -> None:
        with self.lock:
            queued, self.queued = self.queued, {}
        if not queued:
            queued = {pk: time.monotonic() for pk in
                      OnlineState.objects.filter(pending_since__isnull=False).values_list("catalog_id", flat=True)}
        for catalog_id, since in queued.items():
            applied = catch_up_now(catalog_id)
            if applied is None or applied.busy or applied.events >= PASS_EVENTS:
                self.notify(catalog_id, since)  # not done: again on the next pass
                if applied is None or applied.busy:
                    time.sleep(0.05 if applied is not None else RETRY_S)
                continue
            _note_lag(catalog_id, time.monotonic() - since)
        with self.lock:
            again = bool(self.queued)
        if again:
            self.wake.set()


_WORKER: _Applier | None = None
_WORKER_LOCK = threading.Lock()


def _worker() -> _Applier:
    global _WORKER
    with _WORKER_LOCK:
        if _WORKER is None or not _WORKER.is_alive():
            _WORKER = _Applier()
            _WORKER.start()
        return _WORKER


def pause() -> None:
    """Stop this process's applier between passes and drop what it had queued (the stored events stay the
    source of truth: the next catch-up finds them). For a database about to be flushed or restored."""
    worker = _WORKER
    if worker is None:
        return
    worker.paused.set()
    with worker.running, worker.lock:
        worker.queued.clear()


def resume() -> None:
    """Let a paused applier run again."""
    if _WORKER is not None:
        _WORKER.paused.clear()


_REFRESHED: dict[int, float] = {}


def refresh_soon(catalog_id: int) -> None:
    """Ask this process's applier for a catch-up, at most every :data:`REFRESH_S` seconds per catalog (the
    in-memory store: another process may have stored events, e.g. an import on the worker)."""
    now = time.monotonic()
    if now - _REFRESHED.get(catalog_id, -REFRESH_S) >= REFRESH_S:
        _REFRESHED[catalog_id] = now
        _worker().notify(catalog_id)


# -- reads ------------------------------------------------------------------------------------------

def _read_failed(what: str, exc: Exception) -> None:
    log.warning("online state: %s unavailable (%s); serving without it", what, exc)


def recent_items(catalog: Catalog, *, shopper: str | None = None, session: str | None = None, n: int = 20
                 ) -> list[str]:
    """The shopper's and the session's latest product ids, newest LAST, each once (its newest place);
    empty when the store is down."""
    st = store()
    if st.name == "memory":
        refresh_soon(catalog.pk)
    keys = [*([f"recent:u:{shopper}"] if shopper else []), *([f"recent:s:{session}"] if session else [])]
    if not keys:
        return []
    try:
        found = st.lists(prefix_of(catalog), keys, n)
    except StoreDown as exc:
        _read_failed("recent items", exc)
        return []
    merged = list(dict.fromkeys(item for key in keys for item in found.get(key, [])))  # newest first
    return merged[:n][::-1]


def co_neighbours(catalog: Catalog, items: Sequence[str], *, n: int = 100, decay: float = 0.8) -> dict[str, float]:
    """Products often seen with ``items`` (newest last): each seed's counts divided by its best count,
    summed with weight ``decay ** age`` (the newest seed weighs 1); the seeds themselves left out."""
    st = store()
    prefix = prefix_of(catalog)
    out: dict[str, float] = {}
    try:
        seeds = list(dict.fromkeys(reversed(list(items))))  # newest first, each once
        for age, item in enumerate(seeds):
            top = st.top(prefix, f"co:{item}", n)
            if not top or top[0][1] <= 0:
                continue
            best = top[0][1]
            for other, count in top:
                out[other] = out.get(other, 0.0) + decay ** age * count / best
    except StoreDown as exc:
        _read_failed("co-occurrence", exc)
        return {}
    for item in items:
        out.pop(item, None)
    return out
