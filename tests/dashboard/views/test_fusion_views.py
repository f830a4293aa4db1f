"""Fusion pages: viewers read and preview, editors save; the preview endpoint answers with both lists."""
from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.models import FusionConfig
from dashboard.services import serving
from dashboard.services.fusion import fusion_config_create
from tests.dashboard.fusion_data import build_bundle, mirror

WEIGHTS = {"popularity": 0.3, "item_knn": 1.0, "ease": 1.0}


@pytest.fixture(scope="module")
def bundle_folder(tmp_path_factory):
    return build_bundle(tmp_path_factory.mktemp("fusion-views") / "bundle")


@pytest.fixture
def config(catalog, bundle_folder, merchandiser):
    serving.clear_cache()
    mirror(catalog, bundle_folder)
    return fusion_config_create(catalog=catalog, by=merchandiser, name="Default", weights=WEIGHTS, is_default=True)


def form(**extra):
    data = {"name": "Default", "weight_popularity": "0.3", "weight_item_knn": "1", "weight_ease": "1",
            "normalization": "rank", "pool_size": "200", "fallback": "popular", "is_default": "on"}
    data.update(extra)
    return data


def test_a_viewer_sees_the_list_and_the_editor_with_a_slider_per_signal(analyst_client, catalog, config):
    page = analyst_client.get(reverse("dashboard:fusion_configs", args=[catalog.slug]))
    assert page.status_code == 200 and "Default" in page.content.decode()
    edit = analyst_client.get(reverse("dashboard:fusion_edit", args=[catalog.slug, config.pk])).content.decode()
    for signal in WEIGHTS:
        assert f'name="weight_{signal}"' in edit and 'type="range"' in edit
    assert "fusion.js" in edit and 'href="/c/uk-gifts/fusion/"' in edit.replace(catalog.slug, "uk-gifts")


def test_a_viewer_may_not_save(analyst_client, catalog, config):
    url = reverse("dashboard:fusion_edit", args=[catalog.slug, config.pk])
    assert analyst_client.post(url, form(weight_ease="3")).status_code == 403
    assert analyst_client.get(reverse("dashboard:fusion_new", args=[catalog.slug])).status_code == 403
    config.refresh_from_db()
    assert config.weights["ease"] == 1.0


def test_an_editor_saves_weights_and_rules_and_a_revision_is_kept(merch_client, merchandiser, catalog, config):
    url = reverse("dashboard:fusion_edit", args=[catalog.slug, config.pk])
    data = form(weight_ease="2.5", rule_kind=["pin", "boost"], rule_item_id=["P004", ""], rule_position=["2", ""],
                rule_column=["", "brand"], rule_value=["", "Acme"], rule_factor=["", "2"])
    assert merch_client.post(url, data).status_code == 302
    config.refresh_from_db()
    assert config.weights["ease"] == 2.5
    assert config.rules == [{"kind": "pin", "item_id": "P004", "position": 2},
                            {"kind": "boost", "column": "brand", "value": "Acme", "factor": 2.0}]
    assert config.revisions.first().by == merchandiser and config.revisions.count() == 2


def test_a_bad_rule_is_named_and_nothing_is_saved(merch_client, catalog, config):
    url = reverse("dashboard:fusion_edit", args=[catalog.slug, config.pk])
    page = merch_client.post(url, form(rule_kind=["bury"], rule_column=["brand"], rule_value=["Acme"],
                                       rule_factor=["4"]), follow=True)
    assert page.status_code == 400 and "rule 1 (bury): bury factor must be between 0 and 1" in page.content.decode()
    assert config.revisions.count() == 1


def test_an_editor_creates_a_config(merch_client, catalog, config):
    url = reverse("dashboard:fusion_new", args=[catalog.slug])
    assert merch_client.get(url).status_code == 200
    assert merch_client.post(url, form(name="Garden push", is_default="")).status_code == 302
    assert FusionConfig.objects.filter(catalog=catalog, name="Garden push", is_default=False).exists()


def test_the_preview_endpoint_returns_both_lists_with_rank_changes(analyst_client, catalog, config):
    url = reverse("dashboard:fusion_preview", args=[catalog.slug])
    out = analyst_client.post(url, form(config=str(config.pk), shopper="U000", rule_kind=["pin"],
                                        rule_item_id=["P019"], rule_position=["1"])).json()
    assert out["edited"]["items"][0]["item_id"] == "P019" and "change" in out["edited"]["items"][0]
    assert out["saved"]["items"][0]["item_id"] != "P019" and len(out["saved"]["items"]) == 20
    assert out["edited"]["items"][1]["contributions"][0]["signal"] in WEIGHTS


def test_the_preview_endpoint_reports_bad_settings_as_json(analyst_client, catalog, config):
    url = reverse("dashboard:fusion_preview", args=[catalog.slug])
    response = analyst_client.post(url, form(pool_size="0"))
    assert response.status_code == 400 and "pool_size" in response.json()["error"]


def test_a_random_shopper_is_one_the_model_knows(analyst_client, catalog, config):
    out = analyst_client.get(reverse("dashboard:fusion_random_shopper", args=[catalog.slug])).json()
    assert out["shopper"].startswith("U")


def test_anonymous_visitors_are_sent_to_log_in(client, catalog, config):
    response = client.post(reverse("dashboard:fusion_preview", args=[catalog.slug]), form())
    assert response.status_code in (302, 403)
