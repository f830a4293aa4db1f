"""A tiny shop where the right answer is obvious, shared by all mlcore tests.

Two clusters that never mix: kitchen items ``a1..a5`` (brand Acme, ceramic) bought by
users ``u1..u4``, and garden items ``b1..b5`` (brand Bolt, steel) bought by ``u5..u8``.
Each user buys three of the four first items of their cluster, one per week
(2024-01-01, -08, -15), so within a cluster every item is bought by three users and
co-bought with every other, and each of the first four items is bought before 2024-01-15. ``u1`` never bought ``a4``; ``u5`` never bought ``b4``: a
personalised model must rank ``a4`` above every ``b*`` item for ``u1``. ``a5`` and ``b5``
are catalogue items nobody bought (cold items: only text and graph can score them).
``u1`` bought ``a1`` a second time on 2024-01-20 (a re-buy, the latest event) and viewed
``a3`` on 2024-01-02. Import with ``from tests.mlcore.conftest import tiny_dataset``
or use the ``tiny`` fixture.
"""
from __future__ import annotations

import pandas as pd
import pytest

from mlcore.data import Dataset

TINY_PRODUCTS = [
    # item_id, title, description, category, brand, material
    ("a1", "Blue ceramic mug", "A blue ceramic coffee mug, 300 ml", "Kitchen > Mugs", "Acme", "ceramic"),
    ("a2", "Red ceramic mug", "A red ceramic tea mug, 300 ml", "Kitchen > Mugs", "Acme", "ceramic"),
    ("a3", "Ceramic teapot", "A white ceramic teapot for loose tea", "Kitchen > Teaware", "Acme", "ceramic"),
    ("a4", "Porcelain tea cup", "A porcelain tea cup with saucer", "Kitchen > Teaware", "Acme", "ceramic"),
    ("a5", "Ceramic milk jug", "A small ceramic jug for milk", "Kitchen > Teaware", "Acme", "ceramic"),
    ("b1", "Steel garden spade", "A steel spade for digging garden beds", "Garden > Tools", "Bolt", "steel"),
    ("b2", "Garden rake", "A steel rake for leaves and soil", "Garden > Tools", "Bolt", "steel"),
    ("b3", "Pruning shears", "Steel shears for pruning shrubs", "Garden > Tools", "Bolt", "steel"),
    ("b4", "Garden hose", "A 20 m garden hose with nozzle", "Garden > Watering", "Bolt", "rubber"),
    ("b5", "Steel garden trowel", "A small steel trowel for planting", "Garden > Tools", "Bolt", "steel"),
]

TINY_BASKETS = {
    "u1": ["a1", "a2", "a3"],
    "u2": ["a4", "a1", "a2"],
    "u3": ["a3", "a4", "a2"],
    "u4": ["a1", "a3", "a4"],
    "u5": ["b1", "b2", "b3"],
    "u6": ["b4", "b1", "b2"],
    "u7": ["b3", "b4", "b2"],
    "u8": ["b1", "b3", "b4"],
}

CLUSTER_A = ["a1", "a2", "a3", "a4", "a5"]
CLUSTER_B = ["b1", "b2", "b3", "b4", "b5"]


def tiny_events() -> pd.DataFrame:
    """The event frame: 24 purchases, one view and one re-buy (26 rows), columns of a Dataset."""
    rows = []
    for u, (user, basket) in enumerate(TINY_BASKETS.items()):
        for week, item in enumerate(basket):
            when = pd.Timestamp("2024-01-01") + pd.Timedelta(days=7 * week, hours=9 + u)
            rows.append((user, item, when, "purchase", 1 + (u + week) % 2))
    rows.append(("u1", "a3", pd.Timestamp("2024-01-02 10:00"), "view", 1))
    rows.append(("u1", "a1", pd.Timestamp("2024-01-20 12:00"), "purchase", 2))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "type", "quantity"])


def tiny_products() -> pd.DataFrame:
    """The product frame: ``item_id, title, description, category, brand, material``."""
    return pd.DataFrame(TINY_PRODUCTS, columns=["item_id", "title", "description", "category", "brand", "material"])


def tiny_dataset() -> Dataset:
    """8 users, 10 items, 26 events (2024-01-01 .. 2024-01-20), two clear clusters."""
    return Dataset.from_frames(tiny_events(), tiny_products())


@pytest.fixture
def tiny() -> Dataset:
    return tiny_dataset()
