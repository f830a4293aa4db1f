"""Full-ranking metrics at K over top-k index arrays and a sparse truth matrix.

Every ranking function takes ``top`` (int, shape (n_users, k_max)): each row the
item columns recommended to one user, best first, padded with ``-1`` where a
list is shorter; and ``truth`` (CSR, shape (n_users, n_items)): a non-zero entry
means the user interacted with the item in the test window. Rows of ``top`` and
``truth`` are the same users. Users without any test item should be dropped by
the caller (they would count as zeros). Results are means over users (float).

Definitions (binary relevance):

- ``recall@k``  = hits in the first k / number of test items of the user;
- ``ndcg@k``    = DCG / ideal DCG with gains 1 and discount ``1/log2(rank+1)``
  (rank from 1); the ideal list holds ``min(n_test, k)`` hits;
- ``mrr@k``     = 1 / rank of the first hit in the first k (0 without a hit);
- ``hit_rate@k`` = 1 if any hit in the first k;
- ``map@k``     = sum over hit ranks r of precision@r, divided by ``min(n_test, k)``
  (``ranx``'s ``map@k`` divides by ``n_test``: the two agree whenever ``n_test <= k``).

:func:`graded_ndcg` is the same NDCG for one list with graded gains (search judgements).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp

RANKING_METRICS = ("recall", "ndcg", "mrr", "hit_rate", "map")


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices (int64, shape (n_rows, min(k, n_cols))) of the k best scores per row, best first.

    Ties are broken by the lower column index; ``-inf`` and NaN entries are never
    picked (their positions become ``-1``).
    """
    scores = np.asarray(scores)
    if np.isnan(scores).any():  # a NaN score must never win a slot
        scores = np.where(np.isnan(scores), -np.inf, scores)
    k = min(k, scores.shape[1])
    if k <= 0:
        return np.empty((scores.shape[0], 0), dtype=np.int64)
    if k < scores.shape[1]:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.tile(np.arange(scores.shape[1]), (scores.shape[0], 1))
    part_scores = np.take_along_axis(scores, part, axis=1)
    # lexsort: last key is primary -> sort by -score, then by column index
    order = np.lexsort((part, -part_scores), axis=1)
    top = np.take_along_axis(part, order, axis=1).astype(np.int64)
    top_scores = np.take_along_axis(part_scores, order, axis=1)
    top[~np.isfinite(top_scores) & (top_scores < 0)] = -1
    return top


def discounts(k: int) -> np.ndarray:
    """``1 / log2(rank + 1)`` for ranks 1..k (float64, shape (k,)): the discount of every NDCG here."""
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


def graded_ndcg(gains: Sequence[float], ideal_gains: Iterable[float], k: int) -> float:
    """NDCG@k of one ranked list: DCG of ``gains`` (each ranked item's gain, best first) over the DCG of
    the ``k`` largest ``ideal_gains`` (every judged item's gain); 0 when no gain is positive.

    With gains 1 for test items and 0 otherwise it is ``ndcg@k`` of :func:`ranking_metrics`.

    >>> round(graded_ndcg([1, 0, 1], [1, 1, 1], k=2), 4)
    0.6131
    """
    top = np.asarray(list(gains)[:k], dtype=np.float64)
    ideal = np.sort(np.fromiter(ideal_gains, dtype=np.float64))[::-1][:k]
    best = float(ideal @ discounts(len(ideal)))
    return float(top @ discounts(len(top))) / best if best > 0 else 0.0


def hits(top: np.ndarray, truth: sp.csr_matrix) -> np.ndarray:
    """Boolean (n_users, k): whether each recommended item is a test item of that user."""
    truth = sp.csr_matrix(truth, copy=True)
    truth.eliminate_zeros()
    truth.sort_indices()
    n, k = top.shape
    if n == 0 or k == 0 or truth.nnz == 0:
        return np.zeros((n, k), dtype=bool)
    n_cols = np.int64(truth.shape[1])
    # linear keys row * n_cols + col are sorted for a CSR with sorted indices
    keys = np.repeat(np.arange(truth.shape[0], dtype=np.int64), np.diff(truth.indptr)) * n_cols + truth.indices
    query = np.arange(n, dtype=np.int64)[:, None] * n_cols + top
    pos = np.minimum(np.searchsorted(keys, query), keys.size - 1)
    return (keys[pos] == query) & (top >= 0)


def _n_relevant(truth: sp.csr_matrix) -> np.ndarray:
    t = sp.csr_matrix(truth, copy=True)
    t.eliminate_zeros()
    return np.diff(t.indptr).astype(np.float64)


def ranking_metrics(top: np.ndarray, truth: sp.csr_matrix, ks: Iterable[int] = (5, 10, 20)) -> dict[str, float]:
    """All ranking metrics at every k, as ``{"recall@10": 0.12, ...}`` (means over users)."""
    h = hits(top, truth)
    n_rel = _n_relevant(truth)
    out: dict[str, float] = {}
    for k in ks:
        out.update(_at_k(h, n_rel, k))
    return out


