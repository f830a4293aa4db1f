"""A config in learned mode previews the bundle's learned ranker: its contributions per signal, rules after it."""
from __future__ import annotations

import pytest

from dashboard.services import serving
from dashboard.services.fusion import FusionConfigError, fusion_config_create, parse_settings, version_has_learned
from dashboard.services.preview import preview_for_shopper
from mlcore.serving.bundle import load_bundle
from tests.dashboard.fusion_data import build_bundle, mirror

SIZES = {"shoppers": 200, "events": 2400}
WEIGHTS = {"popularity": 0.3, "item_knn": 1.0, "ease": 1.0}
LEARNED = {"weights": WEIGHTS, "normalization": "rank", "mode": "learned"}


@pytest.fixture(scope="module")
def bundle_folder(tmp_path_factory):
    return build_bundle(tmp_path_factory.mktemp("learned") / "bundle", **SIZES)


@pytest.fixture
def served(catalog, bundle_folder):
    serving.clear_cache()
    bundle = load_bundle(bundle_folder)
    assert bundle.learned is not None  # enough shoppers for the job to train one
    return mirror(catalog, bundle_folder, fusion=bundle.fusion.to_dict(), **SIZES)


def test_the_preview_shows_the_learned_contributions_and_they_sum_to_the_score(catalog, served, bundle_folder):
    out = preview_for_shopper(catalog=catalog, shopper_external_id="U001", config=LEARNED, k=10)
    s = parse_settings(LEARNED)
    engine = load_bundle(bundle_folder).recommend("U001", 10, rules=s.rules, fusion=s.fusion, candidates=s.pool_size)
    assert [it["item_id"] for it in out["items"]] == [e.extra["item_id"] for e in engine]
    first = out["items"][0]
    assert {c["signal"] for c in first["contributions"]} == {"popularity", "item_knn", "ease", "context", "base"}
    assert first["score"] == pytest.approx(sum(c["value"] for c in first["contributions"]), abs=1e-5)
    weighted = preview_for_shopper(catalog=catalog, shopper_external_id="U001", config={**LEARNED, "mode": "weighted"})
    assert {c["signal"] for c in weighted["items"][0]["contributions"]} == {"popularity", "item_knn", "ease"}
    assert version_has_learned(served)


def test_rules_still_apply_after_the_learned_ranker(catalog, served):
    rules = [{"kind": "in_stock"}, {"kind": "pin", "item_id": "P015", "position": 1}]
    items = preview_for_shopper(catalog=catalog, shopper_external_id="U001", config={**LEARNED, "rules": rules})["items"]
    ids = [it["item_id"] for it in items]
    assert ids[0] == "P015" and not {"P003", "P013"} & set(ids)


def test_the_mode_is_saved_with_the_config_and_checked(catalog, served, merchandiser):
    config = fusion_config_create(catalog=catalog, by=merchandiser, name="Learned", **LEARNED)
    assert config.mode == "learned" and config.revisions.get().changes["mode"] == [None, "learned"]
    with pytest.raises(FusionConfigError, match="mode"):
        parse_settings({**LEARNED, "mode": "magic"})
