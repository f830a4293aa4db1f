"""Fusion pages: viewers read and preview, editors save; the preview endpoint answers with both lists."""
from __future__ import annotations

from django.urls import reverse

from dashboard.models import FusionConfig
from tests.dashboard.fusion_data import FUSION_WEIGHTS, editor_form


def test_a_viewer_sees_the_list_and_the_editor_with_a_slider_per_signal(analyst_client, catalog, fusion_config):
    page = analyst_client.get(reverse("dashboard:fusion_configs", args=[catalog.slug]))
    assert page.status_code == 200 and "Default" in page.content.decode()
    edit = analyst_client.get(reverse("dashboard:fusion_edit", args=[catalog.slug, fusion_config.pk])).content.decode()
    for signal in FUSION_WEIGHTS:
        assert f'name="weight_{signal}"' in edit and 'type="range"' in edit
    assert "fusion.js" in edit and 'href="/c/uk-gifts/fusion/"' in edit.replace(catalog.slug, "uk-gifts")


def test_a_viewer_may_not_save(analyst_client, catalog, fusion_config):
    url = reverse("dashboard:fusion_edit", args=[catalog.slug, fusion_config.pk])
    assert analyst_client.post(url, editor_form(weight_ease="3")).status_code == 403
    assert analyst_client.get(reverse("dashboard:fusion_new", args=[catalog.slug])).status_code == 403
    fusion_config.refresh_from_db()
    assert fusion_config.weights["ease"] == 1.0


def test_an_editor_saves_weights_and_rules_and_a_revision_is_kept(merch_client, merchandiser, catalog, fusion_config):
    url = reverse("dashboard:fusion_edit", args=[catalog.slug, fusion_config.pk])
    data = editor_form(weight_ease="2.5", rule_kind=["pin", "boost"], rule_item_id=["P004", ""], rule_position=["2", ""],
                rule_column=["", "brand"], rule_value=["", "Acme"], rule_factor=["", "2"])
    assert merch_client.post(url, data).status_code == 302
    fusion_config.refresh_from_db()
    assert fusion_config.weights["ease"] == 2.5
    assert fusion_config.rules == [{"kind": "pin", "item_id": "P004", "position": 2},
                            {"kind": "boost", "column": "brand", "value": "Acme", "factor": 2.0}]
    assert fusion_config.revisions.first().by == merchandiser and fusion_config.revisions.count() == 2


def test_a_bad_rule_is_named_and_nothing_is_saved(merch_client, catalog, fusion_config):
    url = reverse("dashboard:fusion_edit", args=[catalog.slug, fusion_config.pk])
    page = merch_client.post(url, editor_form(rule_kind=["bury"], rule_column=["brand"], rule_value=["Acme"],
                                       rule_factor=["4"]), follow=True)
    assert page.status_code == 400 and "rule 1 (bury): bury factor must be between 0 and 1" in page.content.decode()
    assert fusion_config.revisions.count() == 1


def test_an_editor_creates_a_config(merch_client, catalog, fusion_config):
    url = reverse("dashboard:fusion_new", args=[catalog.slug])
    assert merch_client.get(url).status_code == 200
    assert merch_client.post(url, editor_form(name="Garden push", is_default="")).status_code == 302
    assert FusionConfig.objects.filter(catalog=catalog, name="Garden push", is_default=False).exists()


def test_the_preview_endpoint_returns_both_lists_with_rank_changes(analyst_client, catalog, fusion_config):
    url = reverse("dashboard:fusion_preview", args=[catalog.slug])
    out = analyst_client.post(url, editor_form(config=str(fusion_config.pk), shopper="U000", rule_kind=["pin"],
                                        rule_item_id=["P019"], rule_position=["1"])).json()
    assert out["edited"]["items"][0]["item_id"] == "P019" and "change" in out["edited"]["items"][0]
    assert out["saved"]["items"][0]["item_id"] != "P019" and len(out["saved"]["items"]) == 20
    assert out["edited"]["items"][1]["contributions"][0]["signal"] in FUSION_WEIGHTS


def test_the_preview_endpoint_reports_bad_settings_as_json(analyst_client, catalog, fusion_config):
    url = reverse("dashboard:fusion_preview", args=[catalog.slug])
    response = analyst_client.post(url, editor_form(pool_size="0"))
    assert response.status_code == 400 and "pool_size" in response.json()["error"]


def test_a_random_shopper_is_one_the_model_knows(analyst_client, catalog, fusion_config):
    out = analyst_client.get(reverse("dashboard:fusion_random_shopper", args=[catalog.slug])).json()
    assert out["shopper"].startswith("U")


def test_anonymous_visitors_are_sent_to_log_in(client, catalog, fusion_config):
    response = client.post(reverse("dashboard:fusion_preview", args=[catalog.slug]), editor_form())
    assert response.status_code in (302, 403)


def test_the_preview_bars_use_each_signals_chart_colour(analyst_client, catalog, fusion_config):
    import json
    import re

    from dashboard.charts import signal_colour

    html = analyst_client.get(reverse("dashboard:fusion_edit", kwargs={"catalog": catalog.slug,
                                                                       "pk": fusion_config.pk})).content.decode()
    colours = json.loads(re.search(r'<script id="signal-colours" type="application/json">(.*?)</script>', html).group(1))
    assert colours["ease"] == signal_colour("ease") and colours["item_knn"] == signal_colour("item_knn")
    assert len(set(colours.values())) == len(colours), "no two parts share a colour"
