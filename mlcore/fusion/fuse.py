"""Weighted fusion of normalised signal scores, with a per-item explanation.

The weights are a plain ``{signal: weight}`` mapping — what the dashboard's
fusion config holds. Each signal's scores (n_users, n_items) are normalised per
user row (see :mod:`mlcore.fusion.normalize`), multiplied by the weight and
summed. An item's explanation lists each signal's normalised score × weight,
the business rules that touched it and, where a recommender can explain itself
(the knowledge graph), a readable path.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Protocol, get_args

import numpy as np

from mlcore.fusion.normalize import NORMALIZATIONS, Normalization, normalize

FusionMode = Literal["weighted", "learned"]
FUSION_MODES: tuple[str, ...] = get_args(FusionMode)


@dataclass(frozen=True)
class FusionConfig:
    """Weights per signal name and the normalisation applied before summing.

    ``mode``: ``weighted`` (the weighted sum) or ``learned`` (a bundle's learned ranker, see
    :mod:`mlcore.fusion.learned`; the weights still order what lies beyond its candidates, and serve
    when the bundle has no ranker).
    """

    weights: Mapping[str, float]
    normalization: Normalization = "rank"
    mode: FusionMode = "weighted"

    def __post_init__(self) -> None:
        if self.mode not in FUSION_MODES:
            raise ValueError(f"unknown fusion mode {self.mode!r}; use one of {', '.join(FUSION_MODES)}")
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(f"unknown normalisation {self.normalization!r}; use one of {', '.join(NORMALIZATIONS)}")
        clean: dict[str, float] = {}
        for name, weight in dict(self.weights).items():
            try:
                clean[str(name)] = float(weight)
            except (TypeError, ValueError):
                raise ValueError(f"weight for signal {name!r} must be a number, got {weight!r}") from None
        object.__setattr__(self, "weights", MappingProxyType(clean))

    def to_dict(self) -> dict[str, Any]:
        return {"weights": dict(self.weights), "normalization": self.normalization, "mode": self.mode}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FusionConfig:
        return cls(weights=dict(data["weights"]), normalization=data.get("normalization", "rank"),
                   mode=data.get("mode") or "weighted")


@dataclass(frozen=True)
class Contribution:
    """One signal's share of an item's fused score: ``value = normalized * weight``."""

    signal: str
    normalized: float
    weight: float

    @property
    def value(self) -> float:
        return self.normalized * self.weight


@dataclass(frozen=True)
class Explanation:
    """Why one item (column index) got its fused score."""

    item: int
    score: float
    contributions: tuple[Contribution, ...]
    rules: tuple[str, ...] = ()
    path: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "score": self.score,
            "contributions": [
                {"signal": c.signal, "normalized": c.normalized, "weight": c.weight, "value": c.value}
                for c in self.contributions
            ],
            "rules": list(self.rules),
            "path": self.path,
            **dict(self.extra),
        }


class Explainer(Protocol):
    """A recommender that can say why it scores ``item`` for ``user`` (indices)."""

    def explain(self, user: int, item: int) -> Any: ...


def _check(signal_scores: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> list[str]:
    used = [name for name, w in weights.items() if w != 0]
    missing = [name for name in used if name not in signal_scores]
    if missing:
        raise KeyError(f"fusion weights name signals without scores: {', '.join(missing)}; have {', '.join(signal_scores)}")
    shapes = {np.shape(signal_scores[name]) for name in used}
    if len(shapes) > 1:
        raise ValueError(f"signal score shapes differ: {shapes}")
    return used


def fuse(
    signal_scores: Mapping[str, np.ndarray],
    weights: Mapping[str, float],
    normalization: Normalization | str = "rank",
    *,
    normalized: bool = False,
) -> np.ndarray:
    """Fused scores (float32, shape of each signal's scores): ``sum_s w_s * norm(scores_s)``.

    Signals with weight 0 are skipped; ``normalized=True`` says the scores are
    already normalised (as the tuner keeps them). ``-inf`` in any used signal stays ``-inf``.
    """
    used = _check(signal_scores, weights)
    if not used:
        raise ValueError("fusion needs at least one signal with a non-zero weight")
    total: np.ndarray | None = None
    for name in used:
        s = signal_scores[name] if normalized else normalize(signal_scores[name], normalization)
        part = np.float32(weights[name]) * np.asarray(s, dtype=np.float32)
        total = part if total is None else total + part
    assert total is not None
    return total.astype(np.float32, copy=False)


def _path_text(raw: Any) -> str | None:
    if raw is None or raw == "" or raw == [] or raw == ():
        return None
    if isinstance(raw, str):
        return raw
    sentence = getattr(raw, "sentence", None)
    if isinstance(sentence, str) and sentence:
        return sentence
    if isinstance(raw, list | tuple):
        return " → ".join(str(part) for part in raw)
    return str(raw)


def explain(
    signal_rows: Mapping[str, np.ndarray],
    weights: Mapping[str, float],
    items: np.ndarray,
    normalization: Normalization | str = "rank",
    *,
    user: int | None = None,
    explainers: Mapping[str, Explainer] | None = None,
) -> list[Explanation]:
    """Explanations for ``items`` (column indices) of ONE user.

    ``signal_rows`` maps each signal to that user's raw scores over all items
    (shape (n_items,)); they are normalised over the whole row, as in :func:`fuse`.
    ``explainers`` (signal name → object with ``explain(user, item)``) give the
    graph path; a signal without weight gives no path.
    """
    used = _check(signal_rows, weights)
    norm = {name: normalize(np.asarray(signal_rows[name])[None, :], normalization)[0] for name in used}
    out = []
    for item in np.asarray(items, dtype=np.int64).tolist():
        contributions = tuple(
            Contribution(name, float(norm[name][item]), float(weights[name])) for name in used
        )
        path, extra = None, {}
        for name, explainer in (explainers or {}).items():
            if name in used and user is not None and hasattr(explainer, "explain"):
                raw = explainer.explain(user, item)
                path = _path_text(raw)
                if path:
                    if hasattr(raw, "to_dict"):
                        extra["graph_path"] = raw.to_dict()
                    break
        score = float(sum(c.value for c in contributions))
        out.append(Explanation(item, score, contributions, path=path, extra=extra))
    return out


def with_rules(explanation: Explanation, rules: tuple[str, ...]) -> Explanation:
    """The same explanation with the names of the rules that touched the item."""
    return dataclasses.replace(explanation, rules=explanation.rules + tuple(rules))
