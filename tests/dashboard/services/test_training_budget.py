"""A training job that would not fit the memory budget is refused at launch, and again on the worker
right before fitting, naming the signal."""
from __future__ import annotations

import re

import pytest

from dashboard.models import JobStatus, ModelVersion, TrainingJob
from dashboard.services.training import TrainingInputError, bundle_folder, training_job_run, training_job_start
from dashboard.services.training_budget import catalog_workload
from tests.dashboard.training_data import fill_catalog


@pytest.fixture(autouse=True)
def _artifacts(settings, tmp_path):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"


@pytest.fixture
def filled(catalog):
    fill_catalog(catalog)
    return catalog


def test_the_workload_is_counted_from_the_catalog(filled):
    workload = catalog_workload(catalog=filled)
    assert (workload.n_items, workload.n_events) == (20, 80) and workload.n_users > 0


def test_a_job_over_the_memory_budget_is_refused_before_anything_is_written(filled, settings, tmp_path):
    settings.TRAINING_MEMORY_BUDGET_MB = 1
    with pytest.raises(TrainingInputError, match=r"costliest signal is 'ease'.*TRAINING_MEMORY_BUDGET_MB"):
        training_job_start(catalog=filled, params={"signals": ["popularity", "ease"]})
    assert not TrainingJob.objects.exists()
    assert not (tmp_path / "artifacts" / "jobs").exists()


def test_a_job_within_the_budget_starts(filled, settings):
    settings.TRAINING_MEMORY_BUDGET_MB = 8192
    assert training_job_start(catalog=filled, params={"signals": ["popularity", "ease"]}).pk


def test_the_worker_checks_again_before_fitting_and_fails_the_job_with_the_fix(filled, settings, monkeypatch):
    settings.TRAINING_MEMORY_BUDGET_MB = 8192
    job = training_job_start(catalog=filled, params={"signals": ["popularity", "ease"]})
    settings.TRAINING_MEMORY_BUDGET_MB = 1  # the worker has less memory than the web process saw

    def no_fit(**kwargs):
        raise AssertionError("a job over the budget must not start fitting")

    monkeypatch.setattr("dashboard.services.training.run_job", no_fit)
    assert training_job_run(job_id=job.pk) == JobStatus.FAILED
    job.refresh_from_db()
    assert re.match(r"this job needs about [\d,]+ MB but the memory budget is 1 MB", job.error)
    assert "costliest signal is 'ease'" in job.error and "TRAINING_MEMORY_BUDGET_MB" in job.error
    assert "Traceback" not in job.error and job.error in job.log
    assert not ModelVersion.objects.exists() and not bundle_folder(job).exists()


def test_the_worker_logs_the_estimate_of_a_job_that_fits_and_goes_on_to_fit(filled, settings, monkeypatch):
    settings.TRAINING_MEMORY_BUDGET_MB = 8192
    job = training_job_start(catalog=filled, params={"signals": ["popularity"]})

    def fitting(**kwargs):
        raise RuntimeError("reached the fits")

    monkeypatch.setattr("dashboard.services.training.run_job", fitting)
    assert training_job_run(job_id=job.pk) == JobStatus.FAILED
    job.refresh_from_db()
    assert "reached the fits" in job.error
    assert re.search(r"memory: about [\d,]+ MB of a 8,192 MB budget", job.log)
