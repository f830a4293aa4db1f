"""Learned fusion: a LightGBM lambdarank model over every signal's candidates, with per-signal contributions.

Why LightGBM: its lambdarank objective optimises NDCG over each shopper's candidate list directly, it trains
in seconds on CPU, early-stops on a held-out part, saves as plain text (nothing pickled), and
``pred_contrib`` gives exact per-feature contributions (SHAP values) that sum to the prediction.

The model scores each shopper's pool (:func:`mlcore.fusion.features.candidate_pools`); items outside the
pool keep the weighted fusion's order below every pooled item, so a full ranking always exists. ``routes``
say, per slice, which ranking serves it — ``learned``, ``weighted`` or one signal's own scores — chosen on
validation (:mod:`mlcore.evaluation.routing`): ``all`` (default), ``exclude_seen`` (already-bought items
removed), ``cold_start`` (only new items may be shown) and ``new_shoppers`` (short histories; it wins over
``all`` and ``exclude_seen`` for those shoppers).
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from mlcore.fusion.features import CONTEXT_FEATURES, Context, candidate_pools, pair_features, signal_features
from mlcore.fusion.fuse import FusionConfig, fuse

ROUTE_SLICES = ("all", "exclude_seen", "cold_start", "new_shoppers")
LEARNED, WEIGHTED = "learned", "weighted"
CONTEXT_GROUP, BASE_GROUP = "context", "base"
MODEL_FILE, META_FILE, CONTEXT_FILE = "learned_model.txt", "learned.json", "learned_context.npz"


@dataclass(frozen=True)
class LearnedConfig:
    """Training settings: pool sizes per signal, the share of validation shoppers kept for early stopping
    (and route choice), the least shoppers with a hit each part needs, and the LightGBM parameters."""

    pool: int = 50
    cold_pool: int = 20
    stop_share: float = 0.4
    min_groups: int = 30
    rounds: int = 400
    early_stopping: int = 30
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_data_in_leaf: int = 40
    threads: int = 2
    seed: int = 0


@dataclass
class LearnedFusion:
    """A trained ranker (a ``lightgbm.Booster``), the signals it reads, its routes and training summary."""

    booster: Any
    signals: tuple[str, ...]
    routes: dict[str, str] = field(default_factory=lambda: dict.fromkeys(ROUTE_SLICES, LEARNED))
    pool: int = 50
    cold_pool: int = 20
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        return signal_features(self.signals) + list(CONTEXT_FEATURES)

    def groups(self) -> list[str]:
        """The contribution group of each feature (its signal, or ``context``), then ``base``."""
        return [*(s for s in self.signals for _ in range(2)), *(CONTEXT_GROUP for _ in CONTEXT_FEATURES), BASE_GROUP]

    # -- scoring ------------------------------------------------------------------------
    def predict(self, features: np.ndarray) -> np.ndarray:
        """Model scores (float64, (n_pairs,)) of feature rows."""
        if not len(features):
            return np.zeros(0)
        return np.asarray(self.booster.predict(features, num_threads=1), dtype=np.float64)

    def contributions(self, features: np.ndarray) -> list[dict[str, float]]:
        """Per pair, ``{group: contribution}`` (signals, ``context``, ``base``); they sum to :meth:`predict`."""
        if not len(features):
            return []
        raw = np.asarray(self.booster.predict(features, pred_contrib=True, num_threads=1), dtype=np.float64)
        groups = self.groups()
        out = []
        for row in raw:
            d: dict[str, float] = {}
            for g, v in zip(groups, row, strict=True):
                d[g] = d.get(g, 0.0) + float(v)
            out.append(d)
        return out

    def route(self, slice_name: str) -> str:
        return self.routes.get(slice_name, LEARNED)

    def scores(self, rows: Mapping[str, np.ndarray], users: np.ndarray, ctx: Context, seen: sp.csr_matrix,
               weighted: FusionConfig, *, allowed: np.ndarray | None = None) -> np.ndarray:
        """Full rows (float32, (len(users), n_items)): pooled items by the model above the rest by ``weighted``.

        ``allowed`` (bool, (n, n_items) or (n_items,)): items the pools may hold; the others get ``-inf``.
        """
        base = _weighted(rows, weighted)
        if allowed is not None:
            base = np.where(np.broadcast_to(allowed, base.shape), base, -np.inf).astype(np.float32)
        pr, pi = candidate_pools({s: rows[s] for s in self.signals if s in rows}, self.pool, self.cold_pool,
                                 ctx.item_new > 0, allowed)
        pred = self.predict(pair_features(rows, self.signals, users, pr, pi, ctx, seen))
        return place_pool(base, pr, pi, pred)

    def routed_scores(self, rows: Mapping[str, np.ndarray], users: np.ndarray, ctx: Context, seen: sp.csr_matrix,
                      weighted: FusionConfig, slice_name: str, *, allowed: np.ndarray | None = None) -> np.ndarray:
        """:meth:`scores`, or the ranking the route of ``slice_name`` names; new shoppers take the
        ``new_shoppers`` route unless the slice is ``cold_start``."""
        users = np.asarray(users, dtype=np.int64)
        routes = np.full(len(users), self.route(slice_name), dtype=object)
        if slice_name != "cold_start":
            routes[ctx.new_shoppers(users)] = self.route("new_shoppers")
        out = np.zeros((len(users), next(iter(rows.values())).shape[1]), dtype=np.float32)
        for choice in dict.fromkeys(routes.tolist()):
            mask = routes == choice
            sub = {s: np.asarray(r)[mask] for s, r in rows.items()}
            sub_allowed = allowed[mask] if allowed is not None and np.ndim(allowed) == 2 else allowed
            if choice == LEARNED:
                part = self.scores(sub, users[mask], ctx, seen, weighted, allowed=sub_allowed)
            elif choice == WEIGHTED or choice not in sub:
                part = _weighted(sub, weighted)
            else:
                part = np.asarray(sub[choice], dtype=np.float32)
            out[mask] = part
        return out

    # -- storage ----------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write :data:`MODEL_FILE` (LightGBM's text format) and :data:`META_FILE` into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MODEL_FILE).write_text(self.booster.model_to_string())
        meta = {"signals": list(self.signals), "routes": self.routes, "pool": self.pool, "cold_pool": self.cold_pool,
                "features": self.feature_names, "info": self.info}
        (folder / META_FILE).write_text(json.dumps(meta, indent=2, default=float))

    @classmethod
    def load(cls, folder: Path) -> LearnedFusion:
        import lightgbm as lgb

        meta = json.loads((folder / META_FILE).read_text())
        booster = lgb.Booster(model_str=(folder / MODEL_FILE).read_text())
        model = cls(booster, tuple(meta["signals"]), dict(meta["routes"]), int(meta["pool"]), int(meta["cold_pool"]),
                    dict(meta.get("info", {})))
        if booster.num_feature() != len(model.feature_names):
            raise ValueError(f"{folder}: the model reads {booster.num_feature()} features, {META_FILE} names "
                             f"{len(model.feature_names)}; retrain the version")
        return model


@dataclass
class BoundLearned:
    """A :class:`LearnedFusion` with the data it scores against: the context and ``seen`` (CSR, n_users × n_items)
    of the data the signals were fitted on, and the weighted fusion below its pools. It is a slice-aware scorer
    for :func:`mlcore.evaluation.evaluate` (``score_slice``)."""

    model: LearnedFusion
    ctx: Context
    seen: sp.csr_matrix
    weighted: FusionConfig

    def score_slice(self, users: np.ndarray, slice_name: str, raw: Mapping[str, np.ndarray]) -> np.ndarray:
        """Scores (len(users), n_items) for the ranking ``slice_name`` asks for (see the module doc)."""
        users = np.asarray(users, dtype=np.int64)
        allowed: np.ndarray | None = None
        if slice_name == "exclude_seen":
            allowed = ~(sp.csr_matrix(self.seen[users]).toarray() > 0)
        elif slice_name == "cold_start":
            allowed = self.ctx.item_new > 0
        route = "all" if slice_name == "new_shoppers" else slice_name
        return self.model.routed_scores(raw, users, self.ctx, self.seen, self.weighted, route, allowed=allowed)

    def describe(self) -> dict[str, Any]:
        return {"mode": "learned", "signals": list(self.model.signals), "routes": dict(self.model.routes),
                "weighted": self.weighted.to_dict(), "info": dict(self.model.info)}


def _weighted(rows: Mapping[str, np.ndarray], weighted: FusionConfig) -> np.ndarray:
    weights = {s: w for s, w in weighted.weights.items() if w and s in rows}
    if not weights:
        first = np.asarray(next(iter(rows.values())))
        return np.zeros(first.shape, dtype=np.float32)
    return fuse(rows, weights, weighted.normalization)


def place_pool(base: np.ndarray, pr: np.ndarray, pi: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``base`` (n, n_items) with each row's pooled items ``(pr, pi)`` set to their ``pred`` shifted above the
    row's best finite base score (the pool's order is the model's; the rest keep ``base``'s)."""
    out = np.asarray(base, dtype=np.float32).copy()
    if not len(pr):
        return out
    finite = np.where(np.isfinite(out), out, -np.inf)
    top = np.nan_to_num(finite.max(axis=1), neginf=0.0).astype(np.float64)
    low = np.full(out.shape[0], np.inf)
    np.minimum.at(low, pr, pred)
    out[pr, pi] = (pred - low[pr] + top[pr] + 1.0).astype(np.float32)
    return out


