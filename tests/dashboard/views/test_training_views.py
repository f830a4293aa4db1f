"""Training pages: launch form from the Config dataclasses, live progress JSON, cancel, versions, permissions."""
from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.models import AuditEntry, JobStatus, ModelVersion, TrainingJob, VersionState
from dashboard.services.training import training_job_run, training_job_start
from tests.dashboard.training_data import fill_catalog

SPLIT = {"kind": "temporal", "test_days": 20, "validation_days": 15}
PARAMS = {"signals": ["popularity", "item_knn", "ease"], "split": SPLIT}


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path, monkeypatch):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    monkeypatch.setattr("dashboard.services.training.current_app.send_task", lambda *a, **kw: None)


def url(name: str, catalog, pk: int | None = None) -> str:
    kwargs = {"catalog": catalog.slug, **({"pk": pk} if pk is not None else {})}
    return reverse(f"dashboard:{name}", kwargs=kwargs)


@pytest.fixture
def trained(catalog):
    """A catalog with one finished job and its candidate version."""
    fill_catalog(catalog)
    job = training_job_start(catalog=catalog, params=PARAMS)
    training_job_run(job_id=job.pk)
    return ModelVersion.objects.get(job=job)


def test_the_jobs_page_says_what_to_do_when_there_are_none(analyst_client, catalog):
    body = analyst_client.get(url("jobs", catalog)).content.decode()
    assert "No training jobs yet" in body and "Ask a merchandiser" in body


def test_the_launch_form_shows_each_signals_settings_with_defaults_and_help(merch_client, catalog):
    body = merch_client.get(url("job_new", catalog)).content.decode()
    assert 'name="cfg-ease-l2" value="200.0"' in body
    assert "the λ added to the Gram matrix" in body
    assert 'name="cfg-mf-loss"' in body and '<option value="bpr"' in body
    assert 'value="ease" checked' in body


def test_launching_stores_only_the_changed_settings_and_opens_the_job(merch_client, catalog, merchandiser):
    fill_catalog(catalog)
    response = merch_client.post(url("job_new", catalog), {
        "signal": ["popularity", "ease"], "cfg-ease-l2": "50", "cfg-ease-max_items": "1000000",
        "cfg-ease-half_life_days": "60.0", "cfg-popularity-distinct_users": "on",
        "cfg-popularity-half_life_days": "30", "split_kind": "temporal", "split-test_days": "20", "queue": "cpu",
    })
    job = TrainingJob.objects.get()
    assert response.status_code == 302 and response.url == url("job_detail", catalog, job.pk)
    assert job.params["signals"] == ["popularity", "ease"] and job.started_by == merchandiser
    assert job.params["configs"] == {"ease": {"l2": 50.0}}
    assert job.params["split"]["test_days"] == 20


def test_a_bad_setting_is_named_and_nothing_is_launched(merch_client, catalog):
    fill_catalog(catalog)
    body = merch_client.post(url("job_new", catalog), {"signal": ["ease"], "cfg-ease-l2": "lots"}).content.decode()
    assert "ease · l2" in body and "is not a number" in body
    assert not TrainingJob.objects.exists()


def test_the_progress_json_carries_status_percent_log_and_the_curve(analyst_client, trained):
    job = trained.job
    data = analyst_client.get(url("job_progress", trained.catalog, job.pk)).json()
    assert data["status"] == "succeeded" and data["percent"] == 100.0 and data["finished"]
    assert data["version"] == {"pk": trained.pk, "number": 1}
    assert "fitting ease" in data["log"] and data["device"].startswith("CPU")
    assert data["figure"]["layout"]["title"]["text"] == "Training curves"
    body = analyst_client.get(url("job_detail", trained.catalog, job.pk)).content.decode()
    assert 'id="job-chart-data"' in body and "See version 1" in body and "cancel-job" not in body


