"""Shopper profiles: shares by category and brand, recency, price band, recent intent and vector."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcore.data import IdMap
from mlcore.serving.profile import ProfileConfig, build_profile, profile_vector

PRODUCTS = pd.DataFrame(
    [
        ("mug", "Blue ceramic mug", "Kitchen > Mugs", "Acme", 5.0),
        ("cup", "Porcelain tea cup", "Kitchen > Teaware", "Acme", 6.0),
        ("hose", "Garden hose 20 m", "Garden > Watering", "Bolt", 30.0),
        ("spade", "Steel garden spade", "Garden > Tools", "Bolt", 40.0),
        ("lamp", "Brass desk lamp", "Home > Lighting", "", 100.0),
        ("rug", "Wool rug", "Home > Rugs", "Loom", 80.0),
    ],
    columns=["item_id", "title", "category", "brand", "price"],
)
ITEMS = IdMap(PRODUCTS["item_id"])


def history(*rows: tuple[str | None, str, str] | tuple[str | None, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame([r if len(r) == 4 else (*r, "") for r in rows], columns=["item_id", "event_type", "timestamp", "query"])


def test_the_top_category_is_the_one_the_history_is_about():
    h = history(("mug", "purchase", "2024-01-01 10:00"), ("cup", "purchase", "2024-01-01 10:01"),
                ("mug", "view", "2024-01-02 10:00"), ("hose", "view", "2024-01-02 10:05"))
    p = build_profile(h, PRODUCTS)
    assert [s.name for s in p.categories][:2] == ["Kitchen > Mugs", "Kitchen > Teaware"]
    assert p.brands[0].name == "Acme" and p.brands[0].share > 0.9
    assert sum(s.share for s in p.categories) == pytest.approx(1.0)
    assert p.categories[0].events == 2


def test_purchases_weigh_more_than_views():
    h = history(("hose", "view", "2024-01-01 10:00"), ("hose", "view", "2024-01-01 10:01"),
                ("spade", "purchase", "2024-01-01 10:02"))
    p = build_profile(h, PRODUCTS)
    assert p.categories[0].name == "Garden > Tools"
    assert p.categories[0].weight == pytest.approx(8.0, rel=1e-3)


def test_recency_changes_the_order():
    old_kitchen = [("mug", "purchase", "2024-01-01 10:00"), ("cup", "purchase", "2024-01-01 10:05")]
    h = history(*old_kitchen, ("spade", "purchase", "2024-04-01 10:00"))
    recent = build_profile(h, PRODUCTS)
    assert recent.brands[0].name == "Bolt"  # one recent purchase beats two from three months before
    flat = build_profile(h, PRODUCTS, config=ProfileConfig(half_life_days=1e9))
    assert flat.brands[0].name == "Acme"
    later = build_profile(h, PRODUCTS, now=pd.Timestamp("2024-06-01", tz="UTC"))
    assert later.brands[0].share == pytest.approx(recent.brands[0].share)  # shares do not depend on ``now``


def test_a_return_cancels_its_purchase():
    h = history(("lamp", "purchase", "2024-01-01 10:00"), ("lamp", "return", "2024-01-01 12:00"),
                ("rug", "view", "2024-01-01 12:30"))
    assert [s.name for s in build_profile(h, PRODUCTS).categories] == ["Home > Rugs"]


def test_the_price_band_compares_what_they_buy_with_the_catalogue():
    cheap = build_profile(history(("mug", "purchase", "2024-01-01"), ("cup", "purchase", "2024-01-02"),
                                  ("lamp", "view", "2024-01-03")), PRODUCTS)
    assert cheap.price is not None
    assert cheap.price.band == "budget" and cheap.price.basis == "bought" and cheap.price.median == 5.5
    assert cheap.price.catalog_median == pytest.approx(np.median(PRODUCTS["price"]))
    dear = build_profile(history(("lamp", "view", "2024-01-03"), ("rug", "click", "2024-01-03")), PRODUCTS)
    assert dear.price is not None and dear.price.band == "premium" and dear.price.basis == "viewed"
    mid = build_profile(history(("hose", "purchase", "2024-01-03")), PRODUCTS, catalog_prices=[1, 2, 30, 200, 300])
    assert mid.price is not None and mid.price.band == "mid" and mid.price.percentile == pytest.approx(0.6)


def test_recent_intent_is_the_last_session_with_its_searches():
    h = history(("mug", "purchase", "2024-01-01 10:00"),
                (None, "search", "2024-03-01 09:00", "garden hose"),
                ("hose", "view", "2024-03-01 09:01"), ("spade", "click", "2024-03-01 09:10"),
                (None, "search", "2024-03-01 09:12", "steel spade"))
    p = build_profile(h, PRODUCTS)
    assert p.intent.events == 4 and p.intent.start == pd.Timestamp("2024-03-01 09:00", tz="UTC")
    assert {s.name for s in p.intent.categories} == {"Garden > Watering", "Garden > Tools"}
    assert p.intent.queries == ("steel spade", "garden hose")
    assert p.intent.terms == ("garden", "hose", "spade", "steel")  # most frequent first; "20" is no word
    assert "mug" not in p.intent.terms


def test_the_vector_is_the_unit_mean_of_recent_items():
    vectors = np.eye(len(ITEMS), 4, dtype=np.float32)
    h = history(("mug", "view", "2024-01-01 10:00"), ("cup", "view", "2024-01-01 10:01"))
    p = build_profile(h, PRODUCTS, vectors, ITEMS)
    assert p.vector is not None and np.linalg.norm(p.vector) == pytest.approx(1.0)
    assert p.vector[0] == pytest.approx(p.vector[1], rel=1e-3) and p.vector[2:].sum() == 0
    assert build_profile(h, PRODUCTS).vector is None
    unknown = build_profile(history(("new", "view", "2024-01-01")), PRODUCTS, vectors, ITEMS)
    assert unknown.vector is None and unknown.events == 1 and unknown.categories == ()


def test_to_dict_is_json_ready_and_carries_the_vector_only_when_asked():
    import json

    h = history(("mug", "purchase", "2024-01-01 10:00"), (None, "search", "2024-01-01 10:02", "tea"))
    p = build_profile(h, PRODUCTS, np.eye(len(ITEMS), 3, dtype=np.float32), ITEMS)
    out = json.loads(json.dumps(p.to_dict()))
    assert "vector" not in out and out["has_vector"] is True
    assert out["categories"][0]["name"] == "Kitchen > Mugs" and out["intent"]["queries"] == ["tea"]
    assert len(p.to_dict(include_vector=True)["vector"]) == 3


def test_an_empty_history_gives_an_empty_profile_and_bad_columns_are_named():
    empty = build_profile(history(), PRODUCTS)
    assert empty.empty and empty.price is None and empty.to_dict()["categories"] == []
    with pytest.raises(ValueError, match="missing event_type"):
        build_profile(pd.DataFrame({"item_id": ["mug"], "timestamp": ["2024-01-01"]}), PRODUCTS)


def test_the_profile_vector_is_the_unit_weighted_mean_and_skips_unknown_and_non_positive_events():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]], dtype=np.float32)
    v = profile_vector([0, 1, -1, 7, 2], [3.0, 1.0, 9.0, 9.0, -8.0], vectors)
    assert v is not None and v.dtype == np.float32
    np.testing.assert_allclose(v, np.array([3.0, 1.0]) / np.sqrt(10.0), rtol=1e-6)
    assert profile_vector([-1, 2], [1.0, 0.0], vectors) is None
