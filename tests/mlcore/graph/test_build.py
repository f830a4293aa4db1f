"""Building the product knowledge graph from a catalog, events and uploaded triples."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcore.data import Dataset
from mlcore.graph import GraphConfig, KnowledgeGraph, build_graph
from tests.mlcore.conftest import tiny_dataset, tiny_products


def edges(graph: KnowledgeGraph, relation: str) -> set[tuple[str, str]]:
    head, tail, _ = graph.edges(relation)
    ids = graph.entities.ids
    return {(ids[h], ids[t]) for h, t in zip(head, tail, strict=True)}


def test_products_come_first_in_item_order_then_one_node_per_category_level():
    data = tiny_dataset()
    graph = build_graph(data)
    assert graph.entities.ids[: graph.n_items] == [f"item:{i}" for i in data.items.ids]
    assert ("item:a2", "category:Kitchen > Mugs") in edges(graph, "belongs_to")
    assert edges(graph, "subcategory_of") == {
        ("category:Kitchen > Mugs", "category:Kitchen"),
        ("category:Kitchen > Teaware", "category:Kitchen"),
        ("category:Garden > Tools", "category:Garden"),
        ("category:Garden > Watering", "category:Garden"),
    }


def test_a_product_may_sit_in_several_categories():
    products = tiny_products().assign(category=["Comedy|Drama"] + [""] * 9)
    graph = build_graph(Dataset.from_frames(tiny_dataset().events, products))
    assert edges(graph, "belongs_to") == {("item:a1", "category:Comedy"), ("item:a1", "category:Drama")}


def test_brands_and_attribute_values_become_shared_entities():
    graph = build_graph(tiny_dataset())
    assert ("item:a5", "brand:acme") in edges(graph, "made_by")
    assert ("item:b4", "attr:material=rubber") in edges(graph, "has_attribute")
    assert graph.labels[graph.entities.index_of("attr:material=rubber")] == "material: rubber"


def test_a_value_most_products_hold_is_a_hub_and_links_nothing():
    products = tiny_products().assign(in_stock=[True] * 9 + [False], colour=["red"] * 5 + ["blue"] * 5)
    graph = build_graph(Dataset.from_frames(tiny_dataset().events, products))
    assert "attr:in_stock=true" not in graph.entities.ids and ("item:b5", "attr:in_stock=false") in edges(
        graph, "has_attribute")
    assert ("item:a1", "attr:colour=red") in edges(graph, "has_attribute")  # half the catalog: still a facet


def test_identifier_columns_are_not_entities_and_wide_numeric_ones_become_bands():
    products = tiny_products().assign(ean=[f"40000{i}" for i in range(10)], gtin=np.arange(10) + 4_000_000_000_000, price=np.arange(10) * 1.5 + 1)
    graph = build_graph(Dataset.from_frames(tiny_dataset().events, products), GraphConfig(numeric_max_distinct=5, numeric_bins=2))
    assert not any(key.startswith(("attr:ean=", "attr:gtin=")) for key in graph.entities.ids)
    bands = edges(graph, "has_attribute")
    assert ("item:a1", "attr:price=q0") in bands and ("item:b5", "attr:price=q1") in bands
    assert graph.labels[graph.entities.index_of("attr:price=q1")] == "price 7.75–14.5"


def test_title_terms_link_products_only_when_shared_and_not_generic():
    titles = ["Heart lantern", "Heart holder", "Star lantern", "Moon bowl"] + [f"Widget {i}" for i in range(16)]
    products = pd.DataFrame({"item_id": [f"p{i}" for i in range(20)], "title": titles})
    events = pd.DataFrame({"user_id": ["u"], "item_id": ["p0"], "timestamp": ["2024-01-01"]})
    graph = build_graph(Dataset.from_frames(events, products), GraphConfig(term_max_share=0.1))
    assert edges(graph, "has_term") == {
        ("item:p0", "term:heart"), ("item:p1", "term:heart"), ("item:p0", "term:lantern"), ("item:p2", "term:lantern")
    }  # "widget" is in 16 of 20 titles: too generic; "moon", "star" only once


def test_items_bought_in_the_same_session_by_enough_shoppers_are_bought_together():
    rows = [(u, item, "2024-01-01 10:00") for u in ("u1", "u2") for item in ("a1", "a2")]
    rows += [("u3", "a1", "2024-01-02 10:00"), ("u3", "b1", "2024-01-02 10:10")]
    events = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    graph = build_graph(Dataset.from_frames(events, tiny_products()))
    assert edges(graph, "bought_together") == {("item:a1", "item:a2")}
    _, _, weight = graph.edges("bought_together")
    np.testing.assert_allclose(weight, [2 / np.sqrt(3 * 2)])  # sessions with both / √(sessions of each)
    loose = build_graph(Dataset.from_frames(events, tiny_products()), GraphConfig(co_purchase_min_count=1))
    assert ("item:a1", "item:b1") in edges(loose, "bought_together")


def test_uploaded_triples_add_complements_and_new_entities():
    triples = pd.DataFrame(
        {"head": ["a3", "b4"], "relation": ["complements", "Made In"], "tail": ["a4", "Germany"]}
    )
    data = tiny_dataset()
    graph = build_graph(Dataset.from_frames(data.events, tiny_products(), triples))
    assert edges(graph, "complements") == {("item:a3", "item:a4")}
    assert edges(graph, "made_in") == {("item:b4", "entity:germany")}
    assert "made_in" in graph.relations


def test_triples_without_the_three_columns_are_refused():
    bad = pd.DataFrame({"head": ["a1"], "tail": ["a2"]})
    with pytest.raises(ValueError, match="relation"):
        build_graph(Dataset.from_frames(tiny_dataset().events, tiny_products(), bad))


def test_the_graph_survives_a_round_trip_through_plain_arrays(tmp_path):
    graph = build_graph(tiny_dataset())
    np.savez(tmp_path / "g.npz", **graph.to_arrays())
    with np.load(tmp_path / "g.npz", allow_pickle=False) as npz:
        again = KnowledgeGraph.from_arrays({k: npz[k] for k in npz.files})
    assert again.entities == graph.entities and again.relations == graph.relations
    assert again.summary() == graph.summary()
    np.testing.assert_array_equal(again.weight, graph.weight)
    assert list(again.labels) == list(graph.labels)
