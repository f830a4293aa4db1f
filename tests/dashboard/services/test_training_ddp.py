"""A job with ``"processes": 2`` trains ``mf`` on two processes (gloo) and registers what one process would."""
from __future__ import annotations

import pytest

from dashboard.models import JobStatus, ModelVersion, TrainingJob
from dashboard.services.training import TrainingInputError, job_folder, training_job_run, training_job_start
from tests.dashboard.training_data import fill_catalog

PARAMS = {"signals": ["popularity", "mf"],
          "configs": {"mf": {"factors": 8, "epochs": 4, "batch_size": 4, "half_life_days": None}},
          "split": {"kind": "temporal", "test_days": 20, "validation_days": 15}}


@pytest.fixture(autouse=True)
def _artifacts(settings, tmp_path, monkeypatch):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    monkeypatch.setattr("dashboard.services.training.current_app.send_task", lambda name, **kw: None)


@pytest.mark.parametrize("bad", [0, 17, "two", 1.5])
def test_it_rejects_a_process_count_that_is_not_1_to_16(catalog, bad):
    fill_catalog(catalog)
    with pytest.raises(TrainingInputError, match="processes="):
        training_job_start(catalog=catalog, params={**PARAMS, "processes": bad})
    assert not TrainingJob.objects.exists()


def test_a_two_process_job_registers_the_metrics_of_a_one_process_job(catalog):
    fill_catalog(catalog)
    one = training_job_start(catalog=catalog, params=PARAMS)
    two = training_job_start(catalog=catalog, params={**PARAMS, "processes": 2})
    assert (one.params["processes"], two.params["processes"]) == (1, 2)
    assert training_job_run(job_id=one.pk) == JobStatus.SUCCEEDED
    assert training_job_run(job_id=two.pk) == JobStatus.SUCCEEDED, TrainingJob.objects.get(pk=two.pk).error
    two.refresh_from_db()
    assert "2 processes (gloo)" in two.log
    assert (job_folder(two) / "rank-1.log").exists()
    single, ddp = (ModelVersion.objects.get(job=job) for job in (one, two))
    assert ddp.metrics.keys() == single.metrics.keys() and single.metrics
    for key, value in single.metrics.items():
        assert ddp.metrics[key] == pytest.approx(value, abs=1e-6), key
