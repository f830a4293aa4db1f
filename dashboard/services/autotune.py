"""Auto-tune a fusion config: a job that proposes weights and says how much they gain.

:func:`autotune_start` records a queued :class:`AutoTuneRun` for a saved config and queues
``dashboard.fusion_autotune`` after the commit. :func:`autotune_run` (on a worker) takes the
recipe of the catalog's active version (its signals and their settings, its split), snapshots
the catalog the way training does, fits the signals on the part before the validation window
and tunes the weights there with :func:`mlcore.training.runner.tune_on_validation`, starting
from the config's current weights. Both figures are measured on the same validation users,
so the proposal never scores below the current weights. The operator then accepts the
proposal (it is loaded into the editor, and saving it goes through the normal save path
with its revision) or dismisses it; both are audited. A worker stamps the run's ``heartbeat_at``
while it works; :func:`autotune_reap` (celery beat, every minute) fails a running run whose worker
stopped, so the config can be tuned again.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Literal, cast

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard.models import (
    AutoTuneRun,
    Decision,
    FusionConfig,
    JobQueue,
    JobStatus,
    ModelVersion,
)
from dashboard.selectors.training import active_version
from dashboard.services import jobs
from dashboard.services.audit import audit
from dashboard.services.training_progress import Heartbeat
from dashboard.services.training_snapshot import (
    DEFAULT_SPLIT,
    parse_event_weights,
    parse_split,
    snapshot_read,
    snapshot_write,
)
from mlcore.data import Dataset, SplitSpec, clean_dataset
from mlcore.evaluation import TuneConfig
from mlcore.fusion import ExcludeBought, Normalization, rule_from_dict
from mlcore.recommenders import get as get_recommender
from mlcore.runtime import Callback, Cancelled
from mlcore.training.runner import RunConfig, SignalSpec, tune_on_validation

log = logging.getLogger(__name__)
TASK_AUTOTUNE = "dashboard.fusion_autotune"
TASK_AUTOTUNE_REAP = "dashboard.fusion_autotune_reap"
METRIC = "ndcg@10"
MIN_VALIDATION_EVENTS = 20
IN_FLIGHT = (JobStatus.QUEUED, JobStatus.RUNNING)
# Share of the bar per step: the snapshot, the signal fits (split evenly), the weight search.
SNAPSHOT_PCT, FIT_PCT = 5.0, 80.0


class AutoTuneError(ValueError):
    """The auto-tune cannot start or cannot go on; the message says why and what to do."""


def run_folder(run: AutoTuneRun) -> Path:
    return Path(settings.ARTIFACTS_DIR) / "autotune" / str(run.pk)


def _in_flight(config: FusionConfig) -> AutoTuneRun | None:
    return config.autotune_runs.filter(status__in=IN_FLIGHT).first()


def _queue_of(version: ModelVersion) -> str:
    job = version.job
    return job.queue if job is not None and job.queue in JobQueue.values else JobQueue.CPU


jobs.register(jobs.JobKind(
    model=AutoTuneRun, task=TASK_AUTOTUNE, max_attempts=lambda: 1_000_000,  # never requeued: the reaper fails it
    queue=lambda run: _queue_of(run.version) if run.version is not None else JobQueue.CPU))


def autotune_start(*, config: FusionConfig, started_by: Any = None) -> AutoTuneRun:
    """Queue an auto-tune of ``config`` with the active version's recipe (after the commit)."""
    catalog = config.catalog
    version = active_version(catalog=catalog)
    if version is None:
        raise AutoTuneError(_("This catalog has no active model version: train one and promote it, then auto-tune."))
    if len(version.signals) < 2:
        raise AutoTuneError(_("The active version %(number)s has only one signal (%(signals)s): there are no weights "
                              "to tune. Train a version with two signals or more.")
                            % {"number": version.number, "signals": ", ".join(version.signals) or "—"})
    with transaction.atomic():
        config = FusionConfig.objects.select_for_update().get(pk=config.pk)
        running = _in_flight(config)
        if running is not None:
            raise AutoTuneError(_("An auto-tune of this config is already %(status)s (run %(run)s); wait for it or "
                                  "dismiss it.") % {"status": running.get_status_display(), "run": running.pk})
        # an older proposal nobody decided on is superseded by the new run
        config.autotune_runs.filter(decision=Decision.PENDING).update(decision=Decision.DISMISSED,
                                                                       decided_at=timezone.now())
        user = started_by if getattr(started_by, "pk", None) else None
        start = {s: float(config.weights.get(s, 0.0)) for s in sorted(version.signals)}
        run = AutoTuneRun.objects.create(config=config, version=version, started_by=user, start_weights=start,
                                         metric_name=METRIC, normalization=config.normalization,
                                         celery_task_id=str(uuid.uuid4()))
        audit(actor=started_by, action="fusion.autotune.start", catalog=catalog, target=f"fusion config {config.name}",
              detail={"run": run.pk, "version": version.number, "weights": start})
        jobs.job_enqueue(run)  # sent after the commit; a broker outage leaves it to the reaper
    return run


