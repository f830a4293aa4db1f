"""Auto-tune pages: editors start, everyone watches the progress JSON, editors accept (then save) or dismiss."""
from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.models import AuditEntry, AutoTuneRun, Decision, JobStatus, ModelVersion
from dashboard.services import serving
from dashboard.services.autotune import autotune_run
from dashboard.services.fusion import fusion_config_create
from tests.dashboard.fusion_data import build_bundle, mirror

WEIGHTS = {"popularity": 2.0, "item_knn": 0.1, "ease": 0.0}


@pytest.fixture(autouse=True)
def _artifacts(settings, tmp_path, monkeypatch):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    monkeypatch.setattr("dashboard.services.autotune.current_app.send_task", lambda *a, **kw: None)


@pytest.fixture(scope="module")
def bundle_folder(tmp_path_factory):
    return build_bundle(tmp_path_factory.mktemp("autotune-views") / "bundle")


@pytest.fixture
def config(catalog, bundle_folder, merchandiser):
    serving.clear_cache()
    mirror(catalog, bundle_folder)
    return fusion_config_create(catalog=catalog, by=merchandiser, name="Default", weights=WEIGHTS, is_default=True)


def url(name, config, *extra):
    return reverse(f"dashboard:{name}", args=[config.catalog.slug, config.pk, *extra])


def test_an_analyst_may_not_start_accept_or_dismiss(analyst_client, config):
    assert analyst_client.post(url("fusion_autotune", config)).status_code == 403
    assert not AutoTuneRun.objects.exists()
    run = AutoTuneRun.objects.create(config=config, start_weights=WEIGHTS)
    assert analyst_client.post(url("fusion_autotune_accept", config, run.pk)).status_code == 403
    assert analyst_client.post(url("fusion_autotune_dismiss", config, run.pk)).status_code == 403
    page = analyst_client.get(url("fusion_edit", config)).content.decode()
    assert 'id="autotune"' in page and 'id="autotune-start"' not in page
    assert analyst_client.get(url("fusion_autotune_progress", config, run.pk)).json()["status"] == "queued"


def test_an_editor_starts_a_run_and_the_page_polls_its_progress(merch_client, config):
    page = merch_client.get(url("fusion_edit", config)).content.decode()
    assert 'id="autotune-start"' in page and "autotune.js" in page
    response = merch_client.post(url("fusion_autotune", config))
    assert response.status_code == 302 and response["Location"].endswith("#autotune")
    run = AutoTuneRun.objects.get(config=config)
    page = merch_client.get(url("fusion_edit", config)).content.decode()
    assert url("fusion_autotune_progress", config, run.pk) in page and 'id="autotune-bar"' in page
    assert 'data-finished="0"' in page
    progress = merch_client.get(url("fusion_autotune_progress", config, run.pk)).json()
    assert progress["status"] == "queued" and not progress["finished"] and progress["start_weights"] == WEIGHTS
    again = merch_client.post(url("fusion_autotune", config), follow=True).content.decode()
    assert "already queued" in again and AutoTuneRun.objects.count() == 1


def test_without_an_active_version_the_editor_is_told_to_train_and_promote(merch_client, config):
    ModelVersion.objects.all().delete()
    page = merch_client.post(url("fusion_autotune", config), follow=True).content.decode()
    assert "train one and promote it" in page and not AutoTuneRun.objects.exists()


def test_a_finished_run_shows_its_proposal_and_accepting_loads_it_for_saving(merch_client, merchandiser, config):
    merch_client.post(url("fusion_autotune", config))
    run = AutoTuneRun.objects.get(config=config)
    assert autotune_run(run_id=run.pk) == JobStatus.SUCCEEDED
    progress = merch_client.get(url("fusion_autotune_progress", config, run.pk)).json()
    assert progress["finished"] and progress["metric_name"] == "ndcg@10"
    assert progress["metric_after"] >= progress["metric_before"] and set(progress["proposed_weights"]) == set(WEIGHTS)
    page = merch_client.get(url("fusion_edit", config)).content.decode()
    assert 'id="autotune-accept"' in page and 'class="autotune-proposal"' in page and "gain" in page

    answer = merch_client.post(url("fusion_autotune_accept", config, run.pk), HTTP_ACCEPT="application/json").json()
    assert answer == {"weights": progress["proposed_weights"], "run": run.pk}
    assert AuditEntry.objects.get(action="fusion.autotune.accept").actor == merchandiser

    plain = merch_client.post(url("fusion_autotune_accept", config, run.pk))
    assert plain["Location"].endswith(f"?autotune={run.pk}")
    editor = merch_client.get(plain["Location"]).content.decode()
    for signal, weight in progress["proposed_weights"].items():
        assert f'name="weight_{signal}" min="0" max="5" step="0.05" value="{weight:g}"' in editor

    form = {"name": "Default", "normalization": "rank", "pool_size": "200", "fallback": "popular", "is_default": "on",
            **{f"weight_{s}": str(w) for s, w in progress["proposed_weights"].items()}}
    assert merch_client.post(url("fusion_edit", config), form).status_code == 302
    config.refresh_from_db()
    assert config.weights == progress["proposed_weights"]
    assert config.revisions.first().changes["weights"] == [WEIGHTS, progress["proposed_weights"]]


def test_dismissing_discards_the_proposal(merch_client, config):
    merch_client.post(url("fusion_autotune", config))
    run = AutoTuneRun.objects.get(config=config)
    autotune_run(run_id=run.pk)
    answer = merch_client.post(url("fusion_autotune_dismiss", config, run.pk), HTTP_ACCEPT="application/json").json()
    assert answer == {"status": "succeeded", "decision": Decision.DISMISSED}
    page = merch_client.get(url("fusion_edit", config)).content.decode()
    assert 'id="autotune-accept"' not in page
    refused = merch_client.post(url("fusion_autotune_accept", config, run.pk), HTTP_ACCEPT="application/json")
    assert refused.status_code == 400 and "dismissed" in refused.json()["error"]
    config.refresh_from_db()
    assert config.weights == WEIGHTS


def test_a_failed_run_shows_its_error(merch_client, config):
    run = AutoTuneRun.objects.create(config=config, start_weights=WEIGHTS, status=JobStatus.FAILED,
                                     error="Too few events in the validation window: 3")
    page = merch_client.get(url("fusion_edit", config)).content.decode()
    assert "Too few events in the validation window: 3" in page
    assert url("fusion_autotune_dismiss", config, run.pk) in page
