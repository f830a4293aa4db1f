"""The training runner: fit signals, tune fusion on validation, evaluate on test.

One run = for each signal (a registered recommender name and its config):
fit on the split's train part, score the validation users, tune the fusion
weights there (NDCG@10 by default); then refit on train + validation and
evaluate every signal, the tuned fusion and its ablations on the test window.
Progress goes through a :class:`~mlcore.runtime.Callback` (one phase per signal
and step) and ``callback.check()`` is called between steps so a job can be cancelled.
Writing the servable bundle is :func:`mlcore.training.artifacts.write_bundle`.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np
import scipy.sparse as sp

from mlcore.data import Dataset, Split
from mlcore.evaluation import EvalConfig, EvaluationReport, Scorer, TuneConfig, TuneResult, evaluate, tune_weights
from mlcore.fusion import FusionConfig, Normalization
from mlcore.fusion.features import Context
from mlcore.fusion.learned import BoundLearned, LearnedConfig, LearnedFusion
from mlcore.runtime.callback import Callback, NullCallback
from mlcore.training.budget import BudgetConfig, scoring_batch_users, tuning_users

FUSED = "fused"
WEIGHTED = "weighted"  # the weighted fusion's name in reports, beside the learned one under FUSED


@dataclass(frozen=True)
class SignalSpec:
    """A registered recommender ``name`` and its frozen config (None: the defaults)."""

    name: str
    config: Any = None

    @classmethod
    def parse(cls, name: str, overrides: Mapping[str, Any] | None = None) -> SignalSpec:
        """Build the spec with the recommender's own Config class; bad fields are named."""
        from mlcore.recommenders import get

        config_cls = get(name).Config
        try:
            return cls(name, config_cls(**dict(overrides or {})))
        except TypeError as exc:
            fields = ", ".join(f.name for f in dataclasses.fields(config_cls))
            raise ValueError(f"signal {name!r}: {exc}; its settings are: {fields or 'none'}") from None

    def build(self) -> Any:
        from mlcore.recommenders import get

        return get(self.name)(self.config)


@dataclass(frozen=True)
class RunConfig:
    """What to train and how to judge it.

    ``tune_target``: the validation slice whose NDCG the tuner maximises — ``all``
    items, ``exclude_seen`` (already-bought items removed), or ``both`` (their mean).
    ``refit``: refit every signal on train + validation before the test evaluation.
    ``normalization`` ``auto`` lets the tuner try rank, z-score and min-max and keep the
    best on validation (equal weights are used when there is nothing to tune on: then rank).
    ``score_mb``: the user×item score blocks tuning and evaluation may hold at once; on large
    catalogues fewer users are scored per batch (and tuned on) to stay within it.
    ``learned``: also train the learned fusion on validation (:mod:`mlcore.training.learned_fusion`); it
    becomes the run's fusion (``mode`` learned) unless there is too little data. ``learned_ablation``:
    signals whose learned-minus-signal ranker is trained and evaluated too (``fused-minus-<signal>``).
    """

    signals: tuple[SignalSpec, ...]
    ks: tuple[int, ...] = (5, 10, 20)
    normalization: Normalization | Literal["auto"] = "rank"
    tune: bool = True
    tune_config: TuneConfig = TuneConfig()
    tune_target: Literal["all", "exclude_seen", "both"] = "both"
    refit: bool = True
    ablation: bool = True
    batch_users: int = 1024
    weights: Mapping[str, float] | None = None
    score_mb: int = BudgetConfig.score_mb
    learned: bool = True
    learned_config: LearnedConfig = LearnedConfig()
    learned_ablation: tuple[str, ...] = ("text",)

    def __post_init__(self) -> None:
        names = [s.name for s in self.signals]
        if not names:
            raise ValueError("a run needs at least one signal")
        if len(set(names)) != len(names):
            raise ValueError(f"a signal is listed twice: {names}")


@dataclass(frozen=True)
class RunResult:
    """Fitted models (on ``fitted_on``), the fusion used, tuning outcome, test report and timings (s)."""

    models: dict[str, Any]
    fusion: FusionConfig
    tuning: TuneResult | None
    report: EvaluationReport
    fitted_on: Dataset
    split_name: str
    split_sizes: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)
    learned: LearnedFusion | None = None
    learned_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "split": {"name": self.split_name, **self.split_sizes},
            "fusion": self.fusion.to_dict(),
            "learned": self.learned_summary(),
            "tuning": self.tuning.to_dict() if self.tuning else None,
            "report": self.report.to_dict(),
            "timings": self.timings,
        }


    def learned_summary(self) -> dict[str, Any]:
        """Whether the learned fusion serves (``used``), why (``note``), its routes and training figures."""
        if self.learned is None:
            return {"used": False, "note": self.learned_note}
        return {"used": True, "note": self.learned_note, "routes": dict(self.learned.routes),
                "signals": list(self.learned.signals), "info": dict(self.learned.info)}


