"""Explanation paths read as the reason for the score."""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mlcore.data import Dataset
from mlcore.graph import PathFinder, PropagationConfig, build_graph, item_features
from tests.mlcore.conftest import tiny_dataset, tiny_products


def finder(data: Dataset, config: PropagationConfig = PropagationConfig()) -> PathFinder:
    graph = build_graph(data)
    return PathFinder(graph, item_features(graph, config))


def profile(data: Dataset, *items: str) -> sp.csr_matrix:
    cols = data.items.index(list(items))
    return sp.csr_matrix((np.ones(len(cols), np.float32), (np.zeros(len(cols)), cols)), shape=(1, data.n_items))


def test_a_shared_leaf_category_reads_in_category_like_the_item_you_bought():
    data = tiny_dataset()
    path = finder(data).explain("u1", profile(data, "a3"), data.items.index_of("a5"))
    assert path is not None and path.sentence == "In Kitchen > Teaware, like Ceramic teapot you bought."
    assert [h.relation for h in path.hops] == ["bought", "belongs_to", "belongs_to"]
    assert path.hops[0].source == "user:u1" and path.hops[-1].source == "item:a5"
    assert 0 < path.share <= 1


def test_a_shared_brand_reads_same_brand_as():
    data = tiny_dataset()
    brand_only = PropagationConfig(category_weight=0, attribute_weight=0, term_weight=0)
    path = finder(data, brand_only).explain("u1", profile(data, "a1"), data.items.index_of("a4"))
    assert path is not None and path.sentence == "Same brand as Blue ceramic mug you bought: Acme."
    assert path.to_dict()["hops"][1] == {
        "source": "item:a1", "source_label": "Blue ceramic mug", "relation": "made_by",
        "target": "brand:acme", "target_label": "Acme",
    }


def test_co_purchase_reads_often_bought_with():
    rows = [(u, item, "2024-01-01 10:00") for u in ("u1", "u2", "u3") for item in ("a1", "b4")]
    data = Dataset.from_frames(pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]), tiny_products())
    path = finder(data).explain("u9", profile(data, "a1"), data.items.index_of("b4"))
    assert path is not None and path.sentence == "Often bought with Blue ceramic mug, which you bought."
    assert path.via == "bought_together"


def test_unrelated_history_gives_no_path_and_a_rebuy_says_so():
    data = tiny_dataset()
    paths = finder(data)
    assert paths.explain("u1", profile(data, "a1"), data.items.index_of("b4")) is None
    rebuy = paths.explain("u1", profile(data, "b4"), data.items.index_of("b4"))
    assert rebuy is not None and rebuy.sentence == "You bought Garden hose before."
