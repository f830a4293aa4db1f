"""Related items: similar (text + CF) and complementary (baskets, shoppers, graph), with their reasons.

A frame shop where the answers are known: oak frames are bought in the same order as a photo album
five times (other category), with a pine frame ten times (same category), with a birthday card twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from mlcore.data import Dataset, IdMap
from mlcore.recommenders import load
from mlcore.recommenders.ease import EASE
from mlcore.recommenders.item_knn import ItemKNN
from mlcore.recommenders.kg import KGRecommender
from mlcore.recommenders.popularity import Popularity
from mlcore.serving.related import ComplementConfig, UnknownItemError, complementary_items, similar_items

PRODUCTS = pd.DataFrame(
    [
        ("oak", "Oak photo frame", "Home > Frames", "Woodly"),
        ("pine", "Pine photo frame", "Home > Frames", "Pinecraft"),
        ("album", "Linen photo album", "Stationery > Albums", "Woodly"),
        ("card", "Birthday card", "Stationery > Cards", "Papyrus"),
        ("lamp", "Desk lamp", "Home > Lighting", "Lumo"),
        ("mug", "Blue ceramic mug", "Kitchen > Mugs", "Acme"),
    ],
    columns=["item_id", "title", "category", "brand"],
)
ORDERS = [["oak", "album"]] * 5 + [["oak", "pine"]] * 10 + [["oak", "card"]] * 2 + [["lamp", "mug"]] * 3


def orders_dataset(orders: list[list[str]] = ORDERS) -> Dataset:
    """One shopper per order; an order's items share one timestamp (one basket); orders a day apart."""
    rows = []
    for n, basket in enumerate(orders):
        when = pd.Timestamp("2024-01-01") + pd.Timedelta(days=n)
        rows += [(f"u{n}", item, when, "purchase", 1) for item in basket]
    events = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "type", "quantity"])
    return Dataset.from_frames(events, PRODUCTS)


@dataclass(eq=False)
class TinyBundle:
    """The parts of a Bundle the related-items functions read."""

    items: IdMap
    products: pd.DataFrame
    seen: sp.csr_matrix
    models: dict[str, Any]


def bundle_of(data: Dataset, **models: Any) -> TinyBundle:
    return TinyBundle(data.items, data.products, sp.csr_matrix(data.matrix(binary=True)), models)


@pytest.fixture(scope="module")
def shop() -> TinyBundle:
    data = orders_dataset()
    return bundle_of(data, kg=KGRecommender().fit(data), item_knn=ItemKNN().fit(data))


def test_items_bought_in_the_same_orders_are_complementary_with_the_order_count(shop):
    related = complementary_items(shop, "album")
    assert related[0].item_id == "oak"
    assert related[0].reasons[0].code == "bought_together" and related[0].reasons[0].count == 5
    assert related[0].reason == "Often bought together (5 orders)"
    assert related[0].cross_category


def test_another_category_is_preferred_to_the_items_own(shop):
    ids = [r.item_id for r in complementary_items(shop, "oak")]
    assert ids.index("album") < ids.index("pine")  # pine is bought with oak more often, but it is a frame too
    pine = next(r for r in complementary_items(shop, "oak") if r.item_id == "pine")
    assert not pine.cross_category and pine.reasons[0].count == 10
    neutral = [r.item_id for r in complementary_items(shop, "oak", config=ComplementConfig(same_category=1.0))]
    assert neutral[0] == "pine"


def test_unrelated_items_are_never_complementary(shop):
    assert {r.item_id for r in complementary_items(shop, "oak")}.isdisjoint({"lamp", "mug"})
    assert [r.item_id for r in complementary_items(shop, "lamp")][:1] == ["mug"]


def test_without_a_graph_the_shared_shoppers_are_counted_instead():
    data = orders_dataset()
    related = complementary_items(bundle_of(data, popularity=Popularity().fit(data)), "album")
    assert related[0].item_id == "oak"
    assert related[0].reasons[0].code == "co_shoppers" and related[0].reasons[0].count == 5
    assert related[0].reason == "Bought by the same shoppers (5)"


