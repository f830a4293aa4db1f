"""The preview ranks through mlcore's Bundle.recommend: rules act as specified and preview == engine."""
from __future__ import annotations

import pytest

from dashboard.models import ModelVersion
from dashboard.services import serving
from dashboard.services.fusion import FusionConfigError, fusion_config_create, parse_settings
from dashboard.services.preview import mark_changes, preview_compare, preview_for_shopper
from dashboard.services.serving import ServingError
from mlcore.serving.bundle import load_bundle
from tests.dashboard.fusion_data import OUT_OF_STOCK, build_bundle, mirror

BASE = {"weights": {"popularity": 0.3, "item_knn": 1.0, "ease": 1.0}, "normalization": "rank"}


@pytest.fixture(scope="module")
def bundle_folder(tmp_path_factory):
    return build_bundle(tmp_path_factory.mktemp("fusion") / "bundle")


@pytest.fixture
def served(catalog, bundle_folder):
    serving.clear_cache()
    return mirror(catalog, bundle_folder)


def ids(catalog, config, shopper="U000", k=20):
    return [it["item_id"] for it in preview_for_shopper(catalog=catalog, shopper_external_id=shopper, config=config,
                                                         k=k)["items"]]


def test_the_preview_is_the_engines_list_with_contributions_and_product_fields(catalog, served, bundle_folder):
    config = {**BASE, "rules": [{"kind": "in_stock"}, {"kind": "pin", "item_id": "P015", "position": 2}]}
    out = preview_for_shopper(catalog=catalog, shopper_external_id="U001", config=config, k=10)
    s = parse_settings(config)
    engine = load_bundle(bundle_folder).recommend("U001", 10, rules=s.rules, fusion=s.fusion, candidates=s.pool_size)
    assert [it["item_id"] for it in out["items"]] == [e.extra["item_id"] for e in engine]
    first = out["items"][0]
    assert {c["signal"] for c in first["contributions"]} == {"popularity", "item_knn", "ease"}
    assert first["score"] == pytest.approx(sum(c["value"] for c in first["contributions"]), rel=1e-5)
    assert first["title"].startswith("Product ") and first["image_url"].endswith(".jpg") and first["reason"]
    assert not out["new_shopper"] and out["history"][0]["item_id"].startswith("P")


def test_a_saved_config_previews_like_its_settings(catalog, served, merchandiser):
    config = fusion_config_create(catalog=catalog, by=merchandiser, name="Default", **BASE)
    assert ids(catalog, config) == ids(catalog, BASE)


def test_in_stock_never_leaks_an_out_of_stock_item_not_even_through_a_pin(catalog, served):
    assert OUT_OF_STOCK & set(ids(catalog, BASE))  # they would appear without the rule
    rules = [{"kind": "in_stock"}, {"kind": "pin", "item_id": "P003", "position": 1}]
    assert not OUT_OF_STOCK & set(ids(catalog, {**BASE, "rules": rules}))


def test_category_and_price_filters_keep_only_matching_items(catalog, served):
    garden = ids(catalog, {**BASE, "rules": [{"kind": "category", "include": ["Garden"]}]})
    assert garden and all(int(i[1:]) >= 10 for i in garden)
    cheap = ids(catalog, {**BASE, "rules": [{"kind": "price_range", "low": 6, "high": 9}]})
    assert cheap and all(6 <= 5 + int(i[1:]) <= 9 for i in cheap)


def test_exclude_bought_drops_everything_the_model_knows_was_bought(catalog, served, bundle_folder):
    bundle = load_bundle(bundle_folder)
    bought = {bundle.items.ids[i] for i in bundle.seen[bundle.user_index("U000")].indices}
    assert bought & set(ids(catalog, BASE))
    assert not bought & set(ids(catalog, {**BASE, "rules": [{"kind": "exclude_bought"}]}))


def test_pins_land_at_their_exact_positions(catalog, served):
    rules = [{"kind": "pin", "item_id": "P019", "position": 1}, {"kind": "pin", "item_id": "P018", "position": 4}]
    out = ids(catalog, {**BASE, "rules": rules}, k=10)
    assert out[0] == "P019" and out[3] == "P018" and len(out) == 10


