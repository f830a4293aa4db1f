"""The text signal's content-aware item-item model: learnt from co-purchases, applied to any product's text."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from mlcore.data import Dataset
from mlcore.recommenders.text import TextConfig, TextRecommender, text_item_map


def kinds() -> np.ndarray:
    """Six products of three kinds in a 4-d 'text space': mugs (0, 1), tea (2, 3), hoses (4, 5)."""
    e = np.array([[1, 0.1, 0, 0], [1, -0.1, 0, 0], [0, 0, 1, 0.1], [0, 0, 1, -0.1], [0, 0, 0, 1], [0.1, 0, 0, 1]],
                 dtype=np.float32)
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def test_the_map_learns_that_mug_buyers_buy_tea_and_applies_it_to_a_tea_nobody_bought():
    e = kinds()
    rows = []  # 30 shoppers: mug 0 with tea 2; 10 shoppers: hose 4 alone. Nobody buys tea 3.
    rows += [(u, i) for u in range(30) for i in (0, 2)]
    rows += [(u, 4) for u in range(30, 40)]
    users, items = zip(*rows, strict=True)
    y = sp.csr_matrix((np.ones(len(rows)), (users, items)), shape=(40, 6))
    profiles = np.asarray(y @ e)
    profiles /= np.linalg.norm(profiles, axis=1, keepdims=True)
    m = text_item_map(profiles, y, e, l2=0.1)
    mug_buyer = e[1] @ m  # bought only the other mug
    scores = mug_buyer @ e.T
    assert m.shape == (4, 4) and m.dtype == np.float32
    assert scores[3] > scores[4] and scores[3] > scores[5], "the unbought tea ranks above the hoses"
    assert (e[1] @ e.T)[3] == pytest.approx((e[1] @ e.T)[4], abs=1e-6), "plain cosine cannot tell tea from hose"


def test_learned_weight_zero_keeps_unit_cosine_profiles_and_a_bad_weight_is_named():
    events = pd.DataFrame({"user_id": ["a", "a", "b"], "item_id": ["x", "y", "x"],
                           "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
                           "type": "purchase", "quantity": 1})
    data = Dataset.from_frames(events, pd.DataFrame({"item_id": ["x", "y", "z"], "title": ["red mug", "tea", "hose"]}))
    model = TextRecommender(TextConfig(device="cpu", max_length=16, learned_weight=0.0))
    model.item_embeddings = kinds()[:3]
    model._bind(data)
    assert np.allclose(np.linalg.norm(model._user_vectors(data), axis=1), 1.0)
    model.config = TextConfig(learned_weight=1.5)
    with pytest.raises(ValueError, match="learned_weight must be between 0 and 1"):
        model._user_vectors(data)
