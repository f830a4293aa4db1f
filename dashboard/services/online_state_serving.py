"""What serving takes from the online state: the live recent items of a request, the live signals, and the
text neighbours of products newer than the model.

- :func:`live_request`: the shopper's and the session's latest items (stored a moment ago through the
  events API) go in front of the request's own ``recent_items``, so the next list reflects a click at once
  (a guest's session ranking seeds on them; the ``sequential`` signal reads them).
- :func:`live_signals`: extra signals for a known shopper's fusion — ``co_occurrence`` (products often seen
  with the live recent items) and ``trending`` — each weighing its share (the catalog's
  :class:`~dashboard.models.OnlineState`) × the sum of the fusion's positive weights.
- :func:`with_new_products`: products added after the model (encoded into the search index by the worker)
  joined into a similar-items list by their text similarity, so a product created now is similar-itemable
  before any retraining.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from dashboard.models import Catalog, ModelVersion
from dashboard.services import online_state
from dashboard.services.trending import trending_row
from mlcore.serving.bundle import Bundle
from mlcore.serving.requests import RecommendRequest

LIVE_RECENT = 20  # live recent items added to a request
CO_SEEDS = 5  # the newest recent items whose co-occurrence neighbours count
NEW_MIN_SIMILARITY = 0.3  # a new product joins a similar-items list only when at least this similar (cosine)
Ranked = tuple[str, float | None, str, dict[str, Any] | None]  # (item id, score, reason, explanation), as cards take


def live_request(catalog: Catalog, request: RecommendRequest, *, session: str | None = None) -> RecommendRequest:
    """``request`` with the live recent items of its shopper and ``session`` before its own (newest last)."""
    if request.shopper is None and not session:
        return request
    live = online_state.recent_items(catalog, shopper=request.shopper, session=session or None, n=LIVE_RECENT)
    if not live:
        return request
    own = list(request.recent_items)
    merged = [item for item in live if item not in own] + own
    return dataclasses.replace(request, recent_items=tuple(merged[-max(LIVE_RECENT, len(own)):]))


def live_signals(catalog: Catalog, bundle: Bundle, request: RecommendRequest, weights: Mapping[str, float]
                 ) -> dict[str, tuple[float, np.ndarray]]:
    """``{name: (weight, raw scores (n_items,))}`` of the live signals for a known shopper (see the module doc)."""
    if request.shopper is None or request.shopper not in bundle.users:
        return {}
    row = online_state.settings_of(catalog)
    total = sum(w for w in weights.values() if w > 0) or 1.0
    out: dict[str, tuple[float, np.ndarray]] = {}
    if row.co_occurrence_share > 0 and request.recent_items:
        scores = online_state.co_neighbours(catalog, list(request.recent_items)[-CO_SEEDS:])
        co = _row(bundle, scores)
        if co is not None:
            out["co_occurrence"] = (row.co_occurrence_share * total, co)
    if row.trending_share > 0:
        trend = trending_row(catalog, bundle)
        if trend is not None:
            out["trending"] = (row.trending_share * total, trend)
    return out


def _row(bundle: Bundle, scores: Mapping[str, float]) -> np.ndarray | None:
    if not scores:
        return None
    cols = bundle.items.index(list(scores))
    known = cols >= 0
    if not known.any():
        return None
    row = np.zeros(len(bundle.items), dtype=np.float32)
    row[cols[known]] = np.fromiter(scores.values(), dtype=np.float32, count=len(scores))[known]
    return row


def with_new_products(version: ModelVersion, bundle: Bundle, product_id: str, ranked: Sequence[Ranked], *, k: int,
                      reason: str = "") -> list[Ranked]:
    """``ranked`` (a similar-items list of ``product_id``: ``(item id, score, reason, explanation)``, best first)
    with the products the bundle lacks but the search index holds (added since training) inserted where they
    belong: before the first listed item less similar in text to ``product_id`` (cosine of the index's
    vectors; a new product's score is its cosine, its reason ``reason``). At most ``k``; ``ranked`` unchanged when the index has no
    dense vectors, lacks ``product_id`` or holds no new product at least :data:`NEW_MIN_SIMILARITY` similar.
    With ``ranked`` empty (``product_id`` itself is newer than the model) every indexed product may join."""
    from dashboard.services.search_index import SearchUnavailable, index_for, index_is_loaded

    if not index_is_loaded(version):  # a storefront request never waits for a load
        return list(ranked)
    try:
        loaded = index_for(version)
    except SearchUnavailable:
        return list(ranked)
    with loaded.lock:
        engine = loaded.engine
        if engine.dense is None:
            return list(ranked)
        ids = engine.products["id"].astype(str).to_numpy()
        vectors = engine.dense.vectors[:len(ids)]
        seed = engine.items.index([product_id])
        where = engine.items.index([r[0] for r in ranked])
    if seed[0] < 0:
        return list(ranked)
    cosine = vectors @ vectors[int(seed[0])]
    in_bundle = bundle.items.index(ids.tolist()) >= 0
    if not len(ranked):  # a product newer than the model: its neighbours are every indexed product
        in_bundle[:] = False
    order = np.argsort(-cosine)[:k + len(ranked) + 1]
    fresh = [(str(ids[j]), float(cosine[j]), reason, None) for j in order
             if not in_bundle[j] and ids[j] != product_id and cosine[j] >= NEW_MIN_SIMILARITY][:k]
    if not fresh:
        return list(ranked)
    merged: list[Ranked] = []
    for entry, j in zip(ranked, where, strict=True):
        similarity = float(cosine[j]) if j >= 0 else -1.0
        while fresh and float(fresh[0][1] or 0.0) > similarity:
            merged.append(fresh.pop(0))
        merged.append(entry)
    return (merged + fresh)[:k]
