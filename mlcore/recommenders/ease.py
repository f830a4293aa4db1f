"""EASE (Steck, 2019): a closed-form item×item linear model with L2 regularisation.

Dense form: B = I - P · diag(1 / diag(P)), P = (XᵀX + λI)⁻¹, the diagonal of B zero so an
item cannot recommend itself. Memory grows as n_items² (4·n² bytes, computed in place) and
time as n_items³, so above ``max_dense_items`` EASE switches to its sparse form.

Sparse form: EASE's objective ‖X - XB‖² + λ‖B‖² with diag(B) = 0 splits into one ridge
regression per column, b_j = (G_NN + λI)⁻¹ G_Nj with G = XᵀX and N every other item. The
sparse form keeps the same per-column regression but restricts N to item j's ``neighbours``
most similar items (cosine of co-occurrence, found in bounded blocks as item-kNN finds them),
so each column is a k×k solve: memory O(n·k), time O(n·k³). When N holds every item that
co-occurs with j it is exactly the dense solution on catalogues where all items co-occur;
otherwise it drops the (small) weights of items that rarely or never meet j.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from mlcore.data import Dataset
from mlcore.recommenders._sparse import csr_arrays, csr_from_arrays, dense, item_columns, user_rows
from mlcore.recommenders.base import Recommender, register
from mlcore.recommenders.cost import Cost, Workload
from mlcore.runtime import Callback, NullCallback

DENSE_FLOPS_PER_S = 2e10  # float32 Cholesky inverse on 2 shared CPU cores (benchmarks/scale.py: 10k items, 68 s)
SPARSE_ITEMS_PER_S = 250.0  # local k×k solves with k = 100, blocks of G cut included (measured on Online Retail)


@dataclass(frozen=True)
class EASEConfig:
    """``l2``: the λ added to the Gram matrix's diagonal (larger = smoother; hundreds suit
    retail baskets). ``binary``: a shopper counts once per item; otherwise log1p of summed,
    decayed event weights (frequency and recency: NDCG@10 0.270 → 0.315 on Online Retail's
    2011-11-01 split). ``half_life_days``: recency decay (None: none).
    ``max_dense_items``: the dense form up to this many items (a float32 B needs 4·n² bytes:
    20k items = 1.6 GB, about 2 minutes on 2 cores); above it the sparse form with
    ``neighbours`` weights per item. ``max_items``: refuse catalogues larger than this.
    """

    l2: float = 200.0
    binary: bool = False
    half_life_days: float | None = 60.0
    max_items: int = 1_000_000
    max_dense_items: int = 20_000
    neighbours: int = 100


@register
class EASE(Recommender):
    """score[u] = x_u · B, with x_u the shopper's (binary) history row; B dense or sparse."""

    name = "ease"
    Config = EASEConfig
    config: EASEConfig

    def fit(self, data: Dataset, callback: Callback | None = None) -> Self:
        cfg = self.config
        if data.n_items > cfg.max_items:
            raise ValueError(
                f"ease: {data.n_items} items exceed max_items={cfg.max_items}; raise EASEConfig.max_items "
                f"or use item_knn / mf for this catalogue"
            )
        cb = self._callback(callback)
        self._bind(data)
        x = data.matrix(half_life_days=cfg.half_life_days, binary=cfg.binary).copy()
        if not cfg.binary:
            x.data = np.log1p(x.data)
        self.history = x.astype(np.float32)
        if data.n_items <= cfg.max_dense_items:
            self.weights: np.ndarray | sp.csr_matrix = ease_weights(self.history, cfg.l2)
        else:
            cb.log(f"ease: {data.n_items} items > max_dense_items={cfg.max_dense_items}: sparse form, "
                   f"{cfg.neighbours} neighbours per item")
            self.weights = sparse_ease_weights(self.history, cfg.l2, cfg.neighbours, cb)
        cb.progress(phase="ease", done=1, total=1)
        return self

    @classmethod
    def cost(cls, workload: Workload, config: EASEConfig | None = None) -> Cost:
        cfg = config if config is not None else EASEConfig()
        n, history = workload.n_items, workload.matrix_bytes + workload.csr_bytes
        if n <= cfg.max_dense_items:
            # the sparse Gram (bounded by n² entries) becomes one dense n×n matrix, inverted in place
            gram_nnz = workload.pairs
            matrix = 4 * n * n
            return Cost(
                peak_bytes=history + matrix + 48 * gram_nnz,  # scipy's product and its dense copy (measured at 10k)
                model_bytes=workload.csr_bytes + matrix,
                seconds=n**3 / DENSE_FLOPS_PER_S + 1e-6 * workload.events,
                note=f"set ease.max_dense_items below {n} for the sparse form (O(n·neighbours) memory)",
            )
        k = min(cfg.neighbours, n - 1)
        weights = 12 * n * k
        gram = 32 * workload.pairs  # the sparse XᵀX while scipy builds it, kept through the solves (measured at 100k)
        return Cost(
            peak_bytes=history + gram + 20 * n * k + 4 * (48 * (k + 1)) ** 2,
            model_bytes=workload.csr_bytes + weights,
            seconds=workload.pairs / 5e7 + n / SPARSE_ITEMS_PER_S * (k / 100) ** 2,
            note="lower ease.neighbours, or drop ease (item_knn is its cheaper cousin)",
        )

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        rows = user_rows(self.history, users)
        cols = item_columns(self.n_items, items)
        b = self.weights if cols is None else self.weights[:, cols]
        return dense(rows @ b)

    def _save_arrays(self) -> dict[str, np.ndarray]:
        if sp.issparse(self.weights):
            return {**csr_arrays("history", self.history), **csr_arrays("sparse_weights", self.weights)}
        return {**csr_arrays("history", self.history), "weights": np.asarray(self.weights)}

    def _load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.history = csr_from_arrays("history", arrays)
        if "weights" in arrays:
            self.weights = arrays["weights"].astype(np.float32)
        else:
            self.weights = csr_from_arrays("sparse_weights", arrays)


