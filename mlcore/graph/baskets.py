"""Baskets: a shopper's events grouped into sessions, and item co-occurrence over them.

A session is a run of one user's events with no gap longer than ``gap_minutes``
(an Online Retail invoice shares one timestamp, so it is always one session).
Both the text pairs and the graph's ``bought_together`` relation use this.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mlcore.data import DEFAULT_EVENT_WEIGHTS, Dataset

# Event types that say nothing about liking an item.
IGNORED_TYPES = frozenset({"search", "return"})


def behaviour_events(data: Dataset) -> pd.DataFrame:
    """Events that express interest: ``user, item`` (int64 indices), ``timestamp``, ``type``; sorted by user, time."""
    keep = ~data.events["type"].isin(IGNORED_TYPES).to_numpy()
    frame = pd.DataFrame(
        {
            "user": data.user_index[keep],
            "item": data.item_index[keep],
            "timestamp": data.events["timestamp"].to_numpy()[keep],
            "type": data.events["type"].to_numpy()[keep],
        }
    )
    frame = frame[(frame["user"] >= 0) & (frame["item"] >= 0)]
    return frame.sort_values(["user", "timestamp"], kind="stable").reset_index(drop=True)


def session_ids(frame: pd.DataFrame, gap_minutes: float) -> np.ndarray:
    """Session number (int64, 0..) of each row of a frame from :func:`behaviour_events`."""
    if frame.empty:
        return np.zeros(0, dtype=np.int64)
    user = frame["user"].to_numpy()
    stamps = pd.to_datetime(frame["timestamp"], utc=True)  # naive stamps are taken as UTC
    ts = stamps.dt.tz_localize(None).to_numpy().astype("datetime64[ns]").astype(np.int64)
    gap = np.diff(ts, prepend=ts[0]) > gap_minutes * 60e9
    new_user = np.diff(user, prepend=user[0] - 1) != 0
    return np.cumsum(gap | new_user) - 1


def co_occurrence(data: Dataset, gap_minutes: float = 60.0, max_basket: int = 200) -> sp.csr_matrix:
    """Item×item counts (float32 CSR): sessions holding both items; the diagonal counts sessions per item.

    Baskets larger than ``max_basket`` distinct items are skipped: they pair
    everything with everything and say little (wholesale orders, bulk rating).
    """
    frame = behaviour_events(data)
    n = data.n_items
    if frame.empty:
        return sp.csr_matrix((n, n), dtype=np.float32)
    frame = frame.assign(session=session_ids(frame, gap_minutes)).drop_duplicates(["session", "item"])
    sizes = frame.groupby("session")["item"].transform("size").to_numpy()
    frame = frame[(sizes >= 2) & (sizes <= max_basket)]
    sessions = pd.factorize(frame["session"])[0]
    baskets = sp.csr_matrix(
        (np.ones(len(frame), dtype=np.float32), (sessions, frame["item"].to_numpy())),
        shape=(int(sessions.max()) + 1 if len(sessions) else 0, n),
    )
    return (baskets.T @ baskets).tocsr().astype(np.float32)


def recent_item_weights(data: Dataset, recent_items: int, decay: float) -> sp.csr_matrix:
    """(n_users, n_items) float32: ``decay ** k`` × type weight for each user's k-th latest distinct item.

    Rows sum to 1 (users without events keep empty rows). Type weights are
    :data:`~mlcore.data.DEFAULT_EVENT_WEIGHTS`; other types (e.g. ``rating``) count 1.
    """
    frame = behaviour_events(data)
    type_weight = frame["type"].map(dict(DEFAULT_EVENT_WEIGHTS)).fillna(1.0).clip(lower=0.1)
    frame = frame.assign(type_weight=type_weight).drop_duplicates(["user", "item"], keep="last")
    rank = frame.groupby("user").cumcount(ascending=False).to_numpy()
    keep = rank < recent_items
    w = (np.power(decay, rank) * frame["type_weight"].to_numpy())[keep].astype(np.float32)
    m = sp.csr_matrix(
        (w, (frame["user"].to_numpy()[keep], frame["item"].to_numpy()[keep])),
        shape=(data.n_users, data.n_items),
        dtype=np.float32,
    )
    sums = np.asarray(m.sum(axis=1)).ravel()
    scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    return sp.csr_matrix(sp.diags(scale.astype(np.float32)) @ m)