# -- the worker's side ------------------------------------------------------------------
class RunCallback(Callback):
    """Writes a run's phase and percent (at most every ``interval_s``); stops when it was dismissed."""

    def __init__(self, run_id: int, *, signals: int, interval_s: float = 1.0) -> None:
        self.run_id, self.signals, self.interval_s = run_id, max(signals, 1), interval_s
        self.fitted = 0
        self.phase, self.percent = "", 0.0
        self._last_flush = self._last_check = 0.0
        self._stop = False

    def step(self, phase: str, percent: float) -> None:
        self.phase, self.percent = phase, percent
        self.flush(force=True)

    def progress(self, *, phase: str, done: int, total: int, metrics: dict[str, float] | None = None) -> None:
        inside = min(done / total, 1.0) if total > 0 else 0.0
        share = FIT_PCT / self.signals
        self.percent = round(SNAPSHOT_PCT + share * (self.fitted + inside), 1)
        self.flush()

    def should_stop(self) -> bool:
        now = time.monotonic()
        if not self._stop and now - self._last_check >= 1.0:
            self._last_check = now
            self._stop = AutoTuneRun.objects.filter(pk=self.run_id, cancel_requested=True).exists()
        return self._stop

    def flush(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_flush >= self.interval_s:
            self._last_flush = now
            AutoTuneRun.objects.filter(pk=self.run_id, status=JobStatus.RUNNING).update(
                phase=self.phase[:100], percent=min(self.percent, 99.0))


def _claim(run_id: int) -> AutoTuneRun | None:
    with transaction.atomic():
        run = (AutoTuneRun.objects.select_for_update(of=("self",))
               .select_related("config__catalog", "version__job").filter(pk=run_id).first())
        if run is None or run.status != JobStatus.QUEUED:
            return None
        run.status, run.started_at = JobStatus.RUNNING, timezone.now()
        run.heartbeat_at = run.started_at
        run.save(update_fields=["status", "started_at", "heartbeat_at"])
    return run


def _finish(run: AutoTuneRun, status: str, **fields: Any) -> str:
    """Write the outcome unless the run was dismissed meanwhile (then it stays cancelled)."""
    done = dict(fields, status=status, finished_at=timezone.now())
    if status == JobStatus.SUCCEEDED:
        done["percent"] = 100.0
    AutoTuneRun.objects.filter(pk=run.pk, status=JobStatus.RUNNING).update(**done)
    return str(AutoTuneRun.objects.filter(pk=run.pk).values_list("status", flat=True).first())


def recipe(version: ModelVersion, queue: str) -> tuple[tuple[SignalSpec, ...], SplitSpec]:
    """The version's signals with their settings and its split spec (the training default without a job).

    On the cpu queue settings with a ``device`` field are pinned to the cpu, as training does.
    """
    specs = []
    for name in sorted(version.signals):
        overrides = dict(version.signals.get(name) or {})
        try:
            fields = {f.name for f in dataclasses.fields(get_recommender(name).Config)}
        except KeyError:
            raise AutoTuneError(f"signal {name!r} of version {version.number} is no longer available; "
                                "train a new version") from None
        overrides = {k: v for k, v in overrides.items() if k in fields}
        if queue == JobQueue.CPU and "device" in fields:
            overrides["device"] = "cpu"
        try:
            specs.append(SignalSpec.parse(name, overrides))
        except ValueError as exc:
            raise AutoTuneError(f"version {version.number}: {exc}") from None
    job = version.job
    split = parse_split(job.params.get("split") if job is not None else DEFAULT_SPLIT)
    return tuple(specs), split


def _target(config: FusionConfig) -> Literal["all", "exclude_seen"]:
    """``exclude_seen`` when the config drops already-bought items (the metric then matches serving)."""
    rules = [rule_from_dict(r) for r in config.rules or []]
    return "exclude_seen" if any(isinstance(r, ExcludeBought) for r in rules) else "all"


def _tune(run: AutoTuneRun, callback: RunCallback) -> dict[str, Any]:
    config, version = run.config, run.version
    if version is None:
        raise AutoTuneError("the model version this run was started for was deleted; start the auto-tune again")
    specs, split_spec = recipe(version, _queue_of(version))
    callback.step("snapshot", 0.0)
    folder = run_folder(run)
    snapshot_write(catalog=config.catalog, folder=folder)
    events, products = snapshot_read(folder)
    weights = parse_event_weights(version.job.params.get("event_weights") if version.job is not None else None)
    data, _report = clean_dataset(Dataset.from_frames(events, products, event_weights=weights))
    try:
        split = split_spec.make(data)
    except ValueError as exc:
        raise AutoTuneError(f"cannot split the catalog's events like version {version.number} did: {exc}") from None
    n_validation = len(split.validation.events)
    if n_validation < MIN_VALIDATION_EVENTS:
        raise AutoTuneError(
            f"Too few events in the validation window: {n_validation}, at least {MIN_VALIDATION_EVENTS} are needed "
            f"(split {split_spec}). Import more events, or train a version with a longer validation window.")
    callback.check()
    models = {}
    for spec in specs:
        callback.step(f"fit {spec.name}", SNAPSHOT_PCT + FIT_PCT * callback.fitted / callback.signals)
        models[spec.name] = spec.build().fit(split.train, callback)
        callback.fitted += 1
        callback.check()
    callback.step("tune", SNAPSHOT_PCT + FIT_PCT)
    target = _target(config)
    normalization = cast(Normalization, config.normalization)
    tune = TuneConfig(metric=METRIC, start_weights=dict(run.start_weights), normalization=normalization)
    run_config = RunConfig(signals=specs, normalization=normalization, tune_config=tune, tune_target=target)
    try:
        result = tune_on_validation(models, split, run_config, {})
    except ValueError as exc:  # e.g. no validation shopper left once already-bought items are removed
        raise AutoTuneError(f"Too few validation interactions to tune on: {exc}") from None
    return {"proposed_weights": {k: float(v) for k, v in result.weights.items()}, "metric_name": result.metric_name,
            "metric_before": float(result.baseline), "metric_after": float(result.metric), "target": target,
            "evaluations": result.evaluations, "validation_events": n_validation,
            "validation_users": int(min(len(split.validation_users()), tune.max_users))}


def autotune_run(*, run_id: int) -> str:
    """Run the queued auto-tune ``run_id`` to the end; returns its final status."""
    run = _claim(run_id)
    if run is None:
        return str(AutoTuneRun.objects.filter(pk=run_id).values_list("status", flat=True).first())
    callback = RunCallback(run.pk, signals=len(run.version.signals) if run.version else 1)
    heartbeat = Heartbeat(run.pk, settings.TRAINING_HEARTBEAT_S, model=AutoTuneRun)
    heartbeat.start()
    try:
        outcome = _tune(run, callback)
        return _finish(run, JobStatus.SUCCEEDED, phase="done", **outcome)
    except Cancelled:
        return _finish(run, JobStatus.CANCELLED, phase="cancelled")
    except AutoTuneError as exc:
        return _finish(run, JobStatus.FAILED, error=str(exc)[:5000])
    except Exception as exc:
        log.exception("auto-tune %s failed", run.pk)
        return _finish(run, JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:5000])
    finally:
        heartbeat.stop()
        shutil.rmtree(run_folder(run), ignore_errors=True)


