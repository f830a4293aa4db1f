"""Sessions, co-occurrence and recency-weighted shopper profiles."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcore.data import Dataset
from mlcore.graph import behaviour_events, co_occurrence, recent_item_weights, session_ids


def shop() -> Dataset:
    rows = [
        ("u1", "a", "2024-01-01 10:00", "view"),
        ("u1", "b", "2024-01-01 10:30", "purchase"),
        ("u1", "c", "2024-01-01 12:00", "purchase"),  # 90 minutes later: a new session
        ("u2", "a", "2024-01-01 10:00", "purchase"),
        ("u2", "b", "2024-01-01 10:00", "purchase"),
        ("u2", "c", "2024-01-01 10:00", "return"),
    ]
    return Dataset.from_frames(pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "type"]))


def test_a_gap_longer_than_the_limit_or_another_shopper_starts_a_session():
    frame = behaviour_events(shop())
    assert len(frame) == 5  # the return says nothing about liking
    assert session_ids(frame, gap_minutes=60).tolist() == [0, 0, 1, 2, 2]
    assert session_ids(frame, gap_minutes=120).tolist() == [0, 0, 0, 1, 1]


def test_co_occurrence_counts_sessions_holding_both_items_with_sessions_per_item_on_the_diagonal():
    data = shop()
    counts = co_occurrence(data, gap_minutes=60).toarray()
    a, b, c = data.items.index(["a", "b", "c"])
    assert counts[a, b] == counts[b, a] == 2 and counts[a, c] == 0
    assert counts[a, a] == 2 and counts[c, c] == 0  # c's session holds c alone


def test_profiles_weigh_recent_items_and_strong_events_more_and_sum_to_one():
    data = shop()
    w = recent_item_weights(data, recent_items=10, decay=0.5).toarray()
    u1 = data.users.index_of("u1")
    a, b, c = data.items.index(["a", "b", "c"])
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-6)
    # c: latest purchase (8), b: purchase one step back (8 × 0.5), a: a view two steps back (1 × 0.25)
    assert w[u1, c] == pytest.approx(8 / 12.25) and w[u1, a] == pytest.approx(0.25 / 12.25)
    assert recent_item_weights(data, recent_items=1, decay=0.5)[u1].nnz == 1
