from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from mlcore.data import Dataset
from mlcore.recommenders.ease import EASE, EASEConfig, ease_weights
from mlcore.recommenders.item_knn import ItemKNN, ItemKNNConfig, item_similarity
from mlcore.recommenders.mf import MF, MFConfig
from mlcore.recommenders.popularity import Popularity, PopularityConfig
from mlcore.recommenders.repeat import Repeat
from mlcore.runtime import Callback, Cancelled
from tests.mlcore.conftest import tiny_dataset


def events(rows):
    return Dataset.from_frames(pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]))


def test_popularity_halves_an_events_weight_every_half_life():
    data = events([("u1", "old", "2024-01-01"), ("u2", "new", "2024-01-11")])
    model = Popularity(PopularityConfig(half_life_days=10)).fit(data)
    old, new = data.items.index(["old", "new"])
    scores = model.score(np.array([0, 1, -1]))
    assert scores[0, old] == pytest.approx(scores[0, new] / 2)
    assert (scores == scores[0]).all()


def test_popularity_counts_each_shopper_once_per_item_by_default():
    rows = [("whale", "a", f"2024-01-0{d}") for d in range(1, 6)] + [("u1", "b", "2024-01-05"), ("u2", "b", "2024-01-05")]
    data = events(rows)
    a, b = data.items.index(["a", "b"])
    capped = Popularity(PopularityConfig(half_life_days=None)).fit(data).score(np.array([0]))[0]
    raw = Popularity(PopularityConfig(half_life_days=None, distinct_users=False)).fit(data).score(np.array([0]))[0]
    assert capped[b] > capped[a] and raw[a] > raw[b]


def test_repeat_ranks_the_shoppers_own_frequent_and_recent_items_first():
    data = tiny_dataset()
    scores = Repeat().fit(data).score(data.users.index(["u1"]))[0]
    a1, a2, a3, a4 = data.items.index(["a1", "a2", "a3", "a4"])
    assert scores[a1] > scores[a3] > scores[a2] > 0  # a1 bought twice; a3 bought and viewed
    assert scores[a4] == 0


def test_item_knn_cosine_matches_a_hand_computed_value():
    x = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1], [1, 0, 0]], dtype=np.float32))
    s = item_similarity(x, ItemKNNConfig(shrink=0.0)).toarray()
    # items 0 and 1 share 2 shoppers; item 0 has 3 shoppers, item 1 has 3: 2 / sqrt(9)
    assert s[0, 1] == pytest.approx(2 / 3) and s[0, 2] == pytest.approx(1 / np.sqrt(6))
    assert np.diag(s).tolist() == [0, 0, 0]


def test_item_knn_keeps_only_the_top_neighbours():
    x = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1], [1, 0, 0]], dtype=np.float32))
    s = item_similarity(x, ItemKNNConfig(similarity="cooccurrence", neighbours=1)).toarray()
    assert s.tolist() == [[0, 2, 0], [2, 0, 0], [0, 2, 0]]


def test_item_knn_lists_similar_items_best_first():
    data = tiny_dataset()
    model = ItemKNN().fit(data)
    neighbours, sims = model.similar_items(data.items.index_of("a1"), k=3)
    assert {data.items.ids[i] for i in neighbours} <= {"a2", "a3", "a4"}
    assert (np.diff(sims) <= 0).all()


def test_ease_matches_the_closed_form_on_a_small_matrix():
    x = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float32))
    lam = 2.0
    g = x.T.toarray() @ x.toarray() + lam * np.eye(3)
    # B_ij = (G^-1)_ij / -(G^-1)_jj, zero diagonal
    p = np.linalg.inv(g)
    expected = -p / np.diag(p)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(ease_weights(x, lam), expected, rtol=1e-5)
    # and by hand: G = [[5,2,2],[2,5,2],[2,2,5]] -> B_01 = 2/7
    assert ease_weights(x, lam)[0, 1] == pytest.approx(2 / 7, rel=1e-5)


def test_ease_refuses_a_catalogue_over_its_item_cap():
    with pytest.raises(ValueError, match="10 items exceed max_items=5"):
        EASE(EASEConfig(max_items=5)).fit(tiny_dataset())


class Recorder(Callback):
    def __init__(self, stop_after: int | None = None) -> None:
        self.calls: list[dict] = []
        self.stop_after = stop_after

    def progress(self, *, phase, done, total, metrics=None):
        self.calls.append({"phase": phase, "done": done, "total": total, **(metrics or {})})

    def should_stop(self):
        return self.stop_after is not None and len(self.calls) >= self.stop_after


FAST = MFConfig(epochs=30, factors=8, batch_size=4, lr=0.05, device="cpu")


def test_mf_reports_loss_and_throughput_each_epoch_and_the_loss_falls():
    recorder = Recorder()
    MF(FAST).fit(tiny_dataset(), recorder)
    assert [c["done"] for c in recorder.calls] == list(range(1, 31))
    assert recorder.calls[0]["phase"] == "mf" and recorder.calls[0]["samples_per_s"] > 0
    assert recorder.calls[-1]["loss"] < recorder.calls[0]["loss"]


def test_mf_is_repeatable_with_a_seed():
    a = MF(replace(FAST, seed=7)).fit(tiny_dataset()).score(np.arange(8))
    b = MF(replace(FAST, seed=7)).fit(tiny_dataset()).score(np.arange(8))
    np.testing.assert_array_equal(a, b)


def test_mf_bpr_learns_the_clusters():
    data = tiny_dataset()
    model = MF(replace(FAST, loss="bpr", epochs=60, batch_size=8)).fit(data)
    scores = model.score(data.users.index(["u1"]))[0]
    assert scores[data.items.index_of("a4")] > scores[data.items.index(["b1", "b2", "b3", "b4"])].max()


def test_mf_stops_when_the_callback_cancels():
    with pytest.raises(Cancelled):
        MF(FAST).fit(tiny_dataset(), Recorder(stop_after=3))


def test_mf_stops_early_and_keeps_the_best_epoch():
    seen = []

    def validation(model):
        seen.append(model.item_factors.copy())
        return [0.5, 0.4, 0.3, 0.2][len(seen) - 1]

    model = MF(replace(FAST, eval_every=2, patience=2)).fit(tiny_dataset(), validation=validation)
    assert len(seen) == 3  # epochs 2, 4, 6; no gain twice
    np.testing.assert_array_equal(model.item_factors, seen[0])


def test_scoring_rejects_an_item_index_outside_the_catalogue():
    model = EASE().fit(tiny_dataset())
    with pytest.raises(IndexError, match="item index 10 is outside 0..9"):
        model.score(np.array([0]), items=np.array([3, 10]))
