"""MMR trades relevance for diversity; tuning finds the weights that rank the truth first."""
import numpy as np
import pytest
import scipy.sparse as sp

from mlcore.evaluation import TuneConfig, tune_weights
from mlcore.evaluation.metrics import intra_list_diversity
from mlcore.fusion import mmr

# items 0,1,2 are near duplicates and the most relevant; 3 and 4 point elsewhere
VECTORS = np.array([[1.0, 0.0], [0.99, 0.05], [0.98, 0.1], [0.0, 1.0], [-1.0, 0.0]])
RELEVANCE = np.array([1.0, 0.95, 0.9, 0.5, 0.4])


def test_mmr_with_lambda_one_keeps_the_relevance_order():
    assert mmr(np.arange(5), RELEVANCE, VECTORS, k=3, lam=1.0).tolist() == [0, 1, 2]


def test_mmr_trades_relevance_for_diversity():
    picked = mmr(np.arange(5), RELEVANCE, VECTORS, k=3, lam=0.5)
    assert picked[0] == 0
    assert set(picked.tolist()) == {0, 3, 4}
    before = intra_list_diversity(np.array([[0, 1, 2]]), VECTORS)
    after = intra_list_diversity(picked[None, :], VECTORS)
    assert after > before


def test_mmr_refuses_a_lambda_outside_zero_one():
    with pytest.raises(ValueError, match="lambda"):
        mmr(np.arange(5), RELEVANCE, VECTORS, k=2, lam=1.5)


def _signals(n_users=40, n_items=30, seed=0):
    rng = np.random.default_rng(seed)
    truth = np.zeros((n_users, n_items), dtype=np.float32)
    truth[np.arange(n_users), rng.integers(0, n_items, n_users)] = 1
    good = truth + 0.8 * rng.random((n_users, n_items))  # informative, noisy
    noise = rng.random((n_users, n_items))  # says nothing
    return {"good": good.astype(np.float32), "noise": noise.astype(np.float32)}, sp.csr_matrix(truth)


def test_tuning_raises_ndcg_by_weighting_the_informative_signal():
    scores, truth = _signals()
    result = tune_weights(scores, truth, TuneConfig(seed=1))
    assert result.weights["good"] > result.weights["noise"]
    assert result.metric >= result.baseline and result.gain > 0
    assert result.to_dict()["metric_name"] == "ndcg@10"


def test_tuning_is_deterministic_for_a_seed():
    scores, truth = _signals()
    assert tune_weights(scores, truth, TuneConfig(seed=3)).weights == tune_weights(scores, truth, TuneConfig(seed=3)).weights


def test_optuna_search_never_returns_worse_than_equal_weights():
    scores, truth = _signals()
    result = tune_weights(scores, truth, TuneConfig(method="optuna", n_trials=15, seed=0))
    assert result.metric >= result.baseline


def test_tuning_for_unseen_items_drops_a_signal_that_only_recalls_the_past():
    scores, truth = _signals()
    rng = np.random.default_rng(5)
    seen = sp.csr_matrix((rng.random(truth.shape) < 0.1).astype(np.float32))
    # "past" puts already-seen items first: useless once they are excluded
    scores["past"] = seen.toarray() * 5 + 0.01 * rng.random(truth.shape).astype(np.float32)
    result = tune_weights(scores, truth, TuneConfig(seed=0), seen=seen, target="exclude_seen")
    assert result.weights["good"] > 0
    assert result.metric >= result.baseline
