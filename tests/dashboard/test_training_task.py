"""Training jobs on real Celery workers (Redis broker, PostgreSQL): run, cancel, kill -9 and reap."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from dashboard.models import JobStatus, ModelVersion, TrainingJob, VersionState
from dashboard.services.training import TASK_RUN, bundle_folder, jobs_reap, training_job_cancel, training_job_start
from tests.conftest import ROOT
from tests.dashboard.training_data import fill_catalog

SPLIT = {"kind": "temporal", "test_days": 20, "validation_days": 15}
pytestmark = pytest.mark.django_db(transaction=True)


def slow(epochs: int) -> dict:
    return {"signals": ["popularity", "mf"], "configs": {"mf": {"epochs": epochs, "factors": 8}}, "split": SPLIT}


def wait_for(job: TrainingJob, until, timeout: float = 90.0, seen: list | None = None) -> TrainingJob:
    deadline = time.time() + timeout
    while time.time() < deadline:
        job.refresh_from_db()
        if seen is not None:
            seen.append((job.status, job.percent, len(job.metrics_history)))
        if until(job):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job.pk} stuck at {job.status} {job.percent}% phase {job.phase!r}; log:\n{job.log}")


def test_a_worker_runs_a_job_from_queued_to_a_registered_version(celery_worker_process, catalog):
    fill_catalog(catalog)
    job = training_job_start(catalog=catalog, params=slow(8000))  # seconds: several progress writes (every 2 s)
    seen: list = []
    wait_for(job, lambda j: j.finished, seen=seen)
    assert job.status == JobStatus.SUCCEEDED, job.error
    running = [s for s in seen if s[0] == JobStatus.RUNNING]
    assert running, f"never saw the job running: {seen[:5]}"
    assert len({(s[1], s[2]) for s in running}) > 1, f"progress rows did not advance: {running}"
    assert sum(1 for p in job.metrics_history if "loss" in p) >= 100
    version = ModelVersion.objects.get(job=job)
    assert version.state == VersionState.CANDIDATE and Path(version.artifact_path, "meta.json").exists()


def test_cancel_stops_a_running_job_within_seconds(celery_worker_process, catalog):
    fill_catalog(catalog)
    job = training_job_start(catalog=catalog, params=slow(10_000))  # the bound: far longer than the wait
    wait_for(job, lambda j: j.status == JobStatus.RUNNING and j.phase == "mf")
    asked = time.time()
    training_job_cancel(job=job, by=None)
    wait_for(job, lambda j: j.finished, timeout=15)
    assert job.status == JobStatus.CANCELLED and time.time() - asked < 10
    assert not ModelVersion.objects.filter(job=job).exists() and not bundle_folder(job).exists()


@pytest.fixture
def own_worker():
    """A worker of this test alone, on its own queue, that the test may kill -9."""
    db = settings.DATABASES["default"]
    queue = f"killable-{os.getpid()}"
    env = dict(os.environ, TRAINING_HEARTBEAT_S="0.5",
               DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}")
    log = open(Path(settings.VAR_DIR) / "celery-killable.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "recsite", "worker", "-Q", queue, "--pool=solo", "--loglevel=info",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"killable-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    yield proc, queue
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=20)
    log.close()


def test_a_job_whose_worker_is_killed_is_reaped_and_never_registers(own_worker, catalog, tmp_path, settings,
                                                                    monkeypatch):
    from celery import current_app

    proc, queue = own_worker
    fill_catalog(catalog)
    folder = tmp_path / "v1"
    folder.mkdir()
    (folder / "meta.json").write_text("{}")
    active = ModelVersion.objects.create(catalog=catalog, number=1, artifact_path=str(folder),
                                         state=VersionState.ACTIVE, data_fingerprint="f", split="s")
    monkeypatch.setattr("dashboard.services.training.current_app.send_task", lambda *a, **kw: None)
    job = training_job_start(catalog=catalog, params=slow(10_000))  # the bound: far longer than the wait
    monkeypatch.undo()  # the patch sat on the app itself
    current_app.send_task(TASK_RUN, args=[job.pk], queue=queue)  # to our worker only
    wait_for(job, lambda j: j.status == JobStatus.RUNNING and j.phase == "mf", timeout=120)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    settings.TRAINING_MAX_ATTEMPTS = 1  # no retry: the shared worker must not pick the slow job up
    assert jobs_reap(stale_after_s=60) == {"requeued": [], "failed": []}  # still fresh
    time.sleep(2.5)
    assert jobs_reap(stale_after_s=2) == {"requeued": [], "failed": [job.pk]}
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "no heartbeat" in job.error
    assert list(ModelVersion.objects.values_list("pk", "state")) == [(active.pk, VersionState.ACTIVE)]
    assert not bundle_folder(job).exists()
