"""Our ranking metrics agree with ranx (an independent implementation) to 1e-9."""
import numpy as np
import pytest
import scipy.sparse as sp

from mlcore.evaluation.metrics import ranking_metrics
from mlcore.search.evaluate import ndcg as search_ndcg

ranx = pytest.importorskip("ranx")  # requirements-dev.txt; the first import compiles (numba) for ~1 min

KS = (1, 3, 5, 10, 20)


def random_lists(seed: int = 7, n_users: int = 60, n_items: int = 40, k_max: int = 20):
    """Rankings (every user ``k_max`` distinct items) and truth (1 to 15 test items per user)."""
    rng = np.random.default_rng(seed)
    top = np.stack([rng.permutation(n_items)[:k_max] for _ in range(n_users)]).astype(np.int64)
    rows, cols = [], []
    for user in range(n_users):
        chosen = rng.choice(n_items, size=rng.integers(1, 16), replace=False)
        rows += [user] * len(chosen)
        cols += chosen.tolist()
    truth = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n_users, n_items))
    return top, truth


def as_ranx(top, truth):
    qrels = ranx.Qrels({f"u{u:03d}": {f"i{i}": 1 for i in truth[u].indices} for u in range(truth.shape[0])})
    run = ranx.Run({f"u{u:03d}": {f"i{i}": float(len(row) - r) for r, i in enumerate(row)} for u, row in enumerate(top)})
    return qrels, run


def test_recall_ndcg_mrr_hit_rate_and_map_agree_with_ranx():
    top, truth = random_lists()
    ours = ranking_metrics(top, truth, KS)
    qrels, run = as_ranx(top, truth)
    names = [f"{m}@{k}" for k in KS for m in ("recall", "ndcg", "mrr", "hit_rate")]
    theirs = ranx.evaluate(qrels, run, names)
    for name in names:
        assert ours[name] == pytest.approx(float(theirs[name]), abs=1e-9), name
    # MAP@k: ranx divides each user's precision sum by n_test, we by min(n_test, k) (a perfect list scores 1)
    n_test = np.diff(truth.indptr)
    for k in KS:
        per_user = ranx.evaluate(qrels, run, f"map@{k}", return_mean=False)
        rescaled = np.asarray(per_user) * n_test / np.minimum(n_test, k)
        assert ours[f"map@{k}"] == pytest.approx(float(rescaled.mean()), abs=1e-9)
        if (n_test <= k).all():
            assert ours[f"map@{k}"] == pytest.approx(float(np.mean(per_user)), abs=1e-9)


def test_search_ndcg_with_graded_judgements_agrees_with_ranx_burges_gains():
    rng = np.random.default_rng(3)
    grades = {f"q{q:03d}": {f"p{p}": int(rng.integers(0, 4)) for p in rng.choice(30, 12, replace=False)} for q in range(25)}
    ranked = {q: [f"p{p}" for p in rng.permutation(30)[:10]] for q in grades}
    qrels = ranx.Qrels({q: {p: g for p, g in gs.items() if g > 0} for q, gs in grades.items()})
    assert all(max(gs.values()) > 0 for gs in grades.values())  # ranx drops queries without a relevant item
    # ranx returns per-query scores in sorted query-id order: the ids are zero-padded to keep ours
    run = ranx.Run({q: {p: float(10 - r) for r, p in enumerate(ps)} for q, ps in ranked.items()})
    for k in (5, 10):
        theirs = ranx.evaluate(qrels, run, f"ndcg_burges@{k}", return_mean=False)
        ours = [search_ndcg(ranked[q], grades[q], k) for q in grades]
        np.testing.assert_allclose(ours, np.asarray(theirs), atol=1e-9, rtol=0)
