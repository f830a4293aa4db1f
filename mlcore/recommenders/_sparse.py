"""Small sparse-matrix helpers shared by the collaborative-filtering recommenders."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def user_rows(history: sp.csr_matrix, users: np.ndarray) -> sp.csr_matrix:
    """Rows of ``history`` for ``users``; an unknown user (-1 or beyond the matrix) gets an empty row."""
    users = np.asarray(users, dtype=np.int64).reshape(-1)
    known = (users >= 0) & (users < history.shape[0])
    if known.all():
        return history[users]
    # Index a copy with one extra empty row at the end for the unknown users.
    padded = sp.vstack([history, sp.csr_matrix((1, history.shape[1]), dtype=history.dtype)], format="csr")
    return padded[np.where(known, users, history.shape[0])]


def item_columns(n_items: int, items: np.ndarray | None) -> np.ndarray | None:
    """Validated item indices (int64) or None for all items; IndexError names a bad index."""
    if items is None:
        return None
    items = np.asarray(items, dtype=np.int64).reshape(-1)
    if len(items) and (items.min() < 0 or items.max() >= n_items):
        bad = items[(items < 0) | (items >= n_items)][0]
        raise IndexError(f"item index {bad} is outside 0..{n_items - 1}")
    return items


def csr_arrays(prefix: str, m: sp.csr_matrix) -> dict[str, np.ndarray]:
    """A CSR matrix as plain arrays for ``.npz`` (no pickles)."""
    m = m.tocsr()
    return {
        f"{prefix}_data": m.data.astype(np.float32),
        f"{prefix}_indices": m.indices.astype(np.int32),
        f"{prefix}_indptr": m.indptr.astype(np.int64),
        f"{prefix}_shape": np.asarray(m.shape, dtype=np.int64),
    }


def csr_from_arrays(prefix: str, arrays: dict[str, np.ndarray]) -> sp.csr_matrix:
    """The inverse of :func:`csr_arrays`."""
    shape = tuple(int(x) for x in arrays[f"{prefix}_shape"])
    return sp.csr_matrix(
        (arrays[f"{prefix}_data"], arrays[f"{prefix}_indices"], arrays[f"{prefix}_indptr"]), shape=shape
    )


def dense(m: sp.spmatrix | np.ndarray) -> np.ndarray:
    """A float32 C-contiguous dense array."""
    if sp.issparse(m):
        return np.ascontiguousarray(m.toarray(), dtype=np.float32)  # type: ignore[union-attr]
    return np.ascontiguousarray(m, dtype=np.float32)
