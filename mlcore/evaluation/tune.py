"""Automatic fusion-weight tuning on the validation window.

Given each signal's raw scores for the validation users (n_users, n_items) and
the validation truth (CSR, same rows), search weights that maximise a ranking
metric (default NDCG@10) of the fused list. Two searches: ``coordinate``
(coordinate ascent over a grid of weights, signal order shuffled with the
seed) and ``optuna`` (TPE, seeded). Scores are normalised once up front.
Both start from ``TuneConfig.start_weights`` (equal weights unless given) and never
return weights that score below the start, so ``metric >= baseline`` always.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp

from mlcore.evaluation.metrics import ranking_metrics, top_k
from mlcore.fusion.fuse import fuse
from mlcore.fusion.normalize import Normalization, normalize


@dataclass(frozen=True)
class TuneConfig:
    """Search settings. ``metric`` is a key of :func:`ranking_metrics` (e.g. ``ndcg@10``).

    ``start_weights``: where the search starts and what ``baseline`` measures (an operator's
    current weights); signals it does not name start at 0. None: every signal at 1.
    """

    metric: str = "ndcg@10"
    method: Literal["coordinate", "optuna"] = "coordinate"
    normalization: Normalization = "rank"
    grid: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
    rounds: int = 3
    n_trials: int = 80
    max_users: int = 3000
    seed: int = 0
    start_weights: Mapping[str, float] | None = None


@dataclass(frozen=True)
class TuneResult:
    """Best weights found, their metric, the starting weights' metric (``baseline``) and the gain over it."""

    weights: dict[str, float]
    normalization: Normalization
    metric_name: str
    metric: float
    baseline: float
    evaluations: int
    seconds: float
    history: list[tuple[dict[str, float], float]] = field(default_factory=list, repr=False)

    @property
    def gain(self) -> float:
        return self.metric - self.baseline

    def to_dict(self) -> dict[str, object]:
        return {
            "weights": self.weights,
            "normalization": self.normalization,
            "metric_name": self.metric_name,
            "metric": self.metric,
            "equal_weights_metric": self.baseline,
            "gain": self.gain,
            "evaluations": self.evaluations,
            "seconds": self.seconds,
        }


class _Objective:
    """Mean of ``metric`` over targets; each target is (rows, truth of those rows, items to exclude)."""

    def __init__(
        self,
        norm: dict[str, np.ndarray],
        targets: list[tuple[np.ndarray, sp.csr_matrix, sp.coo_matrix | None]],
        metric: str,
    ) -> None:
        self.norm, self.targets, self.metric = norm, targets, metric
        self.k = int(metric.split("@")[1])
        self.history: list[tuple[dict[str, float], float]] = []
        self._cache: dict[tuple[float, ...], float] = {}

    def __call__(self, weights: dict[str, float]) -> float:
        key = tuple(round(weights[s], 6) for s in self.norm)
        if key in self._cache:
            return self._cache[key]
        if not any(w > 0 for w in weights.values()):
            value = 0.0
        else:
            fused = fuse(self.norm, weights, normalized=True)
            values = []
            for rows, truth, exclude in self.targets:
                f = fused[rows]
                if exclude is not None:
                    f[exclude.row, exclude.col] = -np.inf
                values.append(ranking_metrics(top_k(f, self.k), truth, (self.k,))[self.metric])
            value = float(np.mean(values))
        self._cache[key] = value
        self.history.append((dict(weights), value))
        return value


def tune_weights(
    signal_scores: Mapping[str, np.ndarray],
    truth: sp.csr_matrix,
    config: TuneConfig = TuneConfig(),
    *,
    seen: sp.csr_matrix | None = None,
    target: Literal["all", "exclude_seen", "both"] = "all",
) -> TuneResult:
    """Search fusion weights maximising ``config.metric`` on ``truth`` (CSR, rows = score rows).

    ``seen`` (CSR, same shape) marks items each user already has; with ``target``
    ``exclude_seen`` they are removed from ranking and truth, ``both`` averages the
    metric with and without them. Users without a validation item are ignored; at
    most ``max_users`` users (seeded sample) are used so that tuning stays fast.
    """
    started = time.perf_counter()
    names = list(signal_scores)
    if not names:
        raise ValueError("tuning needs at least one signal")
    if target != "all" and seen is None:
        raise ValueError(f"tuning target {target!r} needs the seen matrix")
    truth = sp.csr_matrix(truth)
    rows = np.flatnonzero(np.diff(truth.indptr) > 0)
    rng = np.random.default_rng(config.seed)
    if rows.size > config.max_users:
        rows = np.sort(rng.choice(rows, size=config.max_users, replace=False))
    norm = {name: normalize(np.asarray(signal_scores[name])[rows], config.normalization) for name in names}
    truth = truth[rows]
    targets: list[tuple[np.ndarray, sp.csr_matrix, sp.coo_matrix | None]] = []
    if target in ("all", "both"):
        targets.append((np.arange(rows.size), truth, None))
    if target in ("exclude_seen", "both"):
        assert seen is not None
        s = sp.csr_matrix(seen)[rows]
        ones = s.copy()
        ones.data[:] = 1.0
        fresh = sp.csr_matrix(truth - truth.multiply(ones))
        fresh.eliminate_zeros()
        keep = np.flatnonzero(np.diff(fresh.indptr) > 0)
        targets.append((keep, fresh[keep], s[keep].tocoo()))
    objective = _Objective(norm, targets, config.metric)
    if config.start_weights is None:
        baseline_weights = {name: 1.0 for name in names}
    else:
        baseline_weights = {name: float(config.start_weights.get(name, 0.0)) for name in names}
    baseline = objective(baseline_weights)
    if config.method == "coordinate":
        best_w, best = _coordinate(objective, names, baseline_weights, baseline, config, rng)
    elif config.method == "optuna":
        best_w, best = _optuna(objective, names, baseline_weights, baseline, config)
    else:
        raise ValueError(f"unknown tuning method {config.method!r}; use coordinate or optuna")
    return TuneResult(
        weights=best_w,
        normalization=config.normalization,
        metric_name=config.metric,
        metric=best,
        baseline=baseline,
        evaluations=len(objective.history),
        seconds=time.perf_counter() - started,
        history=objective.history,
    )


def _coordinate(
    objective: _Objective,
    names: list[str],
    start: dict[str, float],
    start_value: float,
    config: TuneConfig,
    rng: np.random.Generator,
) -> tuple[dict[str, float], float]:
    best_w, best = dict(start), start_value
    for _ in range(config.rounds):
        improved = False
        for name in rng.permutation(names).tolist():
            for value in config.grid:
                trial = {**best_w, name: float(value)}
                score = objective(trial)
                if score > best + 1e-9:
                    best_w, best, improved = trial, score, True
        if not improved:
            break
    return best_w, best


def _optuna(
    objective: _Objective, names: list[str], start: dict[str, float], start_value: float, config: TuneConfig
) -> tuple[dict[str, float], float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=config.seed))
    study.enqueue_trial(start)
    hi = max((*config.grid, *start.values()))  # the start must lie inside the search space
    study.optimize(
        lambda trial: objective({n: trial.suggest_float(n, 0.0, hi) for n in names}), n_trials=config.n_trials
    )
    weights = {n: float(study.best_params[n]) for n in names}
    best = float(study.best_value)
    if best < start_value:
        return dict(start), start_value
    return weights, best
