"""Item kNN: items bought by the same shoppers are similar; a shopper gets the neighbours of their items."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Self

import numpy as np
import scipy.sparse as sp

from mlcore.data import Dataset
from mlcore.recommenders._sparse import csr_arrays, csr_from_arrays, dense, item_columns, user_rows
from mlcore.recommenders.base import Recommender, register
from mlcore.recommenders.cost import Cost, Workload
from mlcore.runtime import Callback

BLOCK_CELLS = 1 << 24  # dense cells per block of similarity rows (64 MB of float32)
CELLS_PER_S = 1.3e7  # dense similarity cells computed, scaled and partitioned per second on 2 shared cores (benchmarks/scale.py: 10k and 100k products)
PAIRS_PER_S = 5e7  # co-occurring (user, item, item) triples multiplied per second (measured)


@dataclass(frozen=True)
class ItemKNNConfig:
    """``similarity``: ``"cosine"`` = c_ij / (sqrt(n_i n_j) + shrink), ``"cooccurrence"`` = c_ij,
    where c_ij is the (weighted) number of shoppers who have both items and n_i = c_ii.
    ``neighbours``: each item keeps only its top-k most similar items (sparse, sharper).
    ``shrink``: damps similarities resting on few shared shoppers. ``binary``: a shopper
    counts once per item; otherwise log1p of summed event weights. ``half_life_days``:
    optional recency decay of the interactions.
    """

    similarity: Literal["cosine", "cooccurrence"] = "cosine"
    neighbours: int = 20
    shrink: float = 10.0
    binary: bool = False
    half_life_days: float | None = 30.0


@register
class ItemKNN(Recommender):
    """score[u, j] = Σ_i x_ui · S[i, j] over the items i the shopper has."""

    name = "item_knn"
    Config = ItemKNNConfig
    config: ItemKNNConfig

    def fit(self, data: Dataset, callback: Callback | None = None) -> Self:
        self._bind(data)
        cb = self._callback(callback)
        cfg = self.config
        x = data.matrix(half_life_days=cfg.half_life_days, binary=cfg.binary).copy()
        if not cfg.binary:
            x.data = np.log1p(x.data)
        self.history = x.astype(np.float32)
        self.similarity = item_similarity(self.history, cfg)
        cb.progress(phase="item_knn", done=1, total=1, metrics={"similarity_nnz": float(self.similarity.nnz)})
        return self

    @classmethod
    def cost(cls, workload: Workload, config: ItemKNNConfig | None = None) -> Cost:
        cfg = config if config is not None else ItemKNNConfig()
        neighbours = similarity_cost(workload, cfg.neighbours)
        kept = 12 * workload.n_items * cfg.neighbours
        return Cost(
            peak_bytes=workload.matrix_bytes + neighbours.peak_bytes,
            model_bytes=workload.csr_bytes + kept,
            seconds=neighbours.seconds,
            note="lower item_knn.neighbours",
        )

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        rows = user_rows(self.history, users)
        cols = item_columns(self.n_items, items)
        sim = self.similarity if cols is None else self.similarity[:, cols]
        return dense(rows @ sim)

    def similar_items(self, item: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest items of ``item``: (indices int64, similarities float32), best first."""
        row = self.similarity[item]
        order = np.argsort(-row.data, kind="stable")[:k]
        return row.indices[order].astype(np.int64), row.data[order].astype(np.float32)

    def _save_arrays(self) -> dict[str, np.ndarray]:
        return {**csr_arrays("history", self.history), **csr_arrays("similarity", self.similarity)}

    def _load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.history = csr_from_arrays("history", arrays)
        self.similarity = csr_from_arrays("similarity", arrays)


def item_similarity(x: sp.csr_matrix, config: ItemKNNConfig, block_cells: int = BLOCK_CELLS) -> sp.csr_matrix:
    """Item×item similarity (float32 CSR, zero diagonal, top-``neighbours`` per row) of users×items ``x``.

    Rows are computed in dense blocks of about ``block_cells`` cells (64 MB of float32), so memory
    stays bounded on large catalogues while small ones take one fast dense pass.
    """
    if config.similarity not in ("cosine", "cooccurrence"):
        raise ValueError(f"item_knn similarity must be 'cosine' or 'cooccurrence', not {config.similarity!r}")
    n = x.shape[1]
    xt = x.T.tocsr().astype(np.float32)
    x_csc = x.tocsc().astype(np.float32)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0), dtype=np.float32).reshape(-1))
    k = max(0, min(config.neighbours, n - 1))
    step = max(1, block_cells // max(n, 1))
    parts_rows, parts_cols, parts_vals = [], [], []
    for start in range(0, n, step):
        stop = min(n, start + step)
        block = (xt[start:stop] @ x_csc).toarray()  # (stop - start, n) co-occurrence counts
        if config.similarity == "cosine":
            block /= norms[start:stop, None] * norms[None, :] + np.float32(config.shrink) + np.float32(1e-12)
        block[np.arange(stop - start), np.arange(start, stop)] = 0.0
        if k == 0:
            continue
        top = np.argpartition(-block, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (stop - start, 1))
        values = np.take_along_axis(block, top, axis=1)
        keep = values > 0
        parts_rows.append(np.repeat(np.arange(start, stop), k).reshape(-1, k)[keep])
        parts_cols.append(top[keep])
        parts_vals.append(values[keep])
    if not parts_rows:
        return sp.csr_matrix((n, n), dtype=np.float32)
    rows, cols, vals = (np.concatenate(p) for p in (parts_rows, parts_cols, parts_vals))
    return sp.csr_matrix((vals.astype(np.float32), (rows, cols)), shape=(n, n))


def similarity_cost(workload: Workload, neighbours: int) -> Cost:
    """Memory and time of :func:`item_similarity` keeping ``neighbours`` per item: two copies of the
    interactions, one dense block with its scaled copy and partition indices (24 bytes a cell,
    measured) and the kept entries."""
    n = workload.n_items
    block = 24 * min(BLOCK_CELLS, max(n, 1) * n)
    kept = 28 * n * neighbours  # COO triples while building, then the CSR
    return Cost(
        peak_bytes=2 * workload.csr_bytes + block + kept,
        model_bytes=12 * n * neighbours,
        seconds=n * n / CELLS_PER_S + workload.triples / PAIRS_PER_S,
    )
