"""One lifecycle for every background job (imports, training jobs, auto-tunes): queue, dispatch, claim,
heartbeat, cancel, reap. Rows are :class:`~dashboard.models.jobs.BackgroundJob` subclasses; each kind
registers its task name, queue and attempt limit once with :func:`register`.

* **Queue** (:func:`job_enqueue`): inside the caller's transaction the job gets a task id and
  ``queued_at``; the message is sent after the commit (:func:`job_dispatch`). A broker that is down
  is logged, never raised: the request that queued the job still succeeds and ``dispatched_at`` stays
  empty — the transactional outbox.
* **Claim** (:func:`job_claim`): a row lock (``SELECT … FOR UPDATE``) moves a *queued* job to
  *running* and counts the attempt; a second delivery of the same message finds it running and does
  nothing, and an attempt beyond the kind's limit fails the job instead of running it.
* **Heartbeat** (:class:`JobHeartbeat`): a thread stamps ``heartbeat_at`` while the work runs.
* **Cancel** (:func:`job_cancel`): a queued job is cancelled at once; a running one is asked to stop
  (the worker checks ``cancel_requested`` at its safe points).
* **Reap** (:func:`jobs_reap`, celery beat every minute): a running job whose heartbeat is older than
  ``stale_after_s`` lost its worker: queued again while attempts remain, else failed naming the missed
  heartbeat. A queued job never dispatched for ``dispatch_grace_s`` (the broker was down), or dispatched
  more than ``JOB_QUEUED_STALE_S`` ago and never claimed (the message was lost), is sent again.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from celery import current_app
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from dashboard.models.jobs import BackgroundJob

log = logging.getLogger(__name__)
J = TypeVar("J", bound=BackgroundJob)
QUEUED, RUNNING, FAILED, CANCELLED = "queued", "running", "failed", "cancelled"


class JobStateError(ValueError):
    """The job is not in a state that allows the action; the message says which state it is in."""


@dataclass(frozen=True)
class JobKind:
    """How one job model is run: its Celery task, queue (from the row), attempt limit and error field.

    ``on_reap(job, outcome)`` runs inside the reaper's transaction (remove partial output, audit).
    """

    model: type[BackgroundJob]
    task: str
    max_attempts: Callable[[], int]
    error_field: str = "error"
    queue: Callable[[Any], str] = field(default=lambda job: "cpu")
    on_reap: Callable[[Any, str], None] | None = None
    log_field: str | None = None


_KINDS: dict[type[BackgroundJob], JobKind] = {}


def _objects(model: type[BackgroundJob]) -> Any:
    """The model's manager (an abstract base declares none)."""
    return model._default_manager


def register(kind: JobKind) -> JobKind:
    """Make ``kind.model`` known to the lifecycle (called once per kind, at import)."""
    _KINDS[kind.model] = kind
    return kind


def kind_of(model: type[BackgroundJob]) -> JobKind:
    return _KINDS[model]


def job_enqueue(job: BackgroundJob) -> None:
    """Mark ``job`` queued-for-dispatch (in the caller's transaction) and send its message after the commit."""
    model = type(job)
    task_id = str(uuid.uuid4())
    now = timezone.now()
    _objects(model).filter(pk=job.pk).update(celery_task_id=task_id, queued_at=now, dispatched_at=None)
    job.celery_task_id, job.queued_at, job.dispatched_at = task_id, now, None
    pk = job.pk
    transaction.on_commit(lambda: job_dispatch(model, pk))


def job_dispatch(model: type[BackgroundJob], pk: int) -> bool:
    """Send the queued job's message; stamps ``dispatched_at``. False (logged) when the broker refused."""
    kind = kind_of(model)
    job = _objects(model).filter(pk=pk, status=QUEUED).first()
    if job is None:
        return False
    if not job.celery_task_id:
        job.celery_task_id = str(uuid.uuid4())
        _objects(model).filter(pk=pk).update(celery_task_id=job.celery_task_id)
    try:
        current_app.send_task(kind.task, args=[pk], queue=kind.queue(job), task_id=job.celery_task_id)
    except Exception as exc:  # broker down: the reaper sends it again (the outbox)
        log.warning("%s %s stays queued: the broker refused its message (%s)", model.__name__, pk, exc)
        return False
    _objects(model).filter(pk=pk, status=QUEUED).update(dispatched_at=timezone.now())
    return True


def job_claim(model: type[J], pk: int, *, prepare: Callable[[J], dict[str, Any]] | None = None) -> J | None:
    """Move the queued job ``pk`` to running under a row lock and count the attempt.

    None when it is not queued (cancelled, finished, or running in another worker) or when this attempt
    is over the kind's limit (the job is then failed, saying so). ``prepare(job)`` gives more fields to set.
    """
    kind = kind_of(model)
    with transaction.atomic():
        job = _objects(model).select_for_update(of=("self",)).filter(pk=pk).first()
        if job is None or job.status != QUEUED or job.cancel_requested:
            return None
        now = timezone.now()
        if job.attempts >= kind.max_attempts():
            fields = {"status": FAILED, "finished_at": now,
                      kind.error_field: f"gave up after {job.attempts} attempt(s) (the limit)"}
            _objects(model).filter(pk=pk).update(**fields)
            return None
        fields = {"status": RUNNING, "attempts": job.attempts + 1, "started_at": now, "heartbeat_at": now,
                  "dispatched_at": job.dispatched_at or now}
        if prepare is not None:
            fields.update(prepare(job))
        for name, value in fields.items():
            setattr(job, name, value)
        job.save(update_fields=list(fields))
    return job


