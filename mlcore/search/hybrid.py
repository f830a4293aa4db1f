"""Merging ranked lists (reciprocal-rank fusion, weighted min-max) and query-derived filters/boosts.

Lists are (indices int64, scores float) pairs, best first; the merge returns a dict index -> fused score
plus per-signal scores for the reasons shown to operators.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from mlcore.search.query import ParsedQuery, normalize

Ranking = tuple[np.ndarray, np.ndarray]
Reranker = Callable[[ParsedQuery, np.ndarray, np.ndarray], np.ndarray]
"""Re-rank hook: (query, candidate indices, fused scores) -> new scores, same shape."""


def rrf(lists: Mapping[str, Ranking], weights: Mapping[str, float], k: float = 60.0) -> dict[int, float]:
    """Reciprocal-rank fusion: sum over lists of ``weight / (k + rank)`` (rank from 1)."""
    fused: dict[int, float] = {}
    for name, (idx, _) in lists.items():
        w = weights.get(name, 1.0)
        for r, i in enumerate(idx.tolist(), start=1):
            fused[i] = fused.get(i, 0.0) + w / (k + r)
    return fused


def weighted(lists: Mapping[str, Ranking], weights: Mapping[str, float]) -> dict[int, float]:
    """Weighted sum of min-max normalised scores (a product absent from a list gets 0 there)."""
    fused: dict[int, float] = {}
    for name, (idx, sc) in lists.items():
        if len(idx) == 0:
            continue
        sc = np.asarray(sc, dtype=np.float64)
        span = float(sc.max() - sc.min())
        norm = (sc - sc.min()) / span if span > 0 else np.ones_like(sc)
        w = weights.get(name, 1.0)
        for i, s in zip(idx.tolist(), norm.tolist(), strict=True):
            fused[i] = fused.get(i, 0.0) + w * s
    return fused


def price_mask(products: pd.DataFrame, rows: np.ndarray, query: ParsedQuery, price_scale: float) -> np.ndarray:
    """True where the product's price (column ``price`` / ``price_scale``) is inside the query's range.
    Products without a price are excluded once the query names a price."""
    keep = np.ones(len(rows), dtype=bool)
    if query.price_min is None and query.price_max is None:
        return keep
    if "price" not in products.columns:
        return np.zeros(len(rows), dtype=bool)
    price = pd.to_numeric(products["price"].iloc[rows], errors="coerce").to_numpy(dtype=np.float64) / price_scale
    keep &= ~np.isnan(price)
    if query.price_min is not None:
        keep &= price >= query.price_min
    if query.price_max is not None:
        keep &= price <= query.price_max
    return keep


def attribute_boosts(
    products: pd.DataFrame, rows: np.ndarray, query: ParsedQuery, *, colour_columns: Sequence[str], brand_column: str,
    factor: float,
) -> tuple[np.ndarray, list[list[str]]]:
    """Multipliers (>= 1) for products whose colour / brand match the query, and the reasons."""
    mult = np.ones(len(rows), dtype=np.float64)
    reasons: list[list[str]] = [[] for _ in rows]
    if query.brand and brand_column in products.columns:
        brands = products[brand_column].iloc[rows].fillna("").astype(str).map(normalize).to_numpy()
        for b in np.flatnonzero(brands == query.brand).tolist():
            mult[b] *= factor
            reasons[b].append(f"brand {query.brand}")
    for col in colour_columns:
        if not query.colours or col not in products.columns:
            continue
        values = products[col].iloc[rows].fillna("").astype(str).map(normalize).to_numpy()
        for j, v in enumerate(values):
            hit = [c for c in query.colours if c in v]
            if hit:
                mult[j] *= factor
                reasons[j].append(f"colour {hit[0]}")
    return mult, reasons
