"""EASE's sparse form: the per-column regression of the dense closed form, restricted to neighbours."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mlcore.recommenders import load
from mlcore.recommenders.ease import EASE, EASEConfig, ease_weights, sparse_ease_weights
from tests.mlcore.conftest import tiny_dataset


def test_the_sparse_form_with_every_item_as_neighbour_equals_the_dense_solution():
    rng = np.random.default_rng(0)
    x = sp.csr_matrix((rng.random((40, 8)) < 0.6).astype(np.float32) * rng.integers(1, 4, (40, 8)))
    assert ((x.T @ x).toarray() > 0).all()  # every pair of items co-occurs
    dense = ease_weights(x, 3.0)
    sparse = sparse_ease_weights(x, 3.0, neighbours=7).toarray()
    np.testing.assert_allclose(sparse, dense, rtol=1e-4, atol=1e-6)
    assert (np.diag(sparse) == 0).all()


def test_the_sparse_form_ranks_the_tiny_shop_like_the_dense_one():
    data = tiny_dataset()
    dense = EASE(EASEConfig(l2=1.0)).fit(data)
    sparse = EASE(EASEConfig(l2=1.0, max_dense_items=0, neighbours=3)).fit(data)
    assert sp.issparse(sparse.weights) and sparse.weights.nnz <= 3 * data.n_items
    users = np.arange(data.n_users)
    d, s = dense.score(users), sparse.score(users)
    for row in users:
        bought = set(np.flatnonzero(d[row] > 0)) | set(np.flatnonzero(s[row] > 0))
        top_dense = np.argsort(-d[row], kind="stable")[:2]
        top_sparse = np.argsort(-s[row], kind="stable")[:2]
        assert set(top_dense) == set(top_sparse), (row, bought)


def test_a_saved_sparse_model_loads_and_scores_identically(tmp_path):
    model = EASE(EASEConfig(l2=1.0, max_dense_items=0, neighbours=3)).fit(tiny_dataset())
    model.save(tmp_path / "ease")
    again = load(tmp_path / "ease")
    np.testing.assert_allclose(again.score(np.arange(8)), model.score(np.arange(8)))


def test_the_dense_inverse_is_computed_in_place_and_matches_numpy():
    x = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float32))
    g = x.T.toarray() @ x.toarray() + 2.0 * np.eye(3)
    p = np.linalg.inv(g)
    expected = -p / np.diag(p)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(ease_weights(x, 2.0), expected, rtol=1e-5)
