"""Metric functions against values worked out by hand."""
import math

import numpy as np
import pytest
import scipy.sparse as sp

from mlcore.evaluation import metrics

# user 0 has test items {1, 3}; user 1 has {0}
TRUTH = sp.csr_matrix(np.array([[0, 1, 0, 1, 0], [1, 0, 0, 0, 0]], dtype=np.float32))
# user 0 gets [3, 0, 1]: hits at ranks 1 and 3; user 1 gets [2, 4, 3]: no hit
TOP = np.array([[3, 0, 1], [2, 4, 3]])


def test_top_k_orders_best_first_and_breaks_ties_by_column():
    scores = np.array([[0.1, 0.5, 0.5, -1.0], [3.0, 2.0, 1.0, 0.0]], dtype=np.float32)
    assert metrics.top_k(scores, 3).tolist() == [[1, 2, 0], [0, 1, 2]]


def test_top_k_never_picks_minus_infinity():
    scores = np.array([[0.1, -np.inf, 0.2]], dtype=np.float32)
    assert metrics.top_k(scores, 3).tolist() == [[2, 0, -1]]


def test_recall_counts_hits_over_test_items():
    assert metrics.recall(TOP, TRUTH, 1) == pytest.approx((1 / 2 + 0) / 2)
    assert metrics.recall(TOP, TRUTH, 3) == pytest.approx((2 / 2 + 0) / 2)


def test_ndcg_uses_binary_gains_and_the_ideal_list():
    dcg = 1 / math.log2(2) + 1 / math.log2(4)
    idcg = 1 / math.log2(2) + 1 / math.log2(3)
    assert metrics.ndcg(TOP, TRUTH, 3) == pytest.approx((dcg / idcg + 0) / 2)
    assert metrics.ndcg(TOP, TRUTH, 1) == pytest.approx((1.0 + 0) / 2)


def test_mrr_hit_rate_and_map():
    assert metrics.mrr(TOP, TRUTH, 3) == pytest.approx(0.5)
    assert metrics.hit_rate(TOP, TRUTH, 3) == pytest.approx(0.5)
    # user 0: precision@1 = 1, precision@3 = 2/3; divided by min(2, 3) = 2
    assert metrics.average_precision(TOP, TRUTH, 3) == pytest.approx(((1 + 2 / 3) / 2 + 0) / 2)


def test_mrr_finds_a_late_first_hit():
    top = np.array([[0, 2, 1]])
    truth = sp.csr_matrix(np.array([[0, 1, 0]]))
    assert metrics.mrr(top, truth, 3) == pytest.approx(1 / 3)
    assert metrics.mrr(top, truth, 2) == 0.0


def test_padding_counts_as_a_miss():
    top = np.array([[1, -1, -1]])
    truth = sp.csr_matrix(np.array([[0, 1, 1]]))
    assert metrics.recall(top, truth, 3) == pytest.approx(0.5)


def test_coverage_counts_distinct_items():
    assert metrics.coverage(TOP, n_items=5) == pytest.approx(5 / 5)
    assert metrics.coverage(TOP, n_items=5, k=1) == pytest.approx(2 / 5)


def test_novelty_is_mean_self_information():
    popularity = np.array([3.0, 1.0, 0.0])
    top = np.array([[0, 1], [2, 0]])
    expected = np.mean([-math.log2(4 / 4), -math.log2(2 / 4), -math.log2(1 / 4), -math.log2(4 / 4)])
    assert metrics.novelty(top, popularity, n_users=3) == pytest.approx(expected)


def test_item_popularity_counts_users():
    train = sp.csr_matrix(np.array([[2, 0], [1, 1], [0, 0]], dtype=np.float32))
    assert metrics.item_popularity(train).tolist() == [2.0, 1.0]


def test_intra_list_diversity_is_one_minus_mean_pairwise_cosine():
    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert metrics.intra_list_diversity(np.array([[0, 1]]), vectors) == pytest.approx(0.0)
    assert metrics.intra_list_diversity(np.array([[0, 2]]), vectors) == pytest.approx(1.0)
    # pairs (0,1)=1, (0,2)=0, (1,2)=0 -> mean 1/3
    assert metrics.intra_list_diversity(np.array([[0, 1, 2], [2, -1, -1]]), vectors) == pytest.approx(2 / 3)


def test_top_k_never_picks_nan():
    scores = np.array([[np.nan, 0.1, 0.2]], dtype=np.float32)
    assert metrics.top_k(scores, 3).tolist() == [[2, 1, -1]]
