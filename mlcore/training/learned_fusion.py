"""Train the learned fusion in a job: on the validation window, with signals fitted on the train part.

The validation shoppers (at most ``max_users``, a seeded sample) are split in two: the ranker learns on the
first part and early-stops on the second (``LearnedConfig.stop_share``), where the per-slice routes are then
chosen (:func:`mlcore.evaluation.routing.choose_routes`). Only shoppers whose pool holds one of their
validation items teach the ranker anything; with fewer than ``min_groups`` of them in either part there is
too little data, and :func:`train_learned` returns None and the reason, so the job keeps the weighted fusion.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mlcore.data import Split
from mlcore.evaluation.routing import choose_routes
from mlcore.fusion import FusionConfig
from mlcore.fusion.features import Context, candidate_pools, pair_features
from mlcore.fusion.learned import LearnedConfig, LearnedFusion, fit_ranker


@dataclass
class ValidationScores:
    """Raw scores per signal (n, n_items) of the sampled validation shoppers ``users`` and their truth."""

    users: np.ndarray
    rows: dict[str, np.ndarray]
    truth: sp.csr_matrix
    stop: np.ndarray  # bool (n,): the early-stopping part
    ctx: Context
    seen: sp.csr_matrix


def score_validation(models: Mapping[str, object], split: Split, *, max_users: int, batch: int,
                     config: LearnedConfig = LearnedConfig()) -> ValidationScores:
    """Score a seeded sample of at most ``max_users`` validation shoppers with every model (fitted on train)."""
    truth = sp.csr_matrix(split.validation_items())
    users = np.flatnonzero(np.diff(truth.indptr) > 0)
    rng = np.random.default_rng(config.seed)
    if users.size > max_users:
        users = np.sort(rng.choice(users, size=max_users, replace=False))
    rows = {}
    for name, model in models.items():
        parts = [np.asarray(model.score(users[i: i + batch]), dtype=np.float32)  # type: ignore[attr-defined]
                 for i in range(0, len(users), batch)]
        rows[name] = np.concatenate(parts) if parts else np.zeros((0, split.n_items), dtype=np.float32)
    stop = np.zeros(len(users), dtype=bool)
    stop[rng.permutation(len(users))[: int(round(config.stop_share * len(users)))]] = True
    return ValidationScores(users, rows, truth[users], stop, Context.from_dataset(split.train),
                            sp.csr_matrix(split.train.matrix(binary=True)))


def _examples(v: ValidationScores, signals: Sequence[str], part: np.ndarray, config: LearnedConfig,
              batch: int = 512) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, labels, group sizes) of the shoppers ``part`` (positions into ``v.users``) whose pool holds a hit."""
    xs, ys, groups = [], [], []
    for start in range(0, len(part), batch):
        idx = part[start: start + batch]
        rows = {s: v.rows[s][idx] for s in signals}
        pr, pi = candidate_pools(rows, config.pool, config.cold_pool, v.ctx.item_new > 0)
        labels = (np.asarray(v.truth[idx][pr, pi]).ravel() > 0).astype(np.float32)
        hit_rows = np.unique(pr[labels > 0])
        keep = np.isin(pr, hit_rows)
        pr, pi, labels = pr[keep], pi[keep], labels[keep]
        if not len(pr):
            continue
        xs.append(pair_features(rows, signals, v.users[idx], pr, pi, v.ctx, v.seen))
        ys.append(labels)
        groups.append(np.bincount(pr)[hit_rows])
    if not xs:
        return np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(groups).astype(np.int64)


def train_learned(v: ValidationScores, weighted: FusionConfig, config: LearnedConfig = LearnedConfig(), *,
                  leave_out: Sequence[str] = ()) -> tuple[LearnedFusion | None, str]:
    """The trained ranker over every signal of ``v`` but ``leave_out``, with its routes; or None and why not."""
    signals = tuple(s for s in v.rows if s not in leave_out)
    if not signals:
        return None, "no signal to learn from"
    fit_part, stop_part = np.flatnonzero(~v.stop), np.flatnonzero(v.stop)
    train = _examples(v, signals, fit_part, config)
    stop = _examples(v, signals, stop_part, config)
    need = config.min_groups
    if len(train[2]) < need or len(stop[2]) < max(need // 2, 1):
        return None, (f"too little validation data for a learned fusion: {len(train[2])} shoppers to learn from "
                      f"and {len(stop[2])} to stop on have a validation item among their candidates (need {need} "
                      f"and {max(need // 2, 1)}); the weighted fusion is used")
    booster, info = fit_ranker(train, stop, signals, config)
    model = LearnedFusion(booster, signals, pool=config.pool, cold_pool=config.cold_pool, info=info)
    sub = FusionConfig({s: w for s, w in weighted.weights.items() if s in signals} or {s: 1.0 for s in signals},
                       weighted.normalization)
    routes, table = choose_routes(model, {s: v.rows[s][stop_part] for s in signals}, v.users[stop_part], v.ctx,
                                  v.seen, v.truth[stop_part], sub)
    model.routes = routes
    model.info["routes_ndcg@10"] = table
    note = ", ".join(f"{s}→{c}" for s, c in routes.items())
    return model, (f"learned fusion: {info['best_iteration']} trees on {info['train_groups']} shoppers "
                   f"(early stop NDCG@10 {info['stop_ndcg@10']:.4f} on {info['stop_groups']}); routes {note}")
