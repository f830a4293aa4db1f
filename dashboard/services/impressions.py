"""The log of every list the API served (impressions), written off the request path.

:func:`impression_log` only appends a row to an in-process buffer. One daemon thread per
process writes the buffer with ``bulk_create(ignore_conflicts=True)`` every
``settings.API_IMPRESSION_FLUSH_S`` seconds, or sooner once ``FLUSH_ROWS`` rows wait.

- ``API_IMPRESSION_FLUSH_S = 0``: every row is written at once, in the caller's thread and
  transaction (tests: pytest-django's transaction is invisible to another thread's connection).
- Back-pressure, no loss: when ``BUFFER_MAX`` rows wait (the database is slow or down), the
  caller writes its own row synchronously.
- A failed background write is logged and retried on the next tick; nothing here ever raises
  into a request. ``request_id`` is unique, so a row written twice is stored once.
- Fork-safe: a child process (gunicorn/celery prefork) starts with an empty buffer and its own
  thread; the parent writes what it had buffered.
- :func:`impressions_flush` writes everything now; it runs at interpreter exit (``atexit``).
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.db import close_old_connections, transaction

from dashboard.models import Impression

log = logging.getLogger(__name__)
BUFFER_MAX = 50_000  # rows waiting before callers write their own (back-pressure)
FLUSH_ROWS = 500  # rows waiting that wake the writer before its tick
WRITE_BATCH = 1_000  # rows per INSERT
IDLE_TICK_S = 1.0  # how often an idle writer looks again when the setting asks for synchronous writes


class _State:
    """One process's buffer and writer thread; replaced wholesale in a forked child."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()  # guards rows and thread
        self.flushing = threading.Lock()  # one write at a time, so impressions_flush waits for the thread's
        self.wake = threading.Event()
        self.rows: list[Impression] = []
        self.thread: threading.Thread | None = None


_state = _State()


def _reset_after_fork() -> None:
    global _state
    _state = _State()


os.register_at_fork(after_in_child=_reset_after_fork)


def _current() -> _State:
    if _state.pid != os.getpid():  # forked by a path that skipped the at-fork hook
        _reset_after_fork()
    return _state


def _clip(value: str | None, field: str) -> str:
    """Text cut to the column's length: one over-long value must not fail a whole batch forever."""
    limit = getattr(Impression._meta.get_field(field), "max_length", None)
    text = value or ""
    return text[:limit] if limit else text


def _uuid(request_id: str | uuid.UUID) -> uuid.UUID:
    try:
        return request_id if isinstance(request_id, uuid.UUID) else uuid.UUID(str(request_id))
    except ValueError:
        log.warning("impression with request id %r (not a UUID) logged under a new id", request_id)
        return uuid.uuid4()


def impression_log(*, catalog_id: int, request_id: str | uuid.UUID, surface: str, items: Sequence[str],
                   shopper_id: str = "", session_id: str = "", model_version: int | None = None,
                   fusion_config: str = "", variant: str = "", fallback: str | None = "",
                   token_id: int | None = None) -> None:
    """Record that ``items`` (product external ids, first shown first) were served on ``surface``.

    Returns at once; the row is written within ``API_IMPRESSION_FLUSH_S`` seconds (see the module
    docstring). ``fallback`` is the reason a fallback list was served (``None``/``""``: none).
    """
    row = Impression(catalog_id=catalog_id, request_id=_uuid(request_id), surface=_clip(surface, "surface"),
                     items=[str(i) for i in items], shopper_id=_clip(shopper_id, "shopper_id"),
                     session_id=_clip(session_id, "session_id"), model_version=model_version,
                     fusion_config=_clip(fusion_config, "fusion_config"), variant=_clip(variant, "variant"),
                     fallback=_clip(fallback, "fallback"), token_id=token_id)
    if settings.API_IMPRESSION_FLUSH_S <= 0:
        _write_now([row])
        return
    state = _current()
    with state.lock:
        _ensure_thread(state)
        full = len(state.rows) >= BUFFER_MAX
        if not full:
            state.rows.append(row)
            waiting = len(state.rows)
    if full:
        _write_now([row])
    elif waiting >= FLUSH_ROWS:
        state.wake.set()


def impressions_flush() -> int:
    """Write every buffered impression now, in the caller's thread; returns the rows written."""
    state = _current()
    with state.flushing:
        with state.lock:
            rows, state.rows = state.rows, []
        if rows:
            _write_now(rows)
    return len(rows)


def _write_now(rows: list[Impression]) -> None:
    """Write in the caller's thread and transaction (a savepoint, so a failure leaves its transaction usable)."""
    try:
        with transaction.atomic():
            Impression.objects.bulk_create(rows, batch_size=WRITE_BATCH, ignore_conflicts=True)
    except Exception:
        log.exception("could not write %d impression(s); they are lost", len(rows))


def _ensure_thread(state: _State) -> None:
    """Start the writer (call with ``state.lock`` held)."""
    if state.thread is not None and state.thread.is_alive():
        return
    state.thread = threading.Thread(target=_run, args=(state,), name="impressions-writer", daemon=True)
    state.thread.start()


def _run(state: _State) -> None:
    while state is _state:  # a forked child's copy of the parent's writer stops
        interval = settings.API_IMPRESSION_FLUSH_S
        state.wake.wait(timeout=interval if interval > 0 else IDLE_TICK_S)
        state.wake.clear()
        _flush_tick(state)


def _flush_tick(state: _State) -> None:
    """Write what is buffered on this thread's own connection; put it back on failure."""
    with state.flushing:
        with state.lock:
            rows, state.rows = state.rows, []
        if not rows:
            return
        try:
            close_old_connections()  # drop a connection that broke since the last tick
            Impression.objects.bulk_create(rows, batch_size=WRITE_BATCH, ignore_conflicts=True)
        except Exception:
            log.exception("could not write %d impression(s); retrying in %.1f s", len(rows),
                          settings.API_IMPRESSION_FLUSH_S)
            with state.lock:
                state.rows[:0] = rows
        finally:
            close_old_connections()  # honours CONN_MAX_AGE; closes a failed connection


atexit.register(impressions_flush)
