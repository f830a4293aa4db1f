"""Tuning from an operator's weights: the baseline is their metric and the search never ends below it."""
import numpy as np
import pytest
import scipy.sparse as sp

from mlcore.evaluation import TuneConfig, tune_weights
from mlcore.evaluation.metrics import ranking_metrics, top_k
from mlcore.fusion import fuse


def _signals(n_users=40, n_items=30, seed=0):
    rng = np.random.default_rng(seed)
    truth = np.zeros((n_users, n_items), dtype=np.float32)
    truth[np.arange(n_users), rng.integers(0, n_items, n_users)] = 1
    good = truth + 0.8 * rng.random((n_users, n_items))
    noise = rng.random((n_users, n_items))
    return {"good": good.astype(np.float32), "noise": noise.astype(np.float32)}, sp.csr_matrix(truth)


def ndcg(scores, weights, truth):
    return ranking_metrics(top_k(fuse(scores, weights, "rank"), 10), truth, (10,))["ndcg@10"]


@pytest.mark.parametrize("method", ["coordinate", "optuna"])
def test_the_baseline_is_the_metric_of_the_starting_weights_and_tuning_beats_it(method):
    scores, truth = _signals()
    start = {"good": 0.05, "noise": 1.0}  # a poor choice by the operator
    result = tune_weights(scores, truth, TuneConfig(method=method, n_trials=15, start_weights=start, seed=0))
    assert result.baseline == pytest.approx(ndcg(scores, start, truth), abs=1e-9)
    assert result.metric == pytest.approx(ndcg(scores, result.weights, truth), abs=1e-9)
    assert result.metric > result.baseline and result.history[0] == (start, result.baseline)


def test_a_signal_the_start_does_not_name_starts_at_zero():
    scores, truth = _signals()
    result = tune_weights(scores, truth, TuneConfig(start_weights={"noise": 1.0}, rounds=0))
    assert result.history[0][0] == {"good": 0.0, "noise": 1.0} and result.metric == result.baseline


def test_weights_already_best_are_kept():
    scores, truth = _signals()
    best = tune_weights(scores, truth, TuneConfig(seed=0))
    again = tune_weights(scores, truth, TuneConfig(start_weights=best.weights, seed=0))
    assert again.baseline == pytest.approx(best.metric) and again.metric >= again.baseline
