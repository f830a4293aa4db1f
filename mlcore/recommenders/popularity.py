"""Popularity: the same time-decayed best-seller list for every shopper."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import numpy as np

from mlcore.data import Dataset
from mlcore.recommenders._sparse import item_columns
from mlcore.recommenders.base import Recommender, register
from mlcore.runtime import Callback


@dataclass(frozen=True)
class PopularityConfig:
    """``half_life_days``: an event's weight halves every this many days before the newest
    event (None: no decay). ``distinct_users``: count each shopper at most once per item
    (their decayed weights summed and capped at one purchase's weight), so one
    wholesale buyer cannot make an item a best-seller on their own.
    """

    half_life_days: float | None = 30.0
    distinct_users: bool = True


@register
class Popularity(Recommender):
    """score[u, i] = Σ over events on item i of weight(type) × 0.5 ** (age_days / half_life)."""

    name = "popularity"
    Config = PopularityConfig
    config: PopularityConfig

    def fit(self, data: Dataset, callback: Callback | None = None) -> Self:
        self._bind(data)
        m = data.matrix(half_life_days=self.config.half_life_days)
        if self.config.distinct_users and m.nnz:
            m = m.copy()
            m.data = np.minimum(m.data, np.float32(max(data.event_weights.values(), default=1.0)))
        self.popularity = np.asarray(m.sum(axis=0), dtype=np.float32).reshape(-1)
        self._callback(callback).progress(phase="popularity", done=1, total=1)
        return self

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        cols = item_columns(self.n_items, items)
        row = self.popularity if cols is None else self.popularity[cols]
        return np.tile(row, (len(np.asarray(users).reshape(-1)), 1)).astype(np.float32, copy=False)

    def _save_arrays(self) -> dict[str, np.ndarray]:
        return {"popularity": self.popularity}

    def _load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.popularity = arrays["popularity"].astype(np.float32)