def _fit_all(
    specs: tuple[SignalSpec, ...], data: Dataset, callback: Callback, timings: dict[str, float], tag: str
) -> dict[str, Any]:
    models = {}
    for i, spec in enumerate(specs):
        callback.check()
        callback.log(f"fitting {spec.name} on {len(data.events)} events ({tag})")
        callback.progress(phase=f"fit:{tag}:{spec.name}", done=0, total=1)
        started = time.perf_counter()
        models[spec.name] = spec.build().fit(data, callback)
        timings[f"fit:{spec.name}:{tag}"] = time.perf_counter() - started
        callback.progress(phase=f"fit:{tag}:{spec.name}", done=1, total=1, metrics={"seconds": timings[f"fit:{spec.name}:{tag}"]})
        callback.progress(phase=f"fit:{tag}", done=i + 1, total=len(specs))
    return models


def _score_users(models: Mapping[str, Any], users: np.ndarray, batch: int, timings: dict[str, float]) -> dict[str, np.ndarray]:
    out = {}
    for name, model in models.items():
        started = time.perf_counter()
        parts = [np.asarray(model.score(users[i : i + batch]), dtype=np.float32) for i in range(0, len(users), batch)]
        out[name] = np.concatenate(parts) if parts else np.zeros((0, model.n_items), dtype=np.float32)
        timings[f"score:{name}:validation"] = time.perf_counter() - started
    return out


def tune_on_validation(
    models: Mapping[str, Any], split: Split, config: RunConfig, timings: dict[str, float]
) -> TuneResult:
    """Tune fusion weights for ``models`` (fitted on ``split.train``) on the validation window."""
    truth = sp.csr_matrix(split.validation_items())
    users = np.flatnonzero(np.diff(truth.indptr) > 0)
    if users.size == 0:
        raise ValueError(f"split {split.name!r} has no validation interactions to tune on; add a validation window")
    # The same seeded sample the tuner would draw, taken before scoring: only these rows are kept.
    cap = tuning_users(split.n_items, len(models), config.tune_config.max_users, config.score_mb)
    if users.size > cap:
        users = np.sort(np.random.default_rng(config.tune_config.seed).choice(users, size=cap, replace=False))
    scores = _score_users(models, users, config.batch_users, timings)
    seen = sp.csr_matrix(split.train_items())[users]
    truth = truth[users]
    methods: tuple[Normalization, ...] = (
        ("rank", "zscore", "minmax") if config.normalization == "auto" else (config.normalization,)
    )
    started = time.perf_counter()
    best: TuneResult | None = None
    for method in methods:
        tune_cfg = dataclasses.replace(config.tune_config, normalization=method)
        result = tune_weights(scores, truth, tune_cfg, seen=seen, target=config.tune_target)
        timings[f"tune:{method}"] = result.seconds
        if best is None or result.metric > best.metric:
            best = result
    timings["tune"] = time.perf_counter() - started
    assert best is not None
    return best