def test_a_merchandiser_cancels_a_queued_job(merch_client, catalog):
    fill_catalog(catalog)
    job = training_job_start(catalog=catalog, params=PARAMS)
    assert 'id="cancel-job"' in merch_client.get(url("job_detail", catalog, job.pk)).content.decode()
    merch_client.post(url("job_cancel", catalog, job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED


def test_the_version_page_renders_its_charts_and_figures(analyst_client, trained):
    body = analyst_client.get(url("version_detail", trained.catalog, trained.pk)).content.decode()
    for chart in ("fig-metrics", "fig-cold-start", "fig-ablation", "fig-beyond"):
        assert f'id="{chart}"' in body
    assert "ndcg@10" in body and "fused" in body
    assert 'id="promote"' not in body  # analysts only look


def test_promote_then_roll_back_from_the_pages(merch_client, trained, catalog):
    merch_client.post(url("version_promote", catalog, trained.pk))
    trained.refresh_from_db()
    assert trained.state == VersionState.ACTIVE
    job = training_job_start(catalog=catalog, params=PARAMS)
    training_job_run(job_id=job.pk)
    v2 = ModelVersion.objects.get(job=job)
    merch_client.post(url("version_promote", catalog, v2.pk))
    body = merch_client.get(url("version_detail", catalog, trained.pk)).content.decode()
    assert 'id="rollback"' in body
    merch_client.post(url("version_rollback", catalog, trained.pk))
    assert dict(ModelVersion.objects.values_list("number", "state")) == {1: "active", 2: "retired"}
    assert [e.action for e in AuditEntry.objects.filter(action__startswith="version.").order_by("pk")] == [
        "version.promote", "version.promote", "version.rollback"]
    versions = merch_client.get(url("versions", catalog)).content.decode()
    assert "Version 1 is serving recommendations." in versions
    compared = merch_client.get(url("version_detail", catalog, trained.pk) + f"?compare={v2.pk}").content.decode()
    assert "Version 1 against version 2" in compared


def test_a_refused_promotion_shows_the_gates_reason(merch_client, trained, catalog, settings):
    ModelVersion.objects.filter(pk=trained.pk).update(state=VersionState.ACTIVE, metrics={"ndcg@10": 0.9})
    job = training_job_start(catalog=catalog, params=PARAMS)
    training_job_run(job_id=job.pk)
    v2 = ModelVersion.objects.get(job=job)
    response = merch_client.post(url("version_promote", catalog, v2.pk), follow=True)
    assert "below the active version 1" in response.content.decode()
    v2.refresh_from_db()
    assert v2.state == VersionState.CANDIDATE


@pytest.mark.parametrize("name", ["job_new", "job_cancel", "version_promote", "version_rollback"])
def test_analysts_may_not_post(analyst_client, catalog, name):
    pk = None if name == "job_new" else 1
    assert analyst_client.post(url(name, catalog, pk)).status_code == 403


def test_a_merchandiser_sets_and_clears_the_retraining_schedule(merch_client, catalog):
    merch_client.post(url("job_schedule", catalog), {"cron": "0 2 * * *", "signal": ["ease"], "auto_promote": "on"})
    body = merch_client.get(url("jobs", catalog)).content.decode()
    assert "Retrains with ease on the schedule “0 2 * * *”" in body
    response = merch_client.post(url("job_schedule", catalog), {"cron": "nightly", "signal": ["ease"]}, follow=True)
    assert "needs five fields" in response.content.decode()
    merch_client.post(url("job_schedule", catalog), {"clear": "1"})
    assert "No schedule" in merch_client.get(url("jobs", catalog)).content.decode()


def test_analysts_may_not_change_the_schedule(analyst_client, catalog):
    assert analyst_client.post(url("job_schedule", catalog), {"cron": "0 2 * * *"}).status_code == 403


def _queries(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx)


def test_the_list_pages_cost_the_same_queries_for_more_rows(analyst_client, catalog, merchandiser, tmp_path):
    def add(n: int) -> None:
        for _ in range(n):
            job = TrainingJob.objects.create(catalog=catalog, params=PARAMS, started_by=merchandiser)
            number = ModelVersion.objects.count() + 1
            ModelVersion.objects.create(catalog=catalog, job=job, number=number, artifact_path=str(tmp_path),
                                        data_fingerprint="f", split="s", metrics={"ndcg@10": 0.1},
                                        promoted_by=merchandiser)

    add(2)
    few = (_queries(analyst_client, url("jobs", catalog)), _queries(analyst_client, url("versions", catalog)))
    add(5)
    assert (_queries(analyst_client, url("jobs", catalog)), _queries(analyst_client, url("versions", catalog))) == few
