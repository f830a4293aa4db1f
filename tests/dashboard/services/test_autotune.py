"""Auto-tune in-process: a real tuning on the fusion test catalog, its errors, and the operator's decision."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.utils import timezone

from dashboard.models import AuditEntry, AutoTuneRun, Decision, JobStatus, ModelVersion, TrainingJob
from dashboard.services import serving
from dashboard.services.autotune import (
    TASK_AUTOTUNE,
    AutoTuneError,
    autotune_accept,
    autotune_dismiss,
    autotune_reap,
    autotune_run,
    autotune_start,
    recipe,
    run_folder,
)
from dashboard.services.fusion import fusion_config_create
from dashboard.services.training_snapshot import DEFAULT_SPLIT, parse_split
from mlcore.data import Dataset, clean_dataset
from mlcore.evaluation.metrics import ranking_metrics, top_k
from mlcore.fusion import fuse
from tests.dashboard.fusion_data import build_bundle, frames, mirror

WEIGHTS = {"popularity": 2.0, "item_knn": 0.1, "ease": 0.0}


@pytest.fixture(autouse=True)
def _artifacts(settings, tmp_path):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"


@pytest.fixture(scope="module")
def bundle_folder(tmp_path_factory):
    return build_bundle(tmp_path_factory.mktemp("autotune") / "bundle")


@pytest.fixture
def sent(monkeypatch):
    out: list = []
    monkeypatch.setattr("dashboard.services.autotune.current_app.send_task", lambda name, **kw: out.append((name, kw)))
    return out


@pytest.fixture
def config(catalog, bundle_folder, merchandiser):
    serving.clear_cache()
    mirror(catalog, bundle_folder)
    return fusion_config_create(catalog=catalog, by=merchandiser, name="Default", weights=WEIGHTS, is_default=True)


def start(config, user, capture) -> AutoTuneRun:
    with capture(execute=True):
        return autotune_start(config=config, started_by=user)


def ndcg_with(weights: dict[str, float], version: ModelVersion) -> float:
    """NDCG@10 of ``weights`` on the validation window, computed here with mlcore's plain functions."""
    events, products = frames()
    data, _ = clean_dataset(Dataset.from_frames(events, products))
    split = parse_split(DEFAULT_SPLIT).make(data)
    specs, _ = recipe(version, "cpu")
    truth = split.validation_items()
    users = np.flatnonzero(np.diff(truth.indptr) > 0)
    scores = {s.name: np.asarray(s.build().fit(split.train).score(users), dtype=np.float32) for s in specs}
    fused = fuse(scores, weights, "rank")
    return ranking_metrics(top_k(fused, 10), truth[users], (10,))["ndcg@10"]


def test_it_proposes_weights_that_score_at_least_the_current_ones_on_the_validation_window(
        config, merchandiser, django_capture_on_commit_callbacks, sent):
    run = start(config, merchandiser, django_capture_on_commit_callbacks)
    assert run.status == JobStatus.QUEUED and run.start_weights == WEIGHTS
    assert sent == [(TASK_AUTOTUNE, {"args": [run.pk], "queue": "cpu", "task_id": run.celery_task_id})]
    assert autotune_run(run_id=run.pk) == JobStatus.SUCCEEDED
    run.refresh_from_db()
    assert run.error == "" and run.percent == 100.0 and run.metric_name == "ndcg@10" and run.target == "all"
    assert set(run.proposed_weights) == set(WEIGHTS) and run.validation_events >= 20 and run.validation_users > 0
    assert run.metric_before == pytest.approx(ndcg_with(WEIGHTS, run.version), abs=1e-6)
    assert run.metric_after == pytest.approx(ndcg_with(run.proposed_weights, run.version), abs=1e-6)
    assert run.metric_after >= run.metric_before and run.gain == pytest.approx(run.metric_after - run.metric_before)
    assert run.gain > 0  # the starting weights (mostly popularity) leave room on this catalog
    assert not run_folder(run).exists()  # the snapshot is removed
    assert AuditEntry.objects.get(action="fusion.autotune.start").actor == merchandiser