def test_a_boost_moves_matching_items_up_and_a_bury_moves_them_down(catalog, served):
    before = ids(catalog, BASE)
    boosted = ids(catalog, {**BASE, "rules": [{"kind": "boost", "column": "category", "value": "Garden > Tools",
                                               "factor": 100}]})
    assert before[0] < "P010" and boosted[0] >= "P010"  # U000 buys kitchen items; the boost lifts garden ones
    buried = ids(catalog, {**BASE, "rules": [{"kind": "bury", "column": "category", "value": "Home > Kitchen",
                                              "factor": 0.01}]})
    assert buried[0] >= "P010"


def test_changing_a_weight_changes_the_list_and_the_contributions(catalog, served):
    a = preview_for_shopper(catalog=catalog, shopper_external_id="U002", config=BASE)["items"]
    b = preview_for_shopper(catalog=catalog, shopper_external_id="U002",
                            config={"weights": {"popularity": 1.0}})["items"]
    assert [i["item_id"] for i in a] != [i["item_id"] for i in b]
    assert {c["signal"] for c in b[0]["contributions"]} == {"popularity"}


def test_a_new_shopper_gets_the_popularity_fallback_with_rules_applied(catalog, served):
    config = {**BASE, "rules": [{"kind": "in_stock"}, {"kind": "pin", "item_id": "P007", "position": 3}]}
    out = preview_for_shopper(catalog=catalog, shopper_external_id=None, config=config, k=8)
    items = [it["item_id"] for it in out["items"]]
    assert out["new_shopper"] and out["history"] == [] and len(items) == 8
    assert items[2] == "P007" and not OUT_OF_STOCK & set(items)
    assert out["items"][0]["contributions"] == [] and out["items"][0]["reason"]
    unknown = preview_for_shopper(catalog=catalog, shopper_external_id="NOBODY", config=BASE, k=8)
    assert unknown["new_shopper"]
    assert preview_for_shopper(catalog=catalog, shopper_external_id=None, config={**BASE, "fallback": "none"})[
        "items"] == []


def test_diversity_reranks_with_mmr(catalog, served):
    assert ids(catalog, {**BASE, "diversity": 1.0}, k=10) == ids(catalog, BASE, k=10)
    assert ids(catalog, {**BASE, "diversity": 0.0}, k=10) != ids(catalog, BASE, k=10)


def test_the_comparison_marks_rank_changes(catalog, served):
    edited = {**BASE, "rules": [{"kind": "pin", "item_id": "P019", "position": 1}]}
    out = preview_compare(catalog=catalog, shopper_external_id="U000", saved=BASE, edited=edited, k=10)
    first = out["edited"]["items"][0]
    assert first["item_id"] == "P019" and first["rules"] == ["pinned at 1"]
    saved_ids = [i["item_id"] for i in out["saved"]["items"]]
    assert first["change"] == ("new" if "P019" not in saved_ids else saved_ids.index("P019"))
    assert mark_changes([{"item_id": "a", "rank": 1}, {"item_id": "b", "rank": 2}],
                        [{"item_id": "b", "rank": 1}, {"item_id": "c", "rank": 2}]) == [
        {"item_id": "b", "rank": 1, "change": 1}, {"item_id": "c", "rank": 2, "change": "new"}]


def test_a_promoted_version_is_served_without_a_restart(catalog, served, tmp_path):
    assert ids(catalog, BASE)
    ModelVersion.objects.filter(pk=served.pk).update(artifact_path=str(tmp_path / "gone"))
    with pytest.raises(ServingError, match="artifacts are missing"):
        ids(catalog, BASE)


def test_preview_errors_are_clear(catalog, served):
    with pytest.raises(FusionConfigError, match="signal 'text' is not in the active version"):
        ids(catalog, {"weights": {"text": 1.0}})
    ModelVersion.objects.all().delete()
    with pytest.raises(ServingError, match="no active model version"):
        ids(catalog, BASE)


def test_a_rule_on_a_missing_product_column_is_named(catalog, served):
    rules = [{"kind": "in_stock"}, {"kind": "boost", "column": "colour", "value": "red", "factor": 2}]
    with pytest.raises(FusionConfigError, match=r"rule 2 \(boost\): the product column 'colour' does not exist"):
        ids(catalog, {**BASE, "rules": rules})