def ease_weights(x: sp.csr_matrix, l2: float) -> np.ndarray:
    """The item×item weight matrix B (float32, zero diagonal) for users×items ``x`` (sparse).

    One n×n float32 buffer holds the Gram matrix, its Cholesky factor, its inverse and B in turn.
    """
    gram = (x.T @ x).toarray()
    gram = np.ascontiguousarray(gram, dtype=np.float32)
    gram[np.diag_indices_from(gram)] += np.float32(l2)
    # G is symmetric positive definite: invert through its Cholesky factor (LAPACK potrf + potri),
    # about half the work of a general inverse. λ keeps G well conditioned, so float32 suffices.
    # LAPACK wants Fortran order: the transpose is a Fortran view of the same (symmetric) buffer,
    # so both calls work in place instead of on copies.
    work = gram.T
    factor, info = scipy.linalg.lapack.spotrf(work, lower=False, overwrite_a=True)
    if info == 0:
        p, info = scipy.linalg.lapack.spotri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise ValueError(f"ease: the Gram matrix is not positive definite (LAPACK info {info}); raise EASEConfig.l2")
    if not np.shares_memory(p, gram):  # LAPACK copied after all: continue on its result
        gram = np.ascontiguousarray(p.T)
    _fill_upper_from_lower(gram)  # potri filled the Fortran upper triangle = our lower one
    diagonal = np.diag(gram).copy()
    gram /= -diagonal[None, :]
    gram[np.diag_indices_from(gram)] = 0.0
    return gram


def _fill_upper_from_lower(a: np.ndarray, block: int = 1024) -> None:
    """Make the square ``a`` symmetric from its lower triangle, in place, a row block at a time."""
    n = a.shape[0]
    for start in range(0, n, block):
        stop = min(n, start + block)
        square = a[start:stop, start:stop]
        square[np.triu_indices(stop - start, 1)] = square.T[np.triu_indices(stop - start, 1)]
        a[start:stop, stop:] = a[stop:, start:stop].T