def test_a_config_that_excludes_bought_items_is_tuned_on_fresh_items(
        config, merchandiser, django_capture_on_commit_callbacks, sent):
    config.rules = [{"kind": "exclude_bought"}]
    config.save()
    run = start(config, merchandiser, django_capture_on_commit_callbacks)
    assert autotune_run(run_id=run.pk) == JobStatus.SUCCEEDED
    run.refresh_from_db()
    assert run.target == "exclude_seen" and run.metric_after >= run.metric_before


def test_it_refuses_without_an_active_version(config, merchandiser):
    ModelVersion.objects.all().delete()
    with pytest.raises(AutoTuneError, match="no active model version: train one and promote it"):
        autotune_start(config=config, started_by=merchandiser)
    assert not AutoTuneRun.objects.exists()


def test_too_few_validation_events_fail_the_run_with_a_clear_message(
        config, merchandiser, django_capture_on_commit_callbacks, sent):
    version = ModelVersion.objects.get()
    version.job = TrainingJob.objects.create(catalog=config.catalog, status=JobStatus.SUCCEEDED, params={
        "signals": list(version.signals), "split": {"kind": "temporal", "test_days": 30, "validation_days": 1}})
    version.save()
    run = start(config, merchandiser, django_capture_on_commit_callbacks)
    assert autotune_run(run_id=run.pk) == JobStatus.FAILED
    run.refresh_from_db()
    assert "Too few events in the validation window" in run.error and run.proposed_weights is None


def test_one_run_at_a_time_per_config(config, merchandiser, django_capture_on_commit_callbacks, sent):
    start(config, merchandiser, django_capture_on_commit_callbacks)
    with pytest.raises(AutoTuneError, match="already queued"):
        autotune_start(config=config, started_by=merchandiser)


def test_dismissing_a_queued_run_cancels_it_and_the_worker_then_does_nothing(
        config, merchandiser, django_capture_on_commit_callbacks, sent):
    run = start(config, merchandiser, django_capture_on_commit_callbacks)
    autotune_dismiss(run=run, by=merchandiser)
    run.refresh_from_db()
    assert (run.status, run.decision) == (JobStatus.CANCELLED, Decision.DISMISSED)
    assert autotune_run(run_id=run.pk) == JobStatus.CANCELLED
    assert AuditEntry.objects.filter(action="fusion.autotune.dismiss", actor=merchandiser).exists()


def test_accepting_records_the_decision_and_audits_the_weights(
        config, merchandiser, django_capture_on_commit_callbacks, sent):
    run = start(config, merchandiser, django_capture_on_commit_callbacks)
    with pytest.raises(AutoTuneError, match="no proposal to accept"):
        autotune_accept(run=run, by=merchandiser)
    autotune_run(run_id=run.pk)
    run = autotune_accept(run=run, by=merchandiser)
    assert run.decision == Decision.ACCEPTED and run.decided_by == merchandiser
    entry = AuditEntry.objects.get(action="fusion.autotune.accept")
    assert entry.detail["weights"] == run.proposed_weights and entry.detail["gain"] == pytest.approx(run.gain)
    config.refresh_from_db()
    assert config.weights == WEIGHTS  # accepting proposes; saving the editor form changes the config


def test_a_run_whose_worker_stopped_is_failed_by_the_reaper_and_a_new_one_can_start(
        config, merchandiser, django_capture_on_commit_callbacks, sent):
    run = start(config, merchandiser, django_capture_on_commit_callbacks)
    old = timezone.now() - dt.timedelta(minutes=10)
    AutoTuneRun.objects.filter(pk=run.pk).update(status=JobStatus.RUNNING, started_at=old, heartbeat_at=old)
    assert autotune_reap(stale_after_s=60) == [run.pk]
    run.refresh_from_db()
    assert run.status == JobStatus.FAILED and run.finished_at is not None
    assert "worker running this auto-tune stopped" in run.error and "Start the auto-tune again" in run.error
    assert AuditEntry.objects.get(action="fusion.autotune.reap").detail == {"run": run.pk}
    assert autotune_reap(stale_after_s=60) == []
    fresh = start(config, merchandiser, django_capture_on_commit_callbacks)  # no longer "already running"
    AutoTuneRun.objects.filter(pk=fresh.pk).update(status=JobStatus.RUNNING, started_at=old,
                                                   heartbeat_at=timezone.now())
    assert autotune_reap(stale_after_s=60) == []  # its heartbeat is fresh
