"""Repeat: the shopper's own past interactions, recency- and frequency-weighted.

Retail shoppers re-buy (paper towels, mugs for the café, the same card every month);
this signal ranks what a shopper already bought and is zero for everything else.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Self

import numpy as np

from mlcore.data import Dataset
from mlcore.recommenders._sparse import csr_arrays, csr_from_arrays, dense, item_columns, user_rows
from mlcore.recommenders.base import Recommender, register
from mlcore.runtime import Callback


@dataclass(frozen=True)
class RepeatConfig:
    """``half_life_days``: recency decay of each past event (None: none).
    ``frequency``: ``"log"`` scores log1p of the decayed weighted count (a tenth purchase
    adds less than the second), ``"linear"`` the count itself.
    """

    half_life_days: float | None = 90.0
    frequency: Literal["log", "linear"] = "log"


@register
class Repeat(Recommender):
    """score[u, i] = f(Σ over u's events on i of weight(type) × decay(age)); 0 where u never touched i."""

    name = "repeat"
    Config = RepeatConfig
    config: RepeatConfig

    def fit(self, data: Dataset, callback: Callback | None = None) -> Self:
        self._bind(data)
        m = data.matrix(half_life_days=self.config.half_life_days).copy()
        if self.config.frequency == "log":
            m.data = np.log1p(m.data)
        self.history = m.astype(np.float32)
        self._callback(callback).progress(phase="repeat", done=1, total=1)
        return self

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        rows = user_rows(self.history, users)
        cols = item_columns(self.n_items, items)
        return dense(rows if cols is None else rows[:, cols])

    def _save_arrays(self) -> dict[str, np.ndarray]:
        return csr_arrays("history", self.history)

    def _load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.history = csr_from_arrays("history", arrays)
