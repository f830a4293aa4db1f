"""Full-ranking evaluation of scorers on a :class:`~mlcore.data.Split`.

A *scorer* is either a score matrix (float, shape (n_users, n_items), rows are
user indices of the split) or a callable ``users (int64 array) -> scores
(len(users), n_items)`` such as ``recommender.score``. Fusions are weighted
sums of named scorers (see :mod:`mlcore.fusion`); each is evaluated from the
same per-batch scores, with per-signal ablations (the fusion minus one signal).

Four slices, each with its own truth and users:

- ``all``: every test interaction; items seen in training may be recommended
  (retail shoppers re-buy);
- ``exclude_seen``: items the shopper interacted with in training are removed
  from both the ranking and the truth; users left without test items are dropped;
- ``cold_start``: only test interactions on items with no training interaction;
  the ranking is restricted to those cold items. A scorer whose scores are all
  equal over the cold items of a user (as CF's are) recommends nothing there;
- ``new_shoppers``: every test interaction of shoppers with at most
  :data:`~mlcore.fusion.features.NEW_SHOPPER_ITEMS` distinct items in training, ranked as in ``all``.

Besides plain scorers, ``routed`` scorers (such as :class:`~mlcore.fusion.learned.BoundLearned`) rank each
slice their own way: ``score_slice(users, slice, raw)`` gets the batch's raw signal scores.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from mlcore.data import Dataset, Split
from mlcore.evaluation import metrics as M
from mlcore.fusion.features import NEW_SHOPPER_ITEMS
from mlcore.fusion.fuse import FusionConfig, fuse
from mlcore.fusion.normalize import normalize

Scorer = np.ndarray | Callable[[np.ndarray], np.ndarray]
SLICES = ("all", "exclude_seen", "cold_start", "new_shoppers")


class SliceScorer(Protocol):
    """A scorer that ranks each slice its own way from the batch's raw signal scores."""

    def score_slice(self, users: np.ndarray, slice_name: str, raw: Mapping[str, np.ndarray]) -> np.ndarray: ...

    def describe(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class EvalConfig:
    """``ks``: cut-offs; ``slices``: which of :data:`SLICES`; ``batch_users``: rows scored at once;
    ``on``: evaluate the ``test`` or the ``validation`` window; ``ablation``: fused minus one signal."""

    ks: tuple[int, ...] = (5, 10, 20)
    slices: tuple[str, ...] = SLICES
    batch_users: int = 1024
    on: str = "test"
    ablation: bool = True


@dataclass(frozen=True)
class EvaluationReport:
    """Metrics per slice and scorer: ``metrics[slice][scorer]["ndcg@10"]``.

    Scorer names are the signals, the peers, each fusion, and ``"<fusion>-minus-<signal>"``
    for ablations. ``users[slice]`` counts evaluated users; ``timings`` are seconds spent
    scoring each signal; ``fusions`` holds each fusion's config.
    """

    split: str
    window: str
    ks: tuple[int, ...]
    users: Mapping[str, int]
    metrics: Mapping[str, Mapping[str, Mapping[str, float]]]
    timings: Mapping[str, float]
    fusions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    cold_items: int = 0
    cold_candidates: int = 0

    def cold_chance_recall(self, k: int = 20) -> float:
        """Recall@k a random ranking of the cold candidates would get (for a user with one cold test item)."""
        return min(1.0, k / self.cold_candidates) if self.cold_candidates else 0.0

    def get(self, scorer: str, metric: str = "ndcg@10", slice: str = "all") -> float:
        return float(self.metrics[slice][scorer][metric])

    def ablation(self, fusion: str = "fused", metric: str = "ndcg@10") -> dict[str, dict[str, float]]:
        """Per slice, the change in ``metric`` when each signal is left out (negative: the signal helped)."""
        out: dict[str, dict[str, float]] = {}
        prefix = f"{fusion}-minus-"
        for slice_name, by_scorer in self.metrics.items():
            if fusion not in by_scorer:
                continue
            base = by_scorer[fusion][metric]
            out[slice_name] = {
                name[len(prefix) :]: values[metric] - base for name, values in by_scorer.items() if name.startswith(prefix)
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (plain dicts, lists, floats)."""
        return {
            "split": self.split,
            "window": self.window,
            "ks": list(self.ks),
            "users": dict(self.users),
            "cold_items": self.cold_items,
            "cold_candidates": self.cold_candidates,
            "metrics": {s: {n: dict(v) for n, v in by.items()} for s, by in self.metrics.items()},
            "ablation": {f: self.ablation(f) for f in self.fusions},
            "fusions": {n: dict(c) for n, c in self.fusions.items()},
            "timings": dict(self.timings),
        }


def check_split(split: Split) -> None:
    """Refuse splits whose windows share events or id maps (ValueError that says what overlaps)."""
    if split.train.items != split.test.items or split.train.users != split.test.users:
        raise ValueError("train and test use different id maps; build both parts with one split function")
    key_cols = ["user_id", "item_id", "timestamp", "type"]
    parts = (("train", split.train), ("validation", split.validation), ("test", split.test))
    for i, (name_a, a) in enumerate(parts):
        for name_b, b in parts[i + 1 :]:
            if not len(a.events) or not len(b.events):
                continue
            shared = b.events[key_cols].merge(a.events[key_cols].drop_duplicates(), on=key_cols)
            if len(shared):
                row = shared.iloc[0]
                raise ValueError(
                    f"overlapping split: {len(shared)} {name_b} events are also in {name_a} "
                    f"(e.g. user {row['user_id']!r}, item {row['item_id']!r} at {row['timestamp']}); "
                    "deduplicate the events or split again"
                )


def _score(scorer: Scorer, users: np.ndarray, n_items: int, name: str) -> np.ndarray:
    out = scorer[users] if isinstance(scorer, np.ndarray) else scorer(users)
    out = np.asarray(out, dtype=np.float32)
    if out.shape != (len(users), n_items):
        raise ValueError(f"scorer {name!r} returned shape {out.shape}, expected ({len(users)}, {n_items})")
    return out


def _cold_top(scores: np.ndarray, cold: np.ndarray, k: int) -> np.ndarray:
    sub = scores[:, cold]
    top = M.top_k(sub, k)
    flat = ~(sub.max(axis=1) > sub.min(axis=1))
    mapped = np.where(top >= 0, cold[np.maximum(top, 0)], -1)
    mapped[flat] = -1
    return mapped


def evaluate(
    signals: Mapping[str, Scorer],
    split: Split,
    config: EvalConfig = EvalConfig(),
    *,
    fusions: Mapping[str, FusionConfig] | None = None,
    item_vectors: np.ndarray | None = None,
    fitted_on: Dataset | None = None,
    routed: Mapping[str, SliceScorer] | None = None,
) -> EvaluationReport:
    """Evaluate each signal, each fusion of them and (optionally) each fusion minus one signal.

    ``routed``: more scorers by name, each asked per slice (:class:`SliceScorer`); their ``describe()``
    joins ``fusions`` in the report.

    ``fitted_on`` is the data the scorers were trained on (default ``split.train``;
    pass ``split.train_and_validation()`` after a refit): it defines "already seen",
    the cold items and the popularity behind novelty. ``item_vectors`` (n_items, d)
    enable intra-list diversity.
    """
    check_split(split)
    if config.on not in ("test", "validation"):
        raise ValueError(f"evaluate on 'test' or 'validation', not {config.on!r}")
    train = fitted_on if fitted_on is not None else split.train
    if config.on == "validation" and fitted_on is not None and len(fitted_on.events) > len(split.train.events):
        raise ValueError("scorers fitted on train+validation cannot be evaluated on the validation window")
    if train.items != split.test.items or train.users != split.test.users:
        raise ValueError("the scorers were fitted on data with other id maps than the split's")
    unknown = set(config.slices) - set(SLICES)
    if unknown:
        raise ValueError(f"unknown evaluation slices {sorted(unknown)}; use {', '.join(SLICES)}")
    fusions = dict(fusions or {})
    n_items, k_max = split.n_items, max(config.ks)
    truth_all = sp.csr_matrix(split.test_items() if config.on == "test" else split.validation_items())
    seen = sp.csr_matrix(train.matrix(binary=True))
    cold = np.flatnonzero(np.bincount(seen.indices, minlength=n_items) == 0).astype(np.int64)
    truths = {
        "all": truth_all,
        "exclude_seen": _minus(truth_all, seen),
        "cold_start": _only_columns(truth_all, cold),
        "new_shoppers": _only_rows(truth_all, np.diff(seen.indptr) <= NEW_SHOPPER_ITEMS),
    }
    users = np.flatnonzero(np.diff(truth_all.indptr) > 0)
    slice_users = {s: np.flatnonzero(np.diff(truths[s].indptr) > 0) for s in config.slices}

    variants: dict[str, tuple[FusionConfig, dict[str, float]]] = {}
    for fname, fconf in fusions.items():
        variants[fname] = (fconf, dict(fconf.weights))
        if config.ablation:
            active = [s for s, w in fconf.weights.items() if w != 0]
            for left_out in active if len(active) > 1 else []:
                variants[f"{fname}-minus-{left_out}"] = (fconf, {**fconf.weights, left_out: 0.0})
    routed = dict(routed or {})
    names = list(signals) + list(variants) + list(routed)
    tops = {s: {n: np.full((len(u), k_max), -1, dtype=np.int64) for n in names} for s, u in slice_users.items()}
    position = {s: {int(u): i for i, u in enumerate(us)} for s, us in slice_users.items()}
    timings = dict.fromkeys(signals, 0.0)

    for start in range(0, len(users), config.batch_users):
        batch = users[start : start + config.batch_users]
        raw: dict[str, np.ndarray] = {}
        for name, scorer in signals.items():
            t0 = time.perf_counter()
            raw[name] = _score(scorer, batch, n_items, name)
            timings[name] += time.perf_counter() - t0
        scores: dict[str, np.ndarray] = dict(raw)
        normalized: dict[tuple[str, str], np.ndarray] = {}
        for vname, (fconf, weights) in variants.items():
            parts = {}
            for s, w in weights.items():
                if w != 0:
                    key = (s, fconf.normalization)
                    if key not in normalized:
                        normalized[key] = normalize(raw[s], fconf.normalization)
                    parts[s] = normalized[key]
            scores[vname] = fuse(parts, weights, normalized=True)
        for slice_name, us in slice_users.items():
            mask = np.isin(batch, us)
            if not mask.any():
                continue
            rows_in_slice = np.fromiter((position[slice_name][int(u)] for u in batch[mask]), dtype=np.int64)
            seen_rows = seen[batch[mask]] if slice_name == "exclude_seen" else None
            for name in names:
                if name in routed:
                    block = np.asarray(routed[name].score_slice(
                        batch[mask], slice_name, {s: r[mask] for s, r in raw.items()}), dtype=np.float32)
                else:
                    block = scores[name][mask]
                if slice_name == "cold_start":
                    top = _cold_top(block, cold, k_max)
                else:
                    if seen_rows is not None:
                        block = block.copy()
                        coo = seen_rows.tocoo()
                        block[coo.row, coo.col] = -np.inf
                    top = M.top_k(block, k_max)
                tops[slice_name][name][rows_in_slice, : top.shape[1]] = top

    popularity = M.item_popularity(seen)
    result: dict[str, dict[str, dict[str, float]]] = {}
    for slice_name, us in slice_users.items():
        truth = truths[slice_name][us]
        result[slice_name] = {}
        for name in names:
            top = tops[slice_name][name]
            values = M.ranking_metrics(top, truth, config.ks)
            for k in config.ks:
                values[f"coverage@{k}"] = M.coverage(top, n_items, k)
                values[f"novelty@{k}"] = M.novelty(top, popularity, split.n_users, k)
                if item_vectors is not None:
                    values[f"diversity@{k}"] = M.intra_list_diversity(top, item_vectors, k)
            result[slice_name][name] = values
    return EvaluationReport(
        split=split.name,
        window=config.on,
        ks=tuple(config.ks),
        users={s: len(u) for s, u in slice_users.items()},
        metrics=result,
        timings=timings,
        fusions={**{n: c.to_dict() for n, c in fusions.items()}, **{n: r.describe() for n, r in routed.items()}},
        cold_items=int(np.isin(cold, truth_all.indices).sum()),
        cold_candidates=int(cold.size),
    )


def _minus(a: sp.csr_matrix, b: sp.csr_matrix) -> sp.csr_matrix:
    """Entries of ``a`` where ``b`` is zero."""
    ones = sp.csr_matrix(b, copy=True)
    ones.data[:] = 1.0
    out = sp.csr_matrix(a - a.multiply(ones))
    out.eliminate_zeros()
    return out


def _only_rows(a: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    """Rows of ``a`` where ``keep`` (bool, (n_rows,)) holds; the others emptied."""
    out = sp.csr_matrix(sp.diags(np.asarray(keep, dtype=np.float32)) @ a)
    out.eliminate_zeros()
    return out


def _only_columns(a: sp.csr_matrix, columns: Iterable[int]) -> sp.csr_matrix:
    mask = np.zeros(a.shape[1], dtype=np.float32)
    mask[np.asarray(list(columns), dtype=np.int64)] = 1.0
    out = sp.csr_matrix(a @ sp.diags(mask))
    out.eliminate_zeros()
    return out
