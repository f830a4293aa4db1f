"""A training job that would not fit the memory budget is refused at launch, naming the signal."""
from __future__ import annotations

import pytest

from dashboard.models import TrainingJob
from dashboard.services.training import TrainingInputError, training_job_start
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
