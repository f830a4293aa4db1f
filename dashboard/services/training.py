"""Training jobs: launch, run (on a Celery worker), cancel, and reap jobs whose worker died.

Life of a job: :func:`training_job_start` snapshots the catalog to Parquet under
``ARTIFACTS_DIR/jobs/<id>/`` and queues ``dashboard.training_run`` after the commit;
:func:`training_job_run` trains with ``mlcore`` (progress on the row through
:class:`~dashboard.services.training_progress.JobCallback`), writes the bundle atomically
to ``ARTIFACTS_DIR/versions/<catalog>/<job id>/`` (with the catalog's search index in ``search/``,
see :mod:`dashboard.services.search_index`) and registers a *candidate* version in one
transaction. Failures and cancellations never register anything and never touch the active version.

Retry policy (the reaper): a running job whose heartbeat is older than ``stale_after_s``
lost its worker (killed, OOM, machine gone). If it has been tried fewer than
``settings.TRAINING_MAX_ATTEMPTS`` times it goes back to *queued* and is sent again;
otherwise it is marked *failed*, naming the missed heartbeat. A redelivered message for a
job that is no longer queued is ignored, so the job never runs twice at once.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import resource
import shutil
import time
import traceback
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Concat
from django.utils import timezone

from dashboard.models import AuditEntry, Catalog, JobQueue, JobStatus, ModelVersion, TrainingJob
from dashboard.services import jobs
from dashboard.services.training_budget import training_budget_check, training_budget_recheck
from dashboard.services.training_ddp import processes_param, run_job
from dashboard.services.training_progress import Heartbeat, JobCallback
from dashboard.services.training_snapshot import (
    TrainingInputError,
    parse_params,
    snapshot_read,
    snapshot_write,
)
from dashboard.services.versions import audit, version_promote, version_register
from mlcore.data import Dataset, clean_dataset
from mlcore.recommenders import get as get_recommender
from mlcore.runtime import Cancelled
from mlcore.training.artifacts import write_bundle
from mlcore.training.runner import RunConfig, RunResult, SignalSpec

log = logging.getLogger(__name__)
TASK_RUN = "dashboard.training_run"
TASK_REAP = "dashboard.training_reap"

__all__ = ["TrainingInputError", "jobs_reap", "training_job_cancel", "training_job_run", "training_job_start"]


def job_folder(job: TrainingJob) -> Path:
    return Path(settings.ARTIFACTS_DIR) / "jobs" / str(job.pk)


def bundle_folder(job: TrainingJob) -> Path:
    return Path(settings.ARTIFACTS_DIR) / "versions" / job.catalog.slug / str(job.pk)


jobs.register(jobs.JobKind(model=TrainingJob, task=TASK_RUN, queue=lambda job: job.queue, log_field="log",
                           max_attempts=lambda: settings.TRAINING_MAX_ATTEMPTS))


def _enqueue(job: TrainingJob) -> None:
    """Queue through the job lifecycle: sent after the commit; a broker outage leaves it to the reaper."""
    jobs.job_enqueue(job)


def gpu_worker_listening(timeout_s: float = 1.0) -> bool:
    """Whether a running Celery worker consumes the ``gpu`` queue (False when none answers)."""
    try:
        replies = current_app.control.inspect(timeout=timeout_s).active_queues() or {}
    except Exception:  # a broker without broadcast (the embedded filesystem one) or none reachable
        return False
    return any(q.get("name") == JobQueue.GPU for queues in replies.values() for q in queues or [])


def training_job_start(*, catalog: Catalog, params: Mapping[str, Any], started_by: Any = None,
                       queue: str = JobQueue.CPU) -> TrainingJob:
    """Check ``params``, snapshot the catalog, create the job and queue it after the commit.

    ``queue`` ``auto`` picks ``gpu`` when a worker listens there, else ``cpu``.
    """
    checked = parse_params({"event_weights": catalog.event_weights, **params})
    if queue == "auto":
        queue = JobQueue.GPU if gpu_worker_listening() else JobQueue.CPU
    if queue not in JobQueue.values:
        raise TrainingInputError(f"unknown queue {queue!r}; use cpu or gpu")
    processes = processes_param(params, queue)  # DistributedDataParallel over N processes when > 1
    if not catalog.events.exists():
        raise TrainingInputError("this catalog has no events yet; import events before training")
    training_budget_check(catalog=catalog, signals=checked.signals)  # refuses, naming the signal, before any work
    pending = Path(settings.ARTIFACTS_DIR) / "jobs" / f"pending-{uuid.uuid4().hex}"
    try:
        counts = snapshot_write(catalog=catalog, folder=pending)
    except BaseException:
        shutil.rmtree(pending, ignore_errors=True)
        raise
    stored = {
        "signals": [s.name for s in checked.signals],
        "configs": {name: dict(cfg) for name, cfg in (params.get("configs") or {}).items()},
        "split": checked.split.to_dict(),
        "event_weights": dict(checked.event_weights),
        "ks": list(checked.ks),
        "snapshot": counts,
        "auto_promote": bool(params.get("auto_promote", False)),
        "processes": processes,
    }
    try:
        with transaction.atomic():
            job = TrainingJob.objects.create(catalog=catalog, params=stored, queue=queue,
                                             started_by=started_by if getattr(started_by, "pk", None) else None)
            # A folder under a fresh id can only be left over from a reset database.
            shutil.rmtree(job_folder(job), ignore_errors=True)
            pending.rename(job_folder(job))
            audit(actor=started_by, action="job.launch", catalog=catalog, target=f"job {job.pk}",
                  detail={"signals": stored["signals"], "split": stored["split"], "queue": queue})
            _enqueue(job)
    except BaseException:
        shutil.rmtree(pending, ignore_errors=True)
        raise
    return job


DEMO_PARAMS: dict[str, Any] = {
    "signals": ["popularity", "repeat", "item_knn", "ease", "mf", "text", "kg"],  # every signal, transformer and graph too
    "split": {"kind": "temporal", "test_days": 30, "validation_days": 30},
    "auto_promote": True,
}


def training_demo_start(*, catalog: Catalog, started_by: Any = None) -> TrainingJob | None:
    """The first run's demo job: launched once per catalog (None when it already has jobs), its
    version promoted when it passes the gate (see ``auto_promote``)."""
    if TrainingJob.objects.filter(catalog=catalog).exists():
        return None
    return training_job_start(catalog=catalog, params=DEMO_PARAMS, started_by=started_by, queue="auto")


def _device_name(queue: str) -> str:
    if queue == JobQueue.GPU and torch.cuda.is_available():
        return f"CUDA {torch.cuda.get_device_name(0)}"
    return f"CPU ({torch.get_num_threads()} threads)"


def _signals_for(job: TrainingJob) -> tuple[SignalSpec, ...]:
    """The job's signals; on the cpu queue configs with a ``device`` field are pinned to cpu."""
    configs = dict(job.params.get("configs") or {})
    specs = []
    for name in job.params["signals"]:
        overrides = dict(configs.get(name) or {})
        fields = {f.name for f in dataclasses.fields(get_recommender(name).Config)}
        if job.queue == JobQueue.CPU and "device" in fields and "device" not in overrides:
            overrides["device"] = "cpu"
        if "cache_dir" in fields and "cache_dir" not in overrides:  # text: unchanged products are not re-encoded
            overrides["cache_dir"] = str(Path(settings.ARTIFACTS_DIR) / "cache" / "embeddings")
        if name == "image":  # the server's CLIP folder, never a path from the form
            overrides["model"] = settings.IMAGE_MODEL_DIR
        specs.append(SignalSpec.parse(name, overrides))
    return tuple(specs)