def sparse_ease_weights(
    x: sp.csr_matrix, l2: float, neighbours: int, callback: Callback | None = None, batch: int = 48
) -> sp.csr_matrix:
    """B (float32 CSR, n×n, zero diagonal) with column j supported on j's ``neighbours`` most
    similar items: b_Nj = (G_NN + λI)⁻¹ G_Nj for G = XᵀX of users×items ``x``.

    G is kept sparse (its nonzeros are the co-occurring item pairs); each batch of items
    cuts the dense block of G over the union of their supports and solves their systems together.
    """
    cb = callback if callback is not None else NullCallback()
    n = x.shape[1]
    gram = sp.csr_matrix(x.T @ x, dtype=np.float32)
    support = _top_cosine(gram, neighbours)
    k = int(np.diff(support.indptr).max(initial=0))
    if k == 0:
        return sp.csr_matrix((n, n), dtype=np.float32)
    cb.check()
    counts = np.diff(support.indptr)
    padded = np.full((n, k), -1, dtype=np.int64)  # item j's neighbours, -1 where it has fewer than k
    padded[np.repeat(np.arange(n), counts), np.arange(support.nnz) - np.repeat(support.indptr[:-1], counts)] = support.indices
    values = np.empty(support.nnz, dtype=np.float32)
    diagonal = np.arange(k)
    # Items whose strongest neighbour is the same share much of their support: batching them
    # together shrinks the union of supports, and so the block of G each batch cuts out.
    order = np.lexsort((np.arange(n), padded[:, 0]))
    slots = support.indptr[:-1, None] + diagonal[None, :]  # where each (item, neighbour) value goes
    # many tiny solves: one BLAS thread each is fastest, and several threads thrash next to torch's
    with threadpool_limits(1):
        for start in range(0, n, batch):
            items = order[start : start + batch]
            nb = padded[items]  # (m, k)
            s = np.concatenate([items[:, None], nb], axis=1)  # the item, then its support
            union, position = np.unique(s[s >= 0], return_inverse=True)
            block = gram[union][:, union].toarray()
            local = np.zeros(s.shape, dtype=np.int64)
            local[s >= 0] = position
            missing = nb < 0
            g = block[local[:, :, None], local[:, None, :]].astype(np.float64)
            g_nn = g[:, 1:, 1:]
            g_nn[missing[:, :, None] | missing[:, None, :]] = 0.0
            g_nn[:, diagonal, diagonal] += np.where(missing, 1.0, l2)  # padding solves to 0
            rhs = np.where(missing, 0.0, g[:, 1:, 0])
            solution = np.linalg.solve(g_nn, rhs[..., None])[..., 0]
            values[slots[items][~missing]] = solution[~missing]
            if start // batch % 64 == 0:
                cb.check()
                cb.progress(phase="ease sparse", done=min(n, start + batch), total=n)
    # support row j lists the items that predict j: B[i, j] for i in N(j), so this is Bᵀ in CSR form
    weights_t = sp.csr_matrix((values, support.indices.copy(), support.indptr.copy()), shape=(n, n))
    return sp.csr_matrix(weights_t.T)


def _top_cosine(gram: sp.csr_matrix, k: int, block_rows: int = 4096) -> sp.csr_matrix:
    """Per row of the Gram matrix, the ``k`` columns of highest cosine G_ij / sqrt(G_ii G_jj),
    the diagonal excluded: a pattern matrix (CSR with sorted indices, values 1)."""
    n = gram.shape[0]
    norms = np.sqrt(np.maximum(gram.diagonal(), 0)).astype(np.float64)
    rows_out, cols_out = [], []
    for start in range(0, n, block_rows):
        block = gram[start : min(n, start + block_rows)].tocoo()
        row = block.row.astype(np.int64) + start
        cos = block.data / (norms[row] * norms[block.col] + 1e-12)
        keep = (block.col != row) & (cos > 0)
        row, col, cos = row[keep], block.col[keep], cos[keep]
        # one sort: by row, then by falling cosine (cos is in (0, 1], so row + 1 - cos/2 orders both)
        order = np.argsort(row + (1.0 - 0.5 * np.minimum(cos, 1.0)), kind="stable")
        row, col = row[order], col[order]
        first = np.searchsorted(row, row, side="left")
        top = np.arange(len(row)) - first < k
        rows_out.append(row[top])
        cols_out.append(col[top].astype(np.int64))
    rows, cols = np.concatenate(rows_out), np.concatenate(cols_out)
    pattern = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, n))
    pattern.sort_indices()
    return pattern