def autotune_reap(*, stale_after_s: float | None = None) -> list[int]:
    """Fail running auto-tunes whose heartbeat is older than ``stale_after_s`` (their worker stopped; an
    auto-tune is cheap to start again, so it is not requeued); returns their ids."""
    stale_s = settings.TRAINING_STALE_AFTER_S if stale_after_s is None else stale_after_s
    cutoff = timezone.now() - dt.timedelta(seconds=stale_s)
    reaped = []
    with transaction.atomic():
        stale = AutoTuneRun.objects.select_for_update(skip_locked=True, of=("self",)).select_related(
            "config__catalog").filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff),
                                      status=JobStatus.RUNNING)
        for run in stale:
            since = run.heartbeat_at or run.started_at
            run.status, run.finished_at = JobStatus.FAILED, timezone.now()
            run.error = (f"The worker running this auto-tune stopped (no heartbeat since {since:%Y-%m-%d %H:%M:%S} "
                         "UTC). Start the auto-tune again.")
            run.save(update_fields=["status", "finished_at", "error"])
            shutil.rmtree(run_folder(run), ignore_errors=True)
            audit(actor=None, action="fusion.autotune.reap", catalog=run.config.catalog,
                  target=f"fusion config {run.config.name}", detail={"run": run.pk})
            reaped.append(run.pk)
    jobs.redispatch_stranded(AutoTuneRun)  # queued runs the broker never took (it was down at launch)
    return reaped