def test_same_brand_is_a_reason_for_a_cold_item_in_another_category():
    data = orders_dataset()
    products = pd.concat([PRODUCTS, pd.DataFrame([("box", "Keepsake box", "Gifts > Boxes", "Woodly")],
                                                 columns=PRODUCTS.columns)], ignore_index=True)
    events = data.events.copy()
    data = Dataset.from_frames(events, products)
    shop = bundle_of(data, kg=KGRecommender().fit(data))
    box = next(r for r in complementary_items(shop, "oak", k=10) if r.item_id == "box")
    assert box.reasons[0].code == "same_brand" and box.reasons[0].label == "Woodly"
    assert box.reason == "Same brand: Woodly"


def test_similar_items_come_from_the_same_shoppers_with_their_count(shop):
    similar = similar_items(shop, "album")
    assert similar[0].item_id == "oak"
    assert "item_knn" in similar[0].sources
    assert any(r.code == "co_shoppers" and r.count == 5 for r in similar[0].reasons)


def test_similar_items_blend_text_and_cf_and_name_the_strongest_reason():
    data = orders_dataset()
    emb = np.zeros((len(data.items), 3), dtype=np.float32)
    for item, vector in {"oak": [1, 0, 0], "pine": [0.95, 0.3, 0], "album": [0, 1, 0], "card": [0, 0.7, 0.7],
                         "lamp": [0, 0, 1], "mug": [0.1, 0, 1]}.items():
        emb[data.items.index_of(item)] = np.asarray(vector) / np.linalg.norm(vector)
    text = TextStub(emb)
    text_only = similar_items(bundle_of(data, text=text), "oak")
    assert text_only[0].item_id == "pine" and text_only[0].reason == "Similar description"
    both = similar_items(bundle_of(data, text=text, item_knn=ItemKNN().fit(data)), "pine")
    assert both[0].item_id == "oak" and set(both[0].sources) == {"text", "item_knn"}
    assert both[0].score > both[1].score


def test_ease_and_mf_like_signals_are_used_when_present():
    data = orders_dataset()
    ease = EASE().fit(data)
    mf = MFStub(np.eye(len(data.items), 2, dtype=np.float32) + 0.1)
    similar = similar_items(bundle_of(data, ease=ease, mf=mf), "album")
    assert similar[0].item_id == "oak" and "ease" in similar[0].sources


def test_a_bundle_with_no_usable_signal_gives_empty_lists():
    data = orders_dataset()
    lonely = bundle_of(data, popularity=Popularity().fit(data))
    assert similar_items(lonely, "oak") == []
    assert complementary_items(lonely, "mug", config=ComplementConfig(min_shoppers=10)) == []


def test_an_unknown_item_is_named(shop):
    with pytest.raises(UnknownItemError, match="'nope' is not in this model version"):
        similar_items(shop, "nope")
    with pytest.raises(KeyError):
        complementary_items(shop, "nope")


def test_basket_counts_survive_a_save_and_load(shop, tmp_path):
    shop.models["kg"].save(tmp_path)
    again = TinyBundle(shop.items, shop.products, shop.seen, {"kg": load(tmp_path)})
    assert [r.to_dict() for r in complementary_items(again, "oak")] == [
        r.to_dict() for r in complementary_items(shop, "oak")]


def test_results_are_json_ready(shop):
    out = complementary_items(shop, "album", k=2)[0].to_dict()
    assert out["item_id"] == "oak" and out["reasons"][0]["text"] == "Often bought together (5 orders)"
    assert isinstance(out["score"], float) and all(isinstance(v, float) for v in out["sources"].values())


class TextStub:
    """A ``text`` signal with fixed item embeddings."""

    def __init__(self, emb: np.ndarray) -> None:
        self.item_embeddings = emb


class MFStub:
    """An ``mf`` signal with fixed item factors."""

    def __init__(self, factors: np.ndarray) -> None:
        self.item_factors = factors
