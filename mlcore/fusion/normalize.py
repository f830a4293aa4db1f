"""Per-user score normalisation, so that signals on different scales can be added.

All functions take scores of shape (n_users, n_items) and return float32 of the
same shape, normalised along each row (one user's scores over the items).
Non-finite entries (``-inf`` marks an item that must not be shown) stay ``-inf``
and are ignored when computing a row's statistics.
"""
from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from scipy.stats import rankdata

Normalization = Literal["rank", "zscore", "minmax", "none"]
NORMALIZATIONS: tuple[str, ...] = get_args(Normalization)


def _masked(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float32)
    finite = np.isfinite(s)
    return s, finite


def rank(scores: np.ndarray) -> np.ndarray:
    """Rank within the row scaled to [0, 1] (1 = best); ties share their mean rank.

    A row where all scores are equal becomes all zeros: it says nothing.
    """
    s, finite = _masked(scores)
    filled = np.where(finite, s, -np.inf)
    r = rankdata(filled, method="average", axis=1).astype(np.float32) - 1.0
    n_finite = finite.sum(axis=1, keepdims=True)
    n_inf = s.shape[1] - n_finite
    r = (r - n_inf) / np.maximum(n_finite - 1, 1)
    lo = np.where(finite, s, np.inf).min(axis=1, keepdims=True)
    hi = np.where(finite, s, -np.inf).max(axis=1, keepdims=True)
    flat = ~(hi > lo)
    r = np.where(flat, 0.0, r)
    return np.where(finite, r, -np.inf).astype(np.float32)


def zscore(scores: np.ndarray) -> np.ndarray:
    """``(s - mean) / std`` per row; a row with zero spread becomes zeros."""
    s, finite = _masked(scores)
    n = np.maximum(finite.sum(axis=1, keepdims=True), 1)
    mean = np.where(finite, s, 0.0).sum(axis=1, keepdims=True) / n
    var = (np.where(finite, s - mean, 0.0) ** 2).sum(axis=1, keepdims=True) / n
    std = np.sqrt(var)
    z = np.divide(s - mean, std, out=np.zeros_like(s), where=std > 0)
    return np.where(finite, z, -np.inf).astype(np.float32)


def minmax(scores: np.ndarray) -> np.ndarray:
    """``(s - min) / (max - min)`` per row into [0, 1]; a flat row becomes zeros."""
    s, finite = _masked(scores)
    lo = np.where(finite, s, np.inf).min(axis=1, keepdims=True)
    hi = np.where(finite, s, -np.inf).max(axis=1, keepdims=True)
    spread = hi - lo
    m = np.divide(s - lo, spread, out=np.zeros_like(s), where=np.isfinite(spread) & (spread > 0))
    return np.where(finite, m, -np.inf).astype(np.float32)


def normalize(scores: np.ndarray, method: Normalization | str) -> np.ndarray:
    """Dispatch on ``method`` (one of :data:`NORMALIZATIONS`)."""
    if method == "rank":
        return rank(scores)
    if method == "zscore":
        return zscore(scores)
    if method == "minmax":
        return minmax(scores)
    if method == "none":
        return np.asarray(scores, dtype=np.float32)
    raise ValueError(f"unknown normalisation {method!r}; use one of {', '.join(NORMALIZATIONS)}")
