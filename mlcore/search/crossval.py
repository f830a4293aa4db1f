"""Choosing search settings by cross-validation over queries, and the fold-averaged gain it earns.

A *candidate* is a setting (a fixed configuration, or one with something trained on queries, such as
the learned ranker): a function ``(train query ids, eval query ids) -> {eval id: NDCG}``. For every
outer fold, each candidate is scored on the other folds alone (by an inner cross-validation over them,
so trained candidates are judged on queries they were not trained on) and the best is then scored on
the held-out fold. The report gives, per fold, the candidate chosen and its NDCG against the baseline
on that fold; the headline is the mean over folds of that ratio (not the best fold). The defaults are
the candidate the same procedure picks on all queries.

    folds = query_folds(query_ids, 5)
    report = cross_validate({"bm25": fixed(per_query["bm25"]), ...}, folds, baseline="bm25")
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

Candidate = Callable[[Sequence[str], Sequence[str]], Mapping[str, float]]


def query_folds(query_ids: Sequence[str], n_folds: int = 5, seed: int = 0) -> list[list[str]]:
    """``query_ids`` shuffled with ``seed`` and dealt into ``n_folds`` folds of near-equal size."""
    if n_folds < 2 or n_folds > len(query_ids):
        raise ValueError(f"need 2 <= folds <= number of queries ({len(query_ids)}), not {n_folds}")
    order = np.random.default_rng(seed).permutation(len(query_ids))
    return [[str(query_ids[i]) for i in order[k::n_folds]] for k in range(n_folds)]


def fixed(per_query: Mapping[str, float]) -> Candidate:
    """A candidate with nothing to train: its NDCG per query id, looked up."""
    return lambda train, evaluated: {q: float(per_query[q]) for q in evaluated}


def _mean(values: Mapping[str, float], ids: Sequence[str]) -> float:
    return float(np.mean([values[q] for q in ids])) if ids else 0.0


def inner_score(candidate: Candidate, folds: Sequence[Sequence[str]]) -> float:
    """Mean NDCG over ``folds`` of ``candidate`` trained on the other folds (queries scored once each)."""
    scored: dict[str, float] = {}
    for k, held in enumerate(folds):
        train = [q for j, f in enumerate(folds) if j != k for q in f]
        scored.update(candidate(train, list(held)))
    return float(np.mean(list(scored.values()))) if scored else 0.0


def choose(candidates: Mapping[str, Candidate], folds: Sequence[Sequence[str]]) -> tuple[str, dict[str, float]]:
    """The candidate with the best :func:`inner_score` over ``folds`` (ties: the earlier one) and every score."""
    scores = {name: inner_score(c, folds) for name, c in candidates.items()}
    best = max(scores, key=lambda n: (scores[n], -list(scores).index(n)))
    return best, scores


@dataclass
class CrossValReport:
    """Per outer fold: the chosen candidate and held-out NDCG; per candidate: held-out NDCG per fold."""

    baseline: str
    folds: list[list[str]]
    chosen: list[str] = field(default_factory=list)
    chosen_ndcg: list[float] = field(default_factory=list)
    baseline_ndcg: list[float] = field(default_factory=list)
    per_candidate: dict[str, list[float]] = field(default_factory=dict)
    default: str = ""
    default_scores: dict[str, float] = field(default_factory=dict)

    @property
    def fold_ratios(self) -> list[float]:
        return [c / b if b else 0.0 for c, b in zip(self.chosen_ndcg, self.baseline_ndcg, strict=True)]

    @property
    def gain(self) -> float:
        """Mean over folds of held-out NDCG of the chosen setting / the baseline's on that fold."""
        return float(np.mean(self.fold_ratios)) if self.fold_ratios else 0.0

    def candidate_gain(self, name: str) -> float:
        """Fold-averaged held-out NDCG ratio of one candidate to the baseline."""
        values = self.per_candidate[name]
        return float(np.mean([v / b if b else 0.0 for v, b in zip(values, self.baseline_ndcg, strict=True)]))

    def wins(self, name: str, against: str) -> int:
        """Folds where ``name`` scored above ``against`` on the held-out queries."""
        return sum(a > b + 1e-12 for a, b in zip(self.per_candidate[name], self.per_candidate[against], strict=True))

    def format(self) -> str:
        w = max([14, *map(len, self.per_candidate)])
        n = len(self.folds)
        head = f"{'setting':<{w}} " + " ".join(f"{'fold ' + str(k + 1):>7}" for k in range(n)) + f" {'mean':>7} {'x base':>7}"
        lines = [f"NDCG@10 on each held-out fold ({', '.join(str(len(f)) for f in self.folds)} queries)", head,
                 "-" * len(head)]
        for name, values in self.per_candidate.items():
            lines.append(f"{name:<{w}} " + " ".join(f"{v:7.4f}" for v in values)
                         + f" {np.mean(values):7.4f} {self.candidate_gain(name):7.3f}")
        lines.append(f"{'CV-chosen':<{w}} " + " ".join(f"{v:7.4f}" for v in self.chosen_ndcg)
                     + f" {np.mean(self.chosen_ndcg):7.4f} {self.gain:7.3f}")
        lines.append("chosen per fold (on the other four folds only): " + ", ".join(self.chosen))
        return "\n".join(lines)


def cross_validate(candidates: Mapping[str, Candidate], folds: Sequence[Sequence[str]], baseline: str) -> CrossValReport:
    """Outer cross-validation of the choice among ``candidates`` (``baseline`` must be one of them)."""
    if baseline not in candidates:
        raise ValueError(f"baseline {baseline!r} is not a candidate; candidates: {sorted(candidates)}")
    report = CrossValReport(baseline, [list(f) for f in folds], per_candidate={n: [] for n in candidates})
    for k, held in enumerate(folds):
        train_folds = [list(f) for j, f in enumerate(folds) if j != k]
        train = [q for f in train_folds for q in f]
        held_scores = {name: _mean(c(train, list(held)), list(held)) for name, c in candidates.items()}
        for name, v in held_scores.items():
            report.per_candidate[name].append(v)
        best, _ = choose(candidates, train_folds)
        report.chosen.append(best)
        report.chosen_ndcg.append(held_scores[best])
        report.baseline_ndcg.append(held_scores[baseline])
    report.default, report.default_scores = choose(candidates, folds)
    return report


__all__ = ["Candidate", "CrossValReport", "choose", "cross_validate", "fixed", "inner_score", "query_folds"]