def fit_ranker(train: tuple[np.ndarray, np.ndarray, np.ndarray], stop: tuple[np.ndarray, np.ndarray, np.ndarray],
               signals: Sequence[str], config: LearnedConfig = LearnedConfig()) -> tuple[Any, dict[str, Any]]:
    """Train lambdarank on ``train`` = (features, labels, group sizes), early-stopping on ``stop`` (NDCG@10).

    Returns the booster and a summary (best iteration, rows, groups, the stop part's NDCG@10).
    """
    import lightgbm as lgb

    names = [n.replace(":", "_") for n in signal_features(signals) + list(CONTEXT_FEATURES)]
    params = {"objective": "lambdarank", "metric": "ndcg", "eval_at": [10], "learning_rate": config.learning_rate,
              "num_leaves": config.num_leaves, "min_data_in_leaf": config.min_data_in_leaf,
              "feature_fraction": 0.9, "bagging_fraction": 0.8, "bagging_freq": 1, "lambdarank_truncation_level": 20,
              "num_threads": config.threads, "seed": config.seed, "deterministic": True, "force_row_wise": True,
              "verbosity": -1}
    dtrain = lgb.Dataset(train[0], train[1], group=train[2], feature_name=names, free_raw_data=True)
    dstop = lgb.Dataset(stop[0], stop[1], group=stop[2], reference=dtrain, free_raw_data=True)
    booster = lgb.train(params, dtrain, num_boost_round=config.rounds, valid_sets=[dstop], valid_names=["stop"],
                        callbacks=[lgb.early_stopping(config.early_stopping, verbose=False)])
    best = int(booster.best_iteration or booster.current_iteration())
    score = booster.best_score.get("stop", {}).get("ndcg@10", float("nan"))
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    return booster, {"best_iteration": best, "train_rows": int(len(train[1])), "train_groups": int(len(train[2])),
                     "stop_rows": int(len(stop[1])), "stop_groups": int(len(stop[2])), "stop_ndcg@10": float(score)}


__all__ = ["BASE_GROUP", "BoundLearned", "CONTEXT_GROUP", "LEARNED", "ROUTE_SLICES", "WEIGHTED", "LearnedConfig", "LearnedFusion",
           "fit_ranker", "place_pool"]