def run(
    data: Dataset,
    split: Split,
    config: RunConfig,
    *,
    callback: Callback | None = None,
    peers: Mapping[str, Scorer] | None = None,
    item_vectors: np.ndarray | None = None,
) -> RunResult:
    """Train, tune and evaluate. ``peers`` are extra scorers (fitted on the same data as the
    final models) evaluated beside the signals but never fused — benchmarks use them."""
    cb = callback if callback is not None else NullCallback()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    has_validation = len(split.validation.events) > 0
    tuning: TuneResult | None = None
    models: dict[str, Any] | None = None
    if config.weights is not None:
        weights = {s.name: float(config.weights.get(s.name, 0.0)) for s in config.signals}
    elif config.tune and has_validation and len(config.signals) > 1:
        models = _fit_all(config.signals, split.train, cb, timings, "validation")
        cb.check()
        tuning = tune_on_validation(models, split, config, timings)
        cb.log(f"tuned weights {tuning.weights}: {tuning.metric_name} {tuning.baseline:.4f} → {tuning.metric:.4f}")
        weights = tuning.weights
    else:
        weights = {s.name: 1.0 for s in config.signals}
    normalization = tuning.normalization if tuning else ("rank" if config.normalization == "auto" else config.normalization)
    fusion = FusionConfig(weights, normalization=normalization)
    # -- learned fusion (kept in one block: it needs the validation fits) --
    learned: dict[str, LearnedFusion] = {}
    learned_note = "not asked for" if not config.learned else "needs a validation window and two signals or more"
    if config.learned and has_validation and len(config.signals) > 1:
        if models is None:
            models = _fit_all(config.signals, split.train, cb, timings, "validation")
        learned, learned_note = _train_learned(models, split, config, fusion, timings, cb)
        if FUSED in learned:
            fusion = dataclasses.replace(fusion, mode="learned")

    fitted_on = split.train_and_validation() if (config.refit and has_validation) else split.train
    if models is None or fitted_on is not split.train:
        models = None  # let the validation fits go before the final ones take their place
        models = _fit_all(config.signals, fitted_on, cb, timings, "final")
    cb.check()
    cb.progress(phase="evaluate", done=0, total=1)
    eval_started = time.perf_counter()
    scorers: dict[str, Scorer] = {name: m.score for name, m in models.items()}
    scorers.update(peers or {})
    routed = {}
    if learned:
        ctx, seen = Context.from_dataset(fitted_on), sp.csr_matrix(fitted_on.matrix(binary=True))
        routed = {name: BoundLearned(model, ctx, seen, fusion) for name, model in learned.items()}
    report = evaluate(
        scorers,
        split,
        EvalConfig(ks=config.ks, ablation=config.ablation,
                   batch_users=scoring_batch_users(split.n_items, len(scorers), config.batch_users, config.score_mb)),
        fusions=({WEIGHTED: fusion} if learned else {FUSED: fusion}) if len(models) > 1 else {},
        item_vectors=item_vectors,
        fitted_on=fitted_on,
        routed=routed,
    )
    if len(models) > 1 and not learned:  # the weighted fusion is the fused list: name it both ways
        for by in report.metrics.values():
            cast(dict[str, Any], by)[WEIGHTED] = by[FUSED]
    timings["evaluate"] = time.perf_counter() - eval_started
    timings.update({f"score:{name}:test": secs for name, secs in report.timings.items()})
    timings["total"] = time.perf_counter() - started
    cb.progress(phase="evaluate", done=1, total=1, metrics={"ndcg@10": _headline(report)})
    return RunResult(
        models=models,
        fusion=fusion,
        tuning=tuning,
        report=report,
        fitted_on=fitted_on,
        split_name=split.name,
        split_sizes=split.describe(),
        timings=timings,
        learned=learned.get(FUSED),
        learned_note=learned_note,
    )


def _train_learned(models: Mapping[str, Any], split: Split, config: RunConfig, fusion: FusionConfig,
                   timings: dict[str, float], cb: Callback) -> tuple[dict[str, LearnedFusion], str]:
    """The learned fusion (under FUSED) and its ablations (``fused-minus-<signal>``), or {} and why not."""
    from mlcore.training.learned_fusion import score_validation, train_learned

    cb.check()
    cb.progress(phase="learn-fusion", done=0, total=1)
    started = time.perf_counter()
    cap = tuning_users(split.n_items, len(models), max(config.tune_config.max_users, 4000), config.score_mb)
    v = score_validation(models, split, max_users=cap, batch=config.batch_users, config=config.learned_config)
    model, note = train_learned(v, fusion, config.learned_config)
    cb.log(note)
    out: dict[str, LearnedFusion] = {}
    if model is not None:
        out[FUSED] = model
        for name in config.learned_ablation if config.ablation else ():
            if name in models and len(models) > 1:
                cb.check()
                ablated, why = train_learned(v, fusion, config.learned_config, leave_out=(name,))
                if ablated is not None:
                    out[f"{FUSED}-minus-{name}"] = ablated
                else:
                    cb.log(f"{FUSED}-minus-{name}: {why}")
    timings["learn-fusion"] = time.perf_counter() - started
    cb.progress(phase="learn-fusion", done=1, total=1, metrics={"seconds": timings["learn-fusion"]})
    return out, note


def _headline(report: EvaluationReport) -> float:
    by = report.metrics.get("all", {})
    name = FUSED if FUSED in by else next(iter(by), None)
    return float(by[name]["ndcg@10"]) if name is not None and "ndcg@10" in by[name] else 0.0
