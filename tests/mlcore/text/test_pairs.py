"""Behaviour pairs: co-purchase within a session, previous session → next item, capped and seeded."""
from __future__ import annotations

import numpy as np
import pandas as pd

from mlcore.data import Dataset
from mlcore.text import PairConfig, behaviour_pairs


def shop() -> Dataset:
    rows = [
        ("u1", "a", "2024-01-01 10:00", "purchase"),
        ("u1", "b", "2024-01-01 10:05", "purchase"),
        ("u1", "c", "2024-01-02 10:00", "purchase"),
        ("u2", "a", "2024-01-01 11:00", "purchase"),
        ("u2", "b", "2024-01-01 11:00", "purchase"),
        ("u2", "d", "2024-01-03 09:00", "purchase"),
        ("u2", "e", "2024-01-03 09:00", "search"),
        ("u3", "e", "2024-01-04 09:00", "return"),
    ]
    events = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "type"])
    return Dataset.from_frames(events)


def as_sets(data: Dataset, pairs: np.ndarray) -> set[frozenset[str]]:
    return {frozenset(data.items.ids[i] for i in pair) for pair in pairs}


def test_it_pairs_items_of_one_basket_once_however_many_shoppers_bought_them():
    data = shop()
    pairs = behaviour_pairs(data, PairConfig(next_item=False))
    assert as_sets(data, pairs) == {frozenset("ab")}


def test_it_pairs_an_item_of_the_previous_session_with_each_next_item():
    data = shop()
    found = as_sets(data, behaviour_pairs(data, PairConfig(co_purchase=False, min_support=1)))
    assert len(found) == 2
    assert all(pair & {"a", "b"} for pair in found)
    assert {item for pair in found for item in pair} - {"a", "b"} == {"c", "d"}


def test_pairs_made_fewer_times_than_the_support_are_dropped():
    data = shop()
    assert as_sets(data, behaviour_pairs(data)) == {frozenset("ab")}  # a-b twice; the next items once each
    assert len(behaviour_pairs(data, PairConfig(min_support=1))) == 3
    assert len(behaviour_pairs(data, PairConfig(min_support=3))) == 0


def test_it_ignores_searches_and_returns():
    data = shop()
    pairs = behaviour_pairs(data, PairConfig(min_support=1))
    assert data.items.index_of("e") not in pairs


def test_the_same_seed_gives_the_same_pairs_and_caps_are_kept():
    data = shop()
    config = PairConfig(seed=3, min_support=1)
    np.testing.assert_array_equal(behaviour_pairs(data, config), behaviour_pairs(data, config))
    assert len(behaviour_pairs(data, PairConfig(max_pairs=2, min_support=1))) == 2
    capped = behaviour_pairs(data, PairConfig(max_per_item=1, min_support=1))
    assert np.bincount(capped.ravel()).max() == 1


def test_a_shop_without_events_gives_no_pairs():
    data = shop()
    empty = data.with_events(data.events.iloc[:0])
    assert behaviour_pairs(empty).shape == (0, 2)
