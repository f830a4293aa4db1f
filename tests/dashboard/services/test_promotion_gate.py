"""The gate compares like with like: the active version's recipe is re-scored on the candidate's split."""
from __future__ import annotations

import pytest

from dashboard.models import AuditEntry, ModelVersion, VersionState
from dashboard.services.gate import rescore_active
from dashboard.services.training import training_job_run, training_job_start
from dashboard.services.versions import PromotionError, version_promote
from tests.dashboard.training_data import fill_catalog

GOOD = {"signals": ["item_knn", "ease"], "split": {"kind": "temporal", "test_days": 20, "validation_days": 15}}


@pytest.fixture(autouse=True)
def _artifacts(settings, tmp_path):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.PROMOTION_MARGIN = 0.01


@pytest.fixture
def filled(catalog):
    fill_catalog(catalog, shoppers=12, events=240)
    return catalog


def train(catalog, params) -> ModelVersion:
    job = training_job_start(catalog=catalog, params=params)
    assert training_job_run(job_id=job.pk, progress_interval_s=0) == "succeeded", job.error
    return ModelVersion.objects.select_related("job").get(job=job)


def test_a_worse_candidate_cannot_pass_by_changing_its_split(filled, merchandiser,
                                                              django_capture_on_commit_callbacks):
    active = train(filled, GOOD)
    version_promote(version=active, by=merchandiser)
    with django_capture_on_commit_callbacks(execute=True):  # the worker re-scores the active after registering
        worse = train(filled, {"signals": ["popularity"],
                               "split": {"kind": "temporal", "test_days": 29, "validation_days": 15}})
    assert worse.split != active.split
    assert ModelVersion.objects.get(pk=worse.pk).metrics["gate"]["active_pk"] == active.pk
    with pytest.raises(PromotionError, match="re-scored on this version's split"):
        version_promote(version=worse, by=merchandiser)
    worse.refresh_from_db()
    gate = worse.metrics["gate"]
    assert gate["active_pk"] == active.pk and gate["split"] == worse.split
    assert gate["ndcg@10"] > worse.ndcg10 + 0.01  # the active recipe, on the candidate's own test window
    assert ModelVersion.objects.get(pk=active.pk).state == VersionState.ACTIVE


def test_the_same_recipe_on_another_split_passes_the_gate(filled, merchandiser):
    active = train(filled, GOOD)
    version_promote(version=active, by=merchandiser)
    candidate = train(filled, {**GOOD, "split": {"kind": "temporal", "test_days": 29, "validation_days": 15}})
    figures = rescore_active(candidate=candidate, active=active)
    assert figures["ndcg@10"] == pytest.approx(candidate.ndcg10, abs=0.01)  # like with like: the same numbers
    version_promote(version=candidate, by=merchandiser)
    entry = AuditEntry.objects.filter(action="version.promote").first()
    assert entry.detail["gate"]["basis"] == "active re-scored on the candidate's split"
    assert entry.detail["gate"]["passed"] is True
