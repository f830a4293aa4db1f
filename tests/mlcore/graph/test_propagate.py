"""Propagation scores: item vectors from the graph, cold items scored through shared entities."""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mlcore.data import Dataset
from mlcore.graph import PropagationConfig, build_graph, item_features, propagate_scores
from tests.mlcore.conftest import tiny_dataset, tiny_products


def test_item_vectors_have_unit_length():
    x = item_features(build_graph(tiny_dataset()))
    np.testing.assert_allclose(np.sqrt(x.multiply(x).sum(axis=1)).A1, 1.0, rtol=1e-5)


def test_a_cold_item_is_scored_through_its_category_and_brand():
    data = tiny_dataset()
    x = item_features(build_graph(data))
    a2, a5, b4 = data.items.index(["a2", "a5", "b4"])
    profile = sp.csr_matrix(([1.0], ([0], [a2])), shape=(1, data.n_items), dtype=np.float32)
    scores = propagate_scores(profile, x)[0]
    assert scores[a5] > 0 and scores[b4] == 0  # a5: nobody bought it, but Acme and Kitchen
    assert scores[data.items.index_of("a1")] > scores[a5]  # same leaf category beats the parent only


def test_sibling_categories_share_their_parent_at_a_discount():
    data = tiny_dataset()
    a1, a3 = data.items.index(["a1", "a3"])
    only_categories = PropagationConfig(brand_weight=0, attribute_weight=0, term_weight=0)
    near = item_features(build_graph(data), only_categories)
    far = item_features(build_graph(data), PropagationConfig(brand_weight=0, attribute_weight=0, term_weight=0, category_decay=0))
    assert (near[a1] @ near[a3].T).toarray()[0, 0] > 0
    assert (far[a1] @ far[a3].T).toarray()[0, 0] == 0


def test_an_item_without_any_link_scores_zero():
    products = pd.concat([tiny_products(), pd.DataFrame({"item_id": ["z"], "title": ["Zq"]})], ignore_index=True)
    data = Dataset.from_frames(tiny_dataset().events, products)
    x = item_features(build_graph(data))
    profile = sp.csr_matrix(np.ones((1, data.n_items), dtype=np.float32))
    assert propagate_scores(profile, x, np.array([data.items.index_of("z")]))[0, 0] == 0