def job_cancel(job: BackgroundJob) -> str:
    """Cancel ``job``: ``"cancelled"`` when it was queued (stopped at once), ``"requested"`` when running."""
    model = type(job)
    now = timezone.now()
    if _objects(model).filter(pk=job.pk, status=QUEUED).update(status=CANCELLED, cancel_requested=True,
                                                             finished_at=now):
        if job.celery_task_id:
            try:
                current_app.control.revoke(job.celery_task_id)  # the fallback; the claim's status check suffices
            except Exception:  # the broker is down: the claim refuses the cancelled job anyway
                log.info("could not revoke %s", job.celery_task_id)
        return "cancelled"
    if _objects(model).filter(pk=job.pk, status=RUNNING).update(cancel_requested=True):
        return "requested"
    job.refresh_from_db()
    raise JobStateError(str(getattr(job, "get_status_display", lambda: job.status)()))  # type: ignore[attr-defined]


def cancel_requested(job: BackgroundJob) -> bool:
    """Whether someone asked ``job`` to stop (read fresh from the database)."""
    return bool(_objects(type(job)).filter(pk=job.pk, cancel_requested=True).exists())


def jobs_reap(model: type[BackgroundJob], *, stale_after_s: float | None = None,
              dispatch_grace_s: float | None = None) -> dict[str, list[int]]:
    """Requeue or fail stale running jobs and re-send stranded queued ones (see the module docstring)."""
    out = reap_running(model, stale_after_s=stale_after_s)
    out["dispatched"] = redispatch_stranded(model, dispatch_grace_s=dispatch_grace_s)
    return out


def reap_running(model: type[BackgroundJob], *, stale_after_s: float | None = None) -> dict[str, list[int]]:
    """Running jobs whose heartbeat is older than ``stale_after_s``: queued again while attempts remain, else
    failed (cancelled when a cancel was asked). Returns ``{"requeued": [ids], "failed": [ids]}``."""
    kind = kind_of(model)
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.TRAINING_STALE_AFTER_S if stale_after_s is None else stale_after_s)
    out: dict[str, list[int]] = {"requeued": [], "failed": []}
    with transaction.atomic():
        running = _objects(model).select_for_update(skip_locked=True, of=("self",)).filter(
            Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale), status=RUNNING)
        for job in running:
            note = f"no heartbeat since {job.heartbeat_at or job.started_at:%Y-%m-%d %H:%M:%S} UTC (the worker stopped)"
            fields: dict[str, Any]
            if job.attempts < kind.max_attempts() and not job.cancel_requested:
                fields = {"status": QUEUED}
                if kind.log_field:
                    text = getattr(job, kind.log_field) + f"\n{note}; queued again (attempt {job.attempts + 1})"
                    fields[kind.log_field] = text[-20_000:]
                outcome = "requeued"
            else:
                fields = {"status": CANCELLED if job.cancel_requested else FAILED, "finished_at": now,
                          kind.error_field: f"{note}; gave up after {job.attempts} attempt(s)"}
                outcome = "failed"
            for name, value in fields.items():
                setattr(job, name, value)
            job.save(update_fields=list(fields))
            if outcome == "requeued":
                job_enqueue(job)
            if kind.on_reap is not None:
                kind.on_reap(job, outcome)
            out[outcome].append(job.pk)
    return out


def redispatch_stranded(model: type[BackgroundJob], *, dispatch_grace_s: float | None = None) -> list[int]:
    """Send again queued jobs the broker never took (``dispatch_grace_s`` after queueing) or that were sent
    more than ``JOB_QUEUED_STALE_S`` ago and never claimed; returns the ids sent."""
    now = timezone.now()
    grace = now - dt.timedelta(seconds=getattr(settings, "JOB_DISPATCH_GRACE_S", 30.0)
                               if dispatch_grace_s is None else dispatch_grace_s)
    lost = now - dt.timedelta(seconds=getattr(settings, "JOB_QUEUED_STALE_S", 600.0))
    stranded = _objects(model).filter(
        Q(dispatched_at__isnull=True, queued_at__lt=grace) | Q(dispatched_at__lt=lost), status=QUEUED,
    ).values_list("pk", flat=True)
    return [pk for pk in list(stranded) if job_dispatch(model, pk)]


class JobHeartbeat:
    """Stamps ``heartbeat_at`` of one job every ``interval_s`` from a thread (its own connection)."""

    def __init__(self, model: type[BackgroundJob], pk: int, interval_s: float) -> None:
        self.model, self.pk, self.interval_s = model, pk, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"heartbeat-{model.__name__}-{pk}")

    def __enter__(self) -> JobHeartbeat:
        if connection.vendor != "sqlite":  # SQLite: one writer; the job's own progress writes stamp it
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval_s):
                try:
                    _objects(self.model).filter(pk=self.pk, status=RUNNING).update(heartbeat_at=timezone.now())
                except Exception:  # a database hiccup: the next beat tries again
                    log.warning("heartbeat of %s %s failed", self.model.__name__, self.pk, exc_info=True)
        finally:
            close_old_connections()
            connection.close()