def _at_k(h: np.ndarray, n_rel: np.ndarray, k: int) -> dict[str, float]:
    n = h.shape[0]
    if n == 0:
        return {f"{name}@{k}": 0.0 for name in RANKING_METRICS}
    hk = h[:, :k].astype(np.float64)
    if hk.shape[1] < k:  # short lists: pad with misses
        hk = np.pad(hk, ((0, 0), (0, k - hk.shape[1])))
    safe_rel = np.maximum(n_rel, 1.0)
    n_hits = hk.sum(axis=1)
    discount = discounts(k)
    dcg = hk @ discount
    ideal_len = np.minimum(n_rel, k).astype(np.int64)
    ideal = np.concatenate([[0.0], np.cumsum(discount)])[ideal_len]
    first = np.argmax(hk > 0, axis=1)
    rr = np.where(n_hits > 0, 1.0 / (first + 1.0), 0.0)
    precision_at = np.cumsum(hk, axis=1) / np.arange(1, k + 1)
    ap = (precision_at * hk).sum(axis=1) / np.maximum(np.minimum(n_rel, k), 1.0)
    return {
        f"recall@{k}": float(np.mean(n_hits / safe_rel)),
        f"ndcg@{k}": float(np.mean(np.where(ideal > 0, dcg / np.where(ideal > 0, ideal, 1.0), 0.0))),
        f"mrr@{k}": float(np.mean(rr)),
        f"hit_rate@{k}": float(np.mean(n_hits > 0)),
        f"map@{k}": float(np.mean(ap)),
    }


def recall(top: np.ndarray, truth: sp.csr_matrix, k: int) -> float:
    """Mean over users of hits in the first k / number of test items."""
    return ranking_metrics(top, truth, (k,))[f"recall@{k}"]


def ndcg(top: np.ndarray, truth: sp.csr_matrix, k: int) -> float:
    """Mean NDCG@k with binary gains."""
    return ranking_metrics(top, truth, (k,))[f"ndcg@{k}"]


def mrr(top: np.ndarray, truth: sp.csr_matrix, k: int) -> float:
    """Mean reciprocal rank of the first hit within k."""
    return ranking_metrics(top, truth, (k,))[f"mrr@{k}"]


def hit_rate(top: np.ndarray, truth: sp.csr_matrix, k: int) -> float:
    """Share of users with at least one hit within k."""
    return ranking_metrics(top, truth, (k,))[f"hit_rate@{k}"]


def average_precision(top: np.ndarray, truth: sp.csr_matrix, k: int) -> float:
    """MAP@k: mean over users of average precision, normalised by min(n_test, k)."""
    return ranking_metrics(top, truth, (k,))[f"map@{k}"]


# -- beyond accuracy --------------------------------------------------------------
def coverage(top: np.ndarray, n_items: int, k: int | None = None) -> float:
    """Catalogue coverage: distinct items recommended in the first k / n_items."""
    t = top[:, :k] if k else top
    t = t[t >= 0]
    return float(np.unique(t).size / n_items) if n_items else 0.0


def item_popularity(train: sp.csr_matrix) -> np.ndarray:
    """Users per item in ``train`` (float64, shape (n_items,)): the basis of novelty."""
    train = sp.csr_matrix(train)
    return np.asarray((train != 0).sum(axis=0)).reshape(-1).astype(np.float64)


def novelty(top: np.ndarray, popularity: np.ndarray, n_users: int, k: int | None = None) -> float:
    """Mean self-information (bits) of recommended items: ``-log2((pop_i + 1) / (n_users + 1))``.

    ``popularity`` counts training users per item (see :func:`item_popularity`);
    the +1 keeps never-seen items finite. Higher means less popular recommendations.
    """
    t = top[:, :k] if k else top
    t = t[t >= 0]
    if t.size == 0:
        return 0.0
    p = (popularity[t] + 1.0) / (n_users + 1.0)
    return float(np.mean(-np.log2(p)))


def intra_list_diversity(top: np.ndarray, vectors: np.ndarray, k: int | None = None) -> float:
    """Mean over lists of ``1 - mean pairwise cosine`` of the items' vectors (shape (n_items, d)).

    Lists with fewer than two items are skipped; zero vectors count as orthogonal.
    """
    t = top[:, :k] if k else top
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, norms, out=np.zeros(vectors.shape, dtype=np.float32), where=norms > 0)
    total, count = 0.0, 0
    for start in range(0, t.shape[0], 1024):  # batches bound memory at 1024 x k x d
        rows = t[start : start + 1024]
        valid = rows >= 0
        m = valid.sum(axis=1)
        v = unit[np.where(valid, rows, 0)] * valid[:, :, None]
        sims = np.einsum("nkd,njd->n", v, v) - np.einsum("nkd,nkd->n", v, v)
        ok = m >= 2
        total += float(np.sum(1.0 - sims[ok] / (m[ok] * (m[ok] - 1))))
        count += int(ok.sum())
    return total / count if count else 0.0
