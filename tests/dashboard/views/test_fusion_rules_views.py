"""The rules editor saves the exclude-recent rule and page-limited pins; the preview endpoint reads the page context."""
from __future__ import annotations

from django.urls import reverse

from tests.dashboard.fusion_data import editor_form

KITCHEN = "category:Home > Kitchen"


def test_the_editor_offers_the_new_rule_and_the_pins_context_and_the_previews_context(analyst_client, catalog, fusion_config):
    page = analyst_client.get(reverse("dashboard:fusion_edit", args=[catalog.slug, fusion_config.pk])).content.decode()
    assert '<option value="exclude_recent">Exclude recently seen</option>' in page
    for name in ("rule_context", "rule_days", "rule_types"):
        assert f'name="{name}"' in page
    assert 'id="preview-context" name="context" form="fusion-form"' in page


def test_an_editor_saves_an_exclude_recent_rule_and_a_pin_for_one_page(merch_client, catalog, fusion_config):
    url = reverse("dashboard:fusion_edit", args=[catalog.slug, fusion_config.pk])
    data = editor_form(rule_kind=["exclude_recent", "pin", "exclude_recent"], rule_days=["3", "", ""],
                rule_types=["view, add_to_cart", "", ""], rule_item_id=["", "P004", ""], rule_position=["", "2", ""],
                rule_context=["", "  category:Home >  Kitchen ", ""])
    assert merch_client.post(url, data).status_code == 302
    fusion_config.refresh_from_db()
    assert fusion_config.rules == [{"kind": "exclude_recent", "days": 3, "types": ["view", "add_to_cart"]},
                            {"kind": "pin", "item_id": "P004", "position": 2, "context": KITCHEN},
                            {"kind": "exclude_recent", "days": 7, "types": ["view", "click"]}]
    page = merch_client.get(url).content.decode()
    assert f'value="{KITCHEN}"'.replace(">", "&gt;") in page and 'value="view, add_to_cart"' in page


def test_a_bad_window_is_named_and_nothing_is_saved(merch_client, catalog, fusion_config):
    url = reverse("dashboard:fusion_edit", args=[catalog.slug, fusion_config.pk])
    page = merch_client.post(url, editor_form(rule_kind=["in_stock", "exclude_recent"], rule_days=["", "1.5"]))
    assert page.status_code == 400 and "rule 2 (exclude_recent): “1.5” is not a number" in page.content.decode()
    page = merch_client.post(url, editor_form(rule_kind=["exclude_recent"], rule_types=["view, impressions"]))
    assert page.status_code == 400 and "unknown event type &#x27;impressions&#x27;" in page.content.decode()
    fusion_config.refresh_from_db()
    assert fusion_config.rules == [] and fusion_config.revisions.count() == 1


def test_the_preview_endpoint_applies_a_pin_only_on_its_page(analyst_client, catalog, fusion_config):
    url = reverse("dashboard:fusion_preview", args=[catalog.slug])
    rule = {"rule_kind": ["pin"], "rule_item_id": ["P019"], "rule_position": ["3"], "rule_context": [KITCHEN]}
    on_page = analyst_client.post(url, editor_form(config=str(fusion_config.pk), shopper="U000", context=KITCHEN, **rule)).json()
    assert on_page["edited"]["context"] == KITCHEN and on_page["edited"]["items"][2]["item_id"] == "P019"
    elsewhere = analyst_client.post(url, editor_form(config=str(fusion_config.pk), shopper="U000", **rule)).json()
    assert [it["item_id"] for it in elsewhere["edited"]["items"]] == [it["item_id"] for it in elsewhere["saved"]["items"]]


def test_an_editor_saves_a_price_band_boost_and_a_value_bury(merch_client, catalog, fusion_config):
    url = reverse("dashboard:fusion_edit", args=[catalog.slug, fusion_config.pk])
    data = editor_form(rule_kind=["boost", "bury"], rule_column=["price", "brand"], rule_value=["", "Acme"],
                rule_factor=["2", ""], rule_low=["10", ""], rule_high=["50", ""])
    assert merch_client.post(url, data).status_code == 302
    fusion_config.refresh_from_db()
    assert fusion_config.rules == [{"kind": "boost", "column": "price", "factor": 2.0, "low": 10.0, "high": 50.0},
                            {"kind": "bury", "column": "brand", "value": "Acme", "factor": 0.5}]
    page = merch_client.post(url, editor_form(rule_kind=["boost"], rule_column=["price"]))
    assert page.status_code == 400 and "to match, or a band with low/high (e.g. a price band)" in page.content.decode()
