"""Behaviour pairs for contrastive fine-tuning: items a shopper tied together.

Two kinds, both from the (training) events of a :class:`~mlcore.data.Dataset`:

- **co-purchase**: two items of the same session (basket) within ``window``
  positions of each other in time order;
- **history → next item**: an item of a shopper's previous session paired with
  each item of the next one.

A pair must have been made at least ``min_support`` times (by different
shoppers or sessions): in big wholesale baskets two neighbouring lines are
often unrelated, and fine-tuning on such noise only flattens the embedding
space. Pairs are then unordered-deduplicated, self-pairs dropped, each item capped at
``max_per_item`` appearances (so best-sellers do not fill every batch), then
sampled down to ``max_pairs`` — all with one seeded generator.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlcore.data import Dataset
from mlcore.graph.baskets import behaviour_events, session_ids


@dataclass(frozen=True)
class PairConfig:
    """How pairs are mined; ``gap_minutes`` splits a shopper's events into sessions."""

    co_purchase: bool = True
    next_item: bool = True
    gap_minutes: float = 60.0
    window: int = 5
    min_support: int = 2
    max_pairs: int = 20_000
    max_per_item: int = 20
    seed: int = 0


def behaviour_pairs(data: Dataset, config: PairConfig = PairConfig()) -> np.ndarray:
    """Item index pairs, int64 array (n, 2) of ``(anchor, positive)`` columns of ``data.items``."""
    frame = behaviour_events(data)
    empty = np.zeros((0, 2), dtype=np.int64)
    if frame.empty:
        return empty
    frame = frame.assign(session=session_ids(frame, config.gap_minutes))
    frame = frame.drop_duplicates(["session", "item"]).reset_index(drop=True)
    rng = np.random.default_rng(config.seed)
    found = [empty]
    if config.co_purchase:
        found.append(_co_purchase(frame, config.window))
    if config.next_item:
        found.append(_next_item(frame, rng))
    pairs = np.concatenate(found)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    if len(pairs) == 0:
        return empty
    lo, hi = pairs.min(axis=1), pairs.max(axis=1)
    keys = np.sort(lo * data.n_items + hi)  # one int per unordered pair (sorting beats np.unique here)
    starts = np.flatnonzero(np.r_[True, np.diff(keys) != 0])
    support = np.diff(np.r_[starts, len(keys)])
    keys = keys[starts][support >= config.min_support]
    pairs = np.stack([keys // data.n_items, keys % data.n_items], axis=1)
    pairs = pairs[rng.permutation(len(pairs))]
    flip = rng.random(len(pairs)) < 0.5  # either side may be the anchor
    pairs[flip] = pairs[flip][:, ::-1]
    pairs = _cap_per_item(pairs, config.max_per_item)
    return np.ascontiguousarray(pairs[: config.max_pairs])


def _co_purchase(frame: pd.DataFrame, window: int) -> np.ndarray:
    session = frame["session"].to_numpy()
    item = frame["item"].to_numpy()
    out = []
    for d in range(1, max(window, 0) + 1):
        same = session[d:] == session[:-d]
        out.append(np.stack([item[:-d][same], item[d:][same]], axis=1))
    return np.concatenate(out) if out else np.zeros((0, 2), dtype=np.int64)


def _next_item(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Each item of a session paired with a random item of the same user's previous session."""
    session = frame["session"].to_numpy()
    user = frame["user"].to_numpy()
    item = frame["item"].to_numpy()
    starts = np.flatnonzero(np.diff(session, prepend=-1) != 0)
    ends = np.append(starts[1:], len(session))
    session_user = user[starts]
    has_prev = np.zeros(len(starts), dtype=bool)
    has_prev[1:] = session_user[1:] == session_user[:-1]
    rows = np.flatnonzero(has_prev[session])  # events whose session follows one of the same user
    prev = session[rows] - 1
    pick = starts[prev] + (rng.random(len(rows)) * (ends[prev] - starts[prev])).astype(np.int64)
    return np.stack([item[pick], item[rows]], axis=1)


def _cap_per_item(pairs: np.ndarray, cap: int) -> np.ndarray:
    """Keep pairs (in their shuffled order) while both items have appeared at most ``cap`` times."""
    if cap <= 0 or len(pairs) == 0:
        return pairs
    flat = pd.Series(pairs.reshape(-1))
    seen = flat.groupby(flat).cumcount().to_numpy().reshape(-1, 2)
    return pairs[(seen < cap).all(axis=1)]
