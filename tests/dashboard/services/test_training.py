"""Training jobs in-process: launch (snapshot + row), run, progress, failure, cancel, reaper."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from django.utils import timezone

from dashboard.models import AuditEntry, EvaluationReport, JobStatus, ModelVersion, TrainingJob, VersionState
from dashboard.services.training import (
    TrainingInputError,
    bundle_folder,
    job_folder,
    jobs_reap,
    training_job_cancel,
    training_job_run,
    training_job_start,
)
from dashboard.services.training_progress import JobCallback
from mlcore.serving.bundle import load_bundle
from tests.dashboard.training_data import fill_catalog

PARAMS = {"signals": ["popularity", "item_knn", "ease"], "configs": {"ease": {"l2": 50.0}},
          "split": {"kind": "temporal", "test_days": 20, "validation_days": 15}}


@pytest.fixture(autouse=True)
def _artifacts(settings, tmp_path):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"


@pytest.fixture
def filled(catalog):
    fill_catalog(catalog)
    return catalog


def test_it_snapshots_the_catalog_and_queues_a_job(filled, merchandiser, django_capture_on_commit_callbacks,
                                                    monkeypatch):
    sent = []
    monkeypatch.setattr("dashboard.services.training.current_app.send_task",
                        lambda name, **kw: sent.append((name, kw)))
    with django_capture_on_commit_callbacks(execute=True):
        job = training_job_start(catalog=filled, params=PARAMS, started_by=merchandiser)
    assert job.status == JobStatus.QUEUED and job.started_by == merchandiser
    events = pd.read_parquet(job_folder(job) / "events.parquet")
    products = pd.read_parquet(job_folder(job) / "products.parquet")
    assert (len(events), len(products)) == (80, 20)
    assert set(events.columns) >= {"user_id", "item_id", "timestamp", "type", "quantity"}
    assert sent == [("dashboard.training_run", {"args": [job.pk], "queue": "cpu", "task_id": job.celery_task_id})]
    assert AuditEntry.objects.get(action="job.launch").actor == merchandiser


def test_it_refuses_unknown_signals_and_bad_config_fields_by_name(filled):
    with pytest.raises(TrainingInputError, match="unknown recommender 'nope'"):
        training_job_start(catalog=filled, params={"signals": ["nope"]})
    with pytest.raises(TrainingInputError, match="signal 'ease'.*l2"):
        training_job_start(catalog=filled, params={"signals": ["ease"], "configs": {"ease": {"lambda": 3}}})
    with pytest.raises(TrainingInputError, match="unknown split kind 'weekly'"):
        training_job_start(catalog=filled, params={"signals": ["ease"], "split": {"kind": "weekly"}})
    assert not TrainingJob.objects.exists()


def test_it_refuses_a_catalog_without_events(catalog):
    with pytest.raises(TrainingInputError, match="no events"):
        training_job_start(catalog=catalog, params=PARAMS)


def test_a_run_registers_a_candidate_version_with_its_report(filled):
    job = training_job_start(catalog=filled, params=PARAMS)
    assert training_job_run(job_id=job.pk, progress_interval_s=0) == JobStatus.SUCCEEDED
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.percent == 100.0 and job.attempts == 1
    assert job.device.startswith("CPU") and (job.peak_memory_mb or 0) > 0
    assert "fitting ease" in job.log and job.finished_at is not None
    version = ModelVersion.objects.get(job=job)
    assert (version.number, version.state) == (1, VersionState.CANDIDATE)
    assert version.metrics["scorer"] == "fused" and 0 <= (version.ndcg10 or -1) <= 1
    assert set(version.signals) == {"popularity", "item_knn", "ease"} and version.signals["ease"]["l2"] == 50.0
    assert version.split.startswith("temporal:")
    report = EvaluationReport.objects.get(version=version).report
    assert report["metrics"]["all"]["fused"]["ndcg@10"] == pytest.approx(version.ndcg10)
    bundle = load_bundle(version.artifact_path)
    assert bundle.meta["job"] == job.pk and bundle.meta["data_fingerprint"] == version.data_fingerprint
    assert Path(version.artifact_path) == bundle_folder(job)


def test_the_second_run_of_a_catalog_gets_the_next_number(filled):
    for _ in range(2):
        training_job_run(job_id=training_job_start(catalog=filled, params={**PARAMS, "signals": ["popularity"],
                                                                          "configs": {}}).pk)
    assert list(ModelVersion.objects.values_list("number", flat=True)) == [2, 1]


def test_a_redelivered_task_for_a_finished_job_does_nothing(filled):
    job = training_job_start(catalog=filled, params={**PARAMS, "signals": ["popularity"], "configs": {}})
    training_job_run(job_id=job.pk)
    assert training_job_run(job_id=job.pk) == JobStatus.SUCCEEDED
    assert ModelVersion.objects.count() == 1


def test_a_failing_run_is_marked_failed_with_its_error_and_registers_nothing(filled):
    job = training_job_start(catalog=filled, params={**PARAMS, "split": {"kind": "temporal", "test_days": 365}})
    assert training_job_run(job_id=job.pk) == JobStatus.FAILED
    job.refresh_from_db()
    assert "leaves train empty" in job.error and "Traceback" in job.log
    assert not ModelVersion.objects.exists()
    assert not bundle_folder(job).exists()


def test_cancelling_a_queued_job_stops_it_before_it_runs(filled, merchandiser):
    job = training_job_start(catalog=filled, params=PARAMS)
    training_job_cancel(job=job, by=merchandiser)
    assert training_job_run(job_id=job.pk) == JobStatus.CANCELLED
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.attempts == 0
    assert AuditEntry.objects.filter(action="job.cancel", actor=merchandiser).exists()
    with pytest.raises(TrainingInputError, match="already cancelled"):
        training_job_cancel(job=job, by=merchandiser)


def test_a_cancel_request_stops_a_running_job_at_the_next_safe_point(filled, monkeypatch):
    job = training_job_start(catalog=filled, params=PARAMS)
    original = JobCallback.progress

    def progress_then_cancel(self, **kw):
        original(self, **kw)
        if kw["phase"] == "fit:validation:popularity":
            TrainingJob.objects.filter(pk=self.job_id).update(cancel_requested=True)
            self._last_cancel_check = 0.0

    monkeypatch.setattr(JobCallback, "progress", progress_then_cancel)
    assert training_job_run(job_id=job.pk) == JobStatus.CANCELLED
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and "cancelled by request" in job.log
    assert not ModelVersion.objects.exists() and not bundle_folder(job).exists()


def test_progress_rows_record_percent_phase_and_metric_history(filled):
    job = training_job_start(catalog=filled, params=PARAMS)
    cb = JobCallback(job.pk, steps_total=3, interval_s=0)
    cb.progress(phase="mf", done=1, total=4, metrics={"loss": 0.5, "samples_per_s": 100.0})
    cb.progress(phase="fit:final:mf", done=1, total=1)
    job.refresh_from_db()
    assert job.percent == pytest.approx(100 / 3, abs=0.1)
    assert job.phase == "fit:final:mf" and job.samples_per_s == 100.0 and job.heartbeat_at is not None
    assert job.metrics_history[0]["loss"] == 0.5 and job.last_metrics["loss"] == 0.5
    assert job.eta_seconds is not None


def _stale_running_job(catalog, attempts: int) -> TrainingJob:
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    return TrainingJob.objects.create(catalog=catalog, status=JobStatus.RUNNING, attempts=attempts,
                                      started_at=long_ago, heartbeat_at=long_ago, params=PARAMS)


def test_the_reaper_requeues_a_silent_job_once_then_fails_it(catalog, settings, monkeypatch,
                                                             django_capture_on_commit_callbacks):
    settings.TRAINING_MAX_ATTEMPTS = 2
    sent = []
    monkeypatch.setattr("dashboard.services.training.current_app.send_task", lambda name, **kw: sent.append(kw))
    first, last = _stale_running_job(catalog, attempts=1), _stale_running_job(catalog, attempts=2)
    fresh = TrainingJob.objects.create(catalog=catalog, status=JobStatus.RUNNING, attempts=1,
                                       heartbeat_at=timezone.now(), params=PARAMS)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = jobs_reap(stale_after_s=60)
    assert outcome == {"requeued": [first.pk], "failed": [last.pk]}
    for j in (first, last, fresh):
        j.refresh_from_db()
    assert first.status == JobStatus.QUEUED and "queued again" in first.log
    assert [kw["args"] for kw in sent] == [[first.pk]]
    assert last.status == JobStatus.FAILED and "no heartbeat since" in last.error
    assert fresh.status == JobStatus.RUNNING


def test_the_auto_queue_is_gpu_only_when_a_worker_listens_there(filled, monkeypatch):
    queues = {"w1@h": [{"name": "cpu"}]}
    monkeypatch.setattr("dashboard.services.training.current_app.control.inspect",
                        lambda timeout: type("I", (), {"active_queues": lambda self: queues})())
    assert training_job_start(catalog=filled, params=PARAMS, queue="auto").queue == "cpu"
    queues["w2@gpu"] = [{"name": "gpu"}]
    assert training_job_start(catalog=filled, params=PARAMS, queue="auto").queue == "gpu"


def test_the_demo_job_is_launched_once_and_promotes_itself(filled, monkeypatch):
    from dashboard.services.training import training_demo_start

    monkeypatch.setattr("dashboard.services.training.gpu_worker_listening", lambda: False)
    job = training_demo_start(catalog=filled)
    assert job is not None and training_demo_start(catalog=filled) is None
    assert job.params["auto_promote"] is True and job.queue == "cpu"
    assert training_job_run(job_id=job.pk) == JobStatus.SUCCEEDED
    assert ModelVersion.objects.get(job=job).state == VersionState.ACTIVE


def test_a_job_keeps_the_catalogs_event_weights_and_trains_with_them(filled):
    from dashboard.services.training_ddp import job_inputs

    filled.event_weights = {"view": 0.0}
    filled.save()
    job = training_job_start(catalog=filled, params=PARAMS)
    assert job.params["event_weights"] == {"view": 0.0, "click": 2.0, "add_to_cart": 4.0, "purchase": 8.0,
                                           "search": 0.0, "return": 0.0}
    assert job.params["split"] == {"kind": "temporal", "test_days": 20.0, "validation_days": 15.0}
    data, split, _ = job_inputs(params=job.params, queue=job.queue, folder=job_folder(job))
    assert data.event_weights["view"] == 0.0 and split.train.event_weights["view"] == 0.0
    with pytest.raises(TrainingInputError, match="'rating' is not an event type"):
        training_job_start(catalog=filled, params={**PARAMS, "event_weights": {"rating": 1}})