def _peak_memory_mb(device: str) -> float:
    if device.startswith("CUDA"):
        return torch.cuda.max_memory_allocated() / 2**20
    # ru_maxrss is in KiB on Linux: the worker process's peak resident memory.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _claim(job_id: int) -> TrainingJob | None:
    """Move a queued job to running (None when it is not queued: cancelled, done or taken)."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update(of=("self",)).select_related("catalog").filter(pk=job_id).first()
        if job is None or job.status != JobStatus.QUEUED:
            return None
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = job.heartbeat_at = timezone.now()
        job.device = _device_name(job.queue)
        job.error = ""
        job.save(update_fields=["status", "attempts", "started_at", "heartbeat_at", "device", "error"])
    return job


def _finish(job: TrainingJob, status: str, *, callback: JobCallback | None, error: str = "") -> None:
    if callback is not None:
        callback.flush(force=True)
    fields: dict[str, Any] = {"status": status, "finished_at": timezone.now(), "error": error[:5000]}
    if callback is not None and error:
        fields["log"] = (callback.log_text() + "\n" + error)[-20_000:]
    fields["peak_memory_mb"] = _peak_memory_mb(job.device)
    if status == JobStatus.SUCCEEDED:
        fields["percent"] = 100.0
        fields["eta_seconds"] = 0.0
    TrainingJob.objects.filter(pk=job.pk).update(**fields)


def training_job_run(*, job_id: int, progress_interval_s: float = 2.0) -> str:
    """Run the queued job ``job_id`` to the end; returns its final status (or its status if not queued)."""
    job = _claim(job_id)
    if job is None:
        current = TrainingJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        log.info("job %s is %s, not queued: nothing to do", job_id, current)
        return str(current)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    heartbeat = Heartbeat(job.pk, settings.TRAINING_HEARTBEAT_S)
    heartbeat.start()
    callback: JobCallback | None = None
    out = bundle_folder(job)
    try:
        signals = _signals_for(job)
        checked = parse_params({**job.params, "configs": {}})
        config = RunConfig(signals=signals, ks=checked.ks)
        fits = len(signals) * (2 if len(signals) > 1 else 1)
        callback = JobCallback(job.pk, steps_total=fits + 1, interval_s=progress_interval_s)
        shutil.rmtree(out, ignore_errors=True)  # an earlier attempt's unregistered bundle
        callback.log(f"device: {job.device}; signals: {', '.join(s.name for s in signals)}")
        events, products = snapshot_read(job_folder(job))
        data, report = clean_dataset(Dataset.from_frames(events, products, event_weights=checked.event_weights))
        callback.log(f"cleaning: {report.as_dict()}")
        budget = training_budget_recheck(data=data, signals=signals)  # this worker's memory, before any fit
        callback.log(f"memory: about {budget.peak_bytes >> 20:,} MB of a {budget.budget_bytes >> 20:,} MB budget")
        split = checked.split.make(data)
        if not len(split.validation.events):  # no tuning: the runner fits each signal once
            callback.steps_total = len(signals) + 1
        callback.log(f"split {split.name}: {split.describe()}")
        result = run_job(job=job, folder=job_folder(job), data=data, split=split, config=config, callback=callback)
        callback.check()
        write_bundle(out, result, extra_meta={"job": job.pk, "catalog": job.catalog.slug})
        _build_search_index(job, out, products, result, callback, events=events)
        with transaction.atomic():
            version = version_register(job=job, result=result, folder=out, split_spec=checked.split.to_dict())
            callback.lines.append(f"registered version {version.number} (candidate)")
            _finish(job, JobStatus.SUCCEEDED, callback=callback)
        if job.params.get("auto_promote"):
            _auto_promote(job, version)
        return JobStatus.SUCCEEDED
    except Cancelled:
        shutil.rmtree(out, ignore_errors=True)
        if callback is not None:
            callback.log("cancelled by request")
        _finish(job, JobStatus.CANCELLED, callback=callback)
        return JobStatus.CANCELLED
    except TrainingInputError as exc:  # refused on the worker (the memory budget): the message is the fix
        shutil.rmtree(out, ignore_errors=True)
        _finish(job, JobStatus.FAILED, callback=callback, error=str(exc))
        return JobStatus.FAILED
    except Exception as exc:
        shutil.rmtree(out, ignore_errors=True)
        log.exception("training job %s failed", job.pk)
        message = f"{type(exc).__name__}: {exc}"
        if callback is None:
            TrainingJob.objects.filter(pk=job.pk).update(log=traceback.format_exc()[-20_000:])
        _finish(job, JobStatus.FAILED, callback=callback,
                error=message if callback is None else message + "\n" + traceback.format_exc())
        return JobStatus.FAILED
    finally:
        heartbeat.stop()


def _build_search_index(job: TrainingJob, bundle: Path, products: pd.DataFrame, result: RunResult,
                        callback: JobCallback, events: pd.DataFrame | None = None) -> None:
    """Phase "search index": index the snapshot's products into ``bundle/search`` before the version is
    registered (a failure fails the job, so no version lacks or has half an index). The snapshot's
    searches followed by clicks or purchases fine-tune the index's encoder when there are enough."""
    from dashboard.services.search_index import attributes_of, index_build
    from dashboard.services.training_snapshot import searches_read

    text = result.models.get("text")
    started = time.monotonic()
    folder = index_build(bundle=bundle, products=products, attributes=attributes_of(catalog=job.catalog),
                         text_model=str(getattr(getattr(text, "config", None), "model", "") or ""),
                         progress=lambda done, total: callback.progress(phase="search index", done=done, total=total),
                         events=events, searches=searches_read(job_folder(job)), callback=callback)
    callback.log(f"search index: {len(products)} products in {time.monotonic() - started:.1f} s ({folder.name}/)")
    callback.check()


