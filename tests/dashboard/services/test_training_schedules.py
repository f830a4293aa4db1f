"""Retraining schedules on celery beat, and auto-promotion through the same gate."""
from __future__ import annotations

import json

import pytest
from django_celery_beat.models import PeriodicTask

from dashboard.models import AuditEntry, ModelVersion, TrainingJob, VersionState
from dashboard.selectors.training import training_schedule_get
from dashboard.services.training import training_job_run
from dashboard.services.training_schedules import (
    TrainingInputError,
    training_schedule_clear,
    training_schedule_set,
    training_scheduled_launch,
)
from tests.dashboard.training_data import fill_catalog

PARAMS = {"signals": ["popularity", "ease"], "split": {"kind": "temporal", "test_days": 20, "validation_days": 15}}


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path, monkeypatch):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    monkeypatch.setattr("dashboard.services.training.current_app.send_task", lambda *a, **kw: None)


def test_a_schedule_is_one_beat_task_per_catalog(catalog, merchandiser):
    training_schedule_set(catalog=catalog, cron="0 2 * * *", params=PARAMS, by=merchandiser)
    training_schedule_set(catalog=catalog, cron="30 3 * * 1", params=PARAMS, by=merchandiser)
    task = PeriodicTask.objects.get(name=f"retrain:{catalog.slug}")
    assert task.task == "dashboard.training_scheduled" and task.enabled
    assert json.loads(task.kwargs) == {"catalog_id": catalog.pk, "params": PARAMS, "queue": "cpu",
                                       "auto_promote": True}
    schedule = training_schedule_get(catalog=catalog)
    assert schedule is not None and schedule["cron"] == "30 3 * * 1"
    assert AuditEntry.objects.filter(action="schedule.set", actor=merchandiser).count() == 2
    assert training_schedule_clear(catalog=catalog, by=merchandiser) is True
    assert training_schedule_get(catalog=catalog) is None


def test_a_bad_schedule_or_signal_is_refused_with_the_fix(catalog):
    with pytest.raises(TrainingInputError, match="five fields"):
        training_schedule_set(catalog=catalog, cron="nightly", params=PARAMS)
    with pytest.raises(TrainingInputError, match="'61 2 \\* \\* \\*'"):
        training_schedule_set(catalog=catalog, cron="61 2 * * *", params=PARAMS)
    with pytest.raises(TrainingInputError, match="unknown recommender"):
        training_schedule_set(catalog=catalog, cron="0 2 * * *", params={"signals": ["nope"]})
    assert not PeriodicTask.objects.filter(name__startswith="retrain:").exists()


def test_a_tick_launches_a_job_whose_version_is_promoted_when_the_gate_passes(catalog):
    fill_catalog(catalog)
    job = training_scheduled_launch(catalog_id=catalog.pk, params=PARAMS)
    assert job is not None and job.params["auto_promote"] is True and job.started_by is None
    training_job_run(job_id=job.pk)
    version = ModelVersion.objects.get(job=job)
    assert version.state == VersionState.ACTIVE
    job.refresh_from_db()
    assert "promoted (auto-promote)" in job.log


def test_a_tick_whose_candidate_fails_the_gate_leaves_the_active_version(catalog, settings):
    fill_catalog(catalog)
    first = training_scheduled_launch(catalog_id=catalog.pk, params=PARAMS)
    assert first is not None
    training_job_run(job_id=first.pk)
    ModelVersion.objects.filter(job=first).update(metrics={"ndcg@10": 0.99})
    second = training_scheduled_launch(catalog_id=catalog.pk, params=PARAMS)
    assert second is not None
    training_job_run(job_id=second.pk)
    assert dict(ModelVersion.objects.values_list("number", "state")) == {1: "active", 2: "candidate"}
    second.refresh_from_db()
    assert "not promoted" in second.log and "below the active version 1" in second.log


def test_a_tick_for_a_catalog_without_events_is_skipped_and_audited(catalog):
    assert training_scheduled_launch(catalog_id=catalog.pk, params=PARAMS) is None
    assert not TrainingJob.objects.exists()
    assert AuditEntry.objects.get(action="schedule.skip").detail["reason"].startswith("this catalog has no events")
