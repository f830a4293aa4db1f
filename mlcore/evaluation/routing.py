"""Per-slice routes of a learned fusion, chosen on validation shoppers the ranker was not trained on.

For each slice of :data:`mlcore.fusion.learned.ROUTE_SLICES` every candidate ranking — the learned model, the
weighted fusion, each signal alone — is scored by NDCG@k on that slice's truth, as the evaluation protocol
ranks it (already-bought items removed for ``exclude_seen``, only new items for ``cold_start``); the best one
serves the slice. The learned model keeps a slice unless another ranking is strictly better there, or when
fewer than ``min_users`` shoppers fall in it (too few to tell).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp

from mlcore.evaluation.metrics import ranking_metrics, top_k
from mlcore.fusion.features import Context
from mlcore.fusion.fuse import FusionConfig
from mlcore.fusion.learned import LEARNED, ROUTE_SLICES, WEIGHTED, BoundLearned, LearnedFusion


def slice_truths(truth: sp.csr_matrix, seen: sp.csr_matrix, new_items: np.ndarray,
                 new_shoppers: np.ndarray) -> dict[str, sp.csr_matrix]:
    """Truth per route slice (rows as ``truth``): ``all`` and ``exclude_seen`` without the new shoppers,
    ``cold_start`` only new items, ``new_shoppers`` only them (bool (n,) ``new_shoppers``)."""
    truth = sp.csr_matrix(truth)
    keep_old = sp.diags((~new_shoppers).astype(np.float32))
    ones = sp.csr_matrix(seen, copy=True)
    ones.data[:] = 1.0
    fresh = sp.csr_matrix(truth - truth.multiply(ones))
    out = {
        "all": sp.csr_matrix(keep_old @ truth),
        "exclude_seen": sp.csr_matrix(keep_old @ fresh),
        "cold_start": sp.csr_matrix(truth @ sp.diags(new_items.astype(np.float32))),
        "new_shoppers": sp.csr_matrix(sp.diags(new_shoppers.astype(np.float32)) @ truth),
    }
    for m in out.values():
        m.eliminate_zeros()
    return out


def choose_routes(model: LearnedFusion, rows: Mapping[str, np.ndarray], users: np.ndarray, ctx: Context,
                  seen: sp.csr_matrix, truth: sp.csr_matrix, weighted: FusionConfig, *, k: int = 10,
                  min_users: int = 10) -> tuple[dict[str, str], dict[str, dict[str, float]]]:
    """Routes ``{slice: choice}`` and the table ``{slice: {choice: ndcg@k}}`` they were chosen from.

    ``rows``: raw scores per signal of ``users`` (n, n_items); ``truth`` (CSR, n rows): their validation items;
    ``seen``: CSR over all shoppers (rows ``users`` are theirs).
    """
    users = np.asarray(users, dtype=np.int64)
    user_seen = sp.csr_matrix(seen[users])
    truths = slice_truths(truth, user_seen, ctx.item_new > 0, ctx.new_shoppers(users))
    choices = [LEARNED, WEIGHTED, *[s for s in model.signals if s in rows]]
    table: dict[str, dict[str, float]] = {s: {} for s in ROUTE_SLICES}
    for choice in choices:
        forced = BoundLearned(dataclasses.replace(model, routes=dict.fromkeys(ROUTE_SLICES, choice)), ctx, seen,
                              weighted)
        for slice_name in ROUTE_SLICES:
            t = truths[slice_name]
            keep = np.flatnonzero(np.diff(t.indptr) > 0)
            if keep.size < min_users:
                continue
            scores = forced.score_slice(users[keep], slice_name, {s: np.asarray(r)[keep] for s, r in rows.items()})
            if slice_name == "exclude_seen":
                coo = user_seen[keep].tocoo()
                scores[coo.row, coo.col] = -np.inf
            if slice_name == "cold_start":
                scores = np.where((ctx.item_new > 0)[None, :], scores, -np.inf)
                flat = ~(scores.max(axis=1) > np.where(np.isfinite(scores), scores, np.inf).min(axis=1))
                scores[flat] = -np.inf
            table[slice_name][choice] = ranking_metrics(top_k(scores, k), t[keep], (k,))[f"ndcg@{k}"]
    routes = {}
    for slice_name, by_choice in table.items():
        best = LEARNED
        for choice, value in by_choice.items():
            if value > by_choice.get(best, -1.0) + 1e-12:
                best = choice
        routes[slice_name] = best
    return routes, table