def _auto_promote(job: TrainingJob, version: ModelVersion) -> None:
    """Promote through the gate (scheduled and demo jobs); a refusal is logged, never raised."""
    try:
        version_promote(version=version, by=job.started_by)
        note = f"version {version.number} promoted (auto-promote)"
    except Exception as exc:  # the version stays a registered candidate whatever happens here
        note = f"version {version.number} not promoted: {exc}"
    TrainingJob.objects.filter(pk=job.pk).update(log=Concat("log", Value("\n" + note)))


def training_job_cancel(*, job: TrainingJob, by: Any = None) -> TrainingJob:
    """Cancel: a queued job stops at once; a running one at the engine's next safe point (seconds)."""
    now = timezone.now()
    if TrainingJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.CANCELLED, cancel_requested=True, finished_at=now):
        if job.celery_task_id:
            current_app.control.revoke(job.celery_task_id)  # the fallback; the status check suffices
    elif not TrainingJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(cancel_requested=True):
        job.refresh_from_db()
        raise TrainingInputError(f"job {job.pk} is already {job.get_status_display()}; nothing to cancel")
    audit(actor=by, action="job.cancel", catalog=job.catalog, target=f"job {job.pk}")
    job.refresh_from_db()
    return job


def jobs_reap(*, stale_after_s: float | None = None) -> dict[str, list[int]]:
    """Requeue or fail running jobs whose heartbeat is older than ``stale_after_s`` (see the policy above)."""
    stale_s = settings.TRAINING_STALE_AFTER_S if stale_after_s is None else stale_after_s
    cutoff = timezone.now() - dt.timedelta(seconds=stale_s)
    out: dict[str, list[int]] = {"requeued": [], "failed": []}
    with transaction.atomic():
        stale = TrainingJob.objects.select_for_update(skip_locked=True, of=("self",)).select_related("catalog").filter(
            Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff),
            status=JobStatus.RUNNING,
        )
        for job in stale:
            note = f"no heartbeat since {job.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC (the worker stopped)"
            _remove_partials(bundle_folder(job))
            if job.attempts < settings.TRAINING_MAX_ATTEMPTS and not job.cancel_requested:
                job.status = JobStatus.QUEUED
                job.log = (job.log + f"\n{note}; queued again (attempt {job.attempts + 1})")[-20_000:]
                job.save(update_fields=["status", "log"])
                _enqueue(job)
                out["requeued"].append(job.pk)
            else:
                job.status = JobStatus.CANCELLED if job.cancel_requested else JobStatus.FAILED
                job.error = f"{note}; gave up after {job.attempts} attempt(s)"
                job.finished_at = timezone.now()
                job.save(update_fields=["status", "error", "finished_at"])
                out["failed"].append(job.pk)
            AuditEntry.objects.create(action="job.reap", catalog=job.catalog, target=f"job {job.pk}",
                                      detail={"outcome": job.status, "attempts": job.attempts})
    jobs.redispatch_stranded(TrainingJob)  # queued jobs the broker never took (it was down at launch)
    return out


def _remove_partials(folder: Path) -> None:
    """Remove a dead worker's half-written bundle (write_bundle's hidden ``.<name>.partial-*``)."""
    if folder.parent.exists():
        for partial in folder.parent.glob(f".{folder.name}.partial-*"):
            shutil.rmtree(partial, ignore_errors=True)