# -- the operator's decision ----------------------------------------------------------------
def autotune_accept(*, run: AutoTuneRun, by: Any = None) -> AutoTuneRun:
    """Mark a finished proposal accepted (audited); the editor loads its weights for review and saving."""
    with transaction.atomic():
        run = AutoTuneRun.objects.select_for_update(of=("self",)).select_related("config__catalog").get(pk=run.pk)
        if run.status != JobStatus.SUCCEEDED or not run.proposed_weights:
            raise AutoTuneError(f"auto-tune run {run.pk} is {run.get_status_display()}: it has no proposal to accept")
        if run.decision == Decision.DISMISSED:
            raise AutoTuneError(f"auto-tune run {run.pk} was dismissed; start a new auto-tune")
        run.decision, run.decided_at = Decision.ACCEPTED, timezone.now()
        run.decided_by = by if getattr(by, "pk", None) else None
        run.save(update_fields=["decision", "decided_at", "decided_by"])
        audit(actor=by, action="fusion.autotune.accept", catalog=run.config.catalog,
              target=f"fusion config {run.config.name}",
              detail={"run": run.pk, "weights": run.proposed_weights, "before": run.start_weights,
                      "metric": run.metric_name, "metric_before": run.metric_before,
                      "metric_after": run.metric_after, "gain": run.gain})
    return run


def autotune_dismiss(*, run: AutoTuneRun, by: Any = None) -> AutoTuneRun:
    """Discard a proposal; a run still queued or running is cancelled (the worker stops at its next check)."""
    with transaction.atomic():
        run = AutoTuneRun.objects.select_for_update(of=("self",)).select_related("config__catalog").get(pk=run.pk)
        if run.decision == Decision.ACCEPTED:
            raise AutoTuneError(f"auto-tune run {run.pk} was already accepted")
        fields = ["decision", "decided_at", "decided_by"]
        if run.status in IN_FLIGHT:
            run.status, run.cancel_requested, run.finished_at = JobStatus.CANCELLED, True, timezone.now()
            fields += ["status", "cancel_requested", "finished_at"]
            if run.celery_task_id:
                transaction.on_commit(lambda: current_app.control.revoke(run.celery_task_id))
        run.decision, run.decided_at = Decision.DISMISSED, timezone.now()
        run.decided_by = by if getattr(by, "pk", None) else None
        run.save(update_fields=fields)
        audit(actor=by, action="fusion.autotune.dismiss", catalog=run.config.catalog,
              target=f"fusion config {run.config.name}", detail={"run": run.pk, "status": run.status})
    return run


def autotune_progress(*, run: AutoTuneRun) -> dict[str, Any]:
    """What the page polls: status, phase, percent, and once done the proposal beside the current weights."""
    return {"id": run.pk, "status": run.status, "status_label": run.get_status_display(), "finished": run.finished,
            "phase": run.phase, "percent": run.percent, "error": run.error, "decision": run.decision,
            "metric_name": run.metric_name, "target": run.target, "metric_before": run.metric_before,
            "metric_after": run.metric_after, "gain": run.gain, "start_weights": run.start_weights,
            "proposed_weights": run.proposed_weights, "validation_users": run.validation_users,
            "validation_events": run.validation_events}


def autotune_latest(*, config: FusionConfig) -> AutoTuneRun | None:
    """The config's newest run nobody has decided on yet (what the editor shows)."""
    return config.autotune_runs.filter(decision=Decision.PENDING).select_related("started_by").first()


def accepted_weights(*, config: FusionConfig, run_id: Any) -> dict[str, float] | None:
    """The weights of ``config``'s accepted run ``run_id`` (None when there is no such run)."""
    try:
        pk = int(run_id)
    except (TypeError, ValueError):
        return None
    run = config.autotune_runs.filter(pk=pk, decision=Decision.ACCEPTED).first()
    return dict(run.proposed_weights) if run is not None and run.proposed_weights else None


def proposal_rows(run: AutoTuneRun) -> list[dict[str, Any]]:
    """``[{"signal", "current", "proposed", "change"}]`` per signal, for the proposal table (empty without one)."""
    if not run.proposed_weights:
        return []
    names = sorted({*run.start_weights, *run.proposed_weights})
    out = []
    for name in names:
        current, proposed = float(run.start_weights.get(name, 0.0)), float(run.proposed_weights.get(name, 0.0))
        out.append({"signal": name, "current": current, "proposed": proposed, "change": proposed - current})
    return out
