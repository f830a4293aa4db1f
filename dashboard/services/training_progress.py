"""Progress of a running job: the engine's callback, written to the job row, and a heartbeat.

:class:`JobCallback` turns ``mlcore`` progress into row updates at most every
``interval_s`` seconds (always with ``force``), keeps the log tail and the metric history for
the curves, and answers ``should_stop()`` from the row's ``cancel_requested`` flag (read at most
once a second). :class:`Heartbeat` is a thread that stamps ``heartbeat_at`` while a long step
(one big EASE solve) reports nothing; when the worker dies, the stamps stop and the reaper acts.
Updates touch only progress columns, so a cancel request written by the web is never overwritten.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from django.db import close_old_connections, connection, models
from django.utils import timezone

from dashboard.models import TrainingJob
from mlcore.runtime import Callback

LOG_MAX_CHARS = 20_000
HISTORY_MAX_POINTS = 2_000


class JobCallback(Callback):
    """Writes a job's progress; ``steps_total`` = signal fits + 1 (the evaluation)."""

    def __init__(self, job_id: int, *, steps_total: int, interval_s: float = 2.0) -> None:
        self.job_id = job_id
        self.steps_total = max(steps_total, 1)
        self.interval_s = interval_s
        self.started = time.monotonic()
        self.steps_done = 0
        self.fraction = 0.0
        self.phase = ""
        self.done = 0
        self.total = 0
        self.metrics: dict[str, float] = {}
        self.history: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self.samples_per_s: float | None = None
        self._last_flush = 0.0
        self._last_cancel_check = 0.0
        self._cancel = False

    # -- the engine's side ----------------------------------------------------------
    def progress(self, *, phase: str, done: int, total: int, metrics: dict[str, float] | None = None) -> None:
        if phase.startswith("fit:") and phase.count(":") == 2:
            if done >= total:  # one signal fitted
                self.steps_done += 1
                self.fraction = 0.0
        elif phase == "evaluate":
            self.steps_done = self.steps_total - 1 + (1 if done >= total else 0)
            self.fraction = 0.0
        elif not phase.startswith("fit:") and total > 0:  # inside a fit: epochs of mf, text…
            self.fraction = min(done / total, 1.0)
        self.phase, self.done, self.total = phase, done, total
        if metrics:
            clean = {k: float(v) for k, v in metrics.items() if isinstance(v, int | float)}
            self.metrics.update(clean)
            if "samples_per_s" in clean:
                self.samples_per_s = clean["samples_per_s"]
            point = {"t": round(time.monotonic() - self.started, 2), "phase": phase, "done": done, "total": total,
                     **clean}
            self.history.append(point)
            del self.history[:-HISTORY_MAX_POINTS]
        self.flush()

    def log(self, message: str) -> None:
        stamp = timezone.now().strftime("%H:%M:%S")
        self.lines.append(f"{stamp} {message}")
        self.flush()

    def should_stop(self) -> bool:
        now = time.monotonic()
        if not self._cancel and now - self._last_cancel_check >= 1.0:
            self._last_cancel_check = now
            self._cancel = TrainingJob.objects.filter(pk=self.job_id, cancel_requested=True).exists()
        return self._cancel

    # -- the row's side -------------------------------------------------------------
    @property
    def percent(self) -> float:
        value = 100.0 * (self.steps_done + self.fraction) / self.steps_total
        return round(min(value, 99.0), 1)

    def log_text(self) -> str:
        return "\n".join(self.lines)[-LOG_MAX_CHARS:]

    def flush(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_flush < self.interval_s:
            return
        self._last_flush = now
        elapsed = now - self.started
        pct = self.percent
        eta = elapsed * (100.0 - pct) / pct if pct > 0 else None
        TrainingJob.objects.filter(pk=self.job_id).update(
            phase=self.phase[:100], progress_done=self.done, progress_total=self.total, percent=pct,
            last_metrics=self.metrics, metrics_history=self.history, samples_per_s=self.samples_per_s,
            eta_seconds=eta, heartbeat_at=timezone.now(), log=self.log_text(),
        )


class Heartbeat(threading.Thread):
    """Stamps ``heartbeat_at`` of row ``job_id`` of ``model`` (a training job unless told) every ``every_s``
    seconds until :meth:`stop` (own DB connection)."""

    def __init__(self, job_id: int, every_s: float, model: type[models.Model] | None = None) -> None:
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.job_id = job_id
        self.every_s = every_s
        self.model = model or TrainingJob
        self._stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self._stopped.wait(self.every_s):
                self.model._default_manager.filter(pk=self.job_id).update(heartbeat_at=timezone.now())
        finally:
            close_old_connections()
            connection.close()

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=5)
