"""A small synthetic shop big enough to train a learned fusion in a second or two.

``n_clusters`` groups of ``items_per`` products (titles and categories name the group, prices rise with the
item's place); each shopper belongs to one group and buys ``per_user`` of its items over 60 days, popular ones
more often (Zipf-like), with 10 % of purchases from another group. Newer items (the last two of each group)
only sell in the last 20 days. Deterministic for a seed.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mlcore.data import Dataset

WORDS = ["kitchen mug ceramic", "garden spade steel", "office pen paper", "toy train wooden", "bath towel cotton"]


def shop(n_users: int = 300, n_clusters: int = 4, items_per: int = 12, per_user: int = 8, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    items = [f"c{c}i{i}" for c in range(n_clusters) for i in range(items_per)]
    products = pd.DataFrame({
        "item_id": items,
        "title": [f"{WORDS[c % len(WORDS)]} model {i}" for c in range(n_clusters) for i in range(items_per)],
        "category": [f"Group {c}" for c in range(n_clusters) for _ in range(items_per)],
        "price": [1.0 + i for _ in range(n_clusters) for i in range(items_per)],
    })
    start = pd.Timestamp("2024-01-01")
    pop = 1.0 / np.arange(1, items_per + 1)
    rows = []
    for u in range(n_users):
        c = u % n_clusters
        days = np.sort(rng.uniform(0, 60, size=per_user))
        for d in days:
            group = c if rng.random() > 0.1 else int(rng.integers(n_clusters))
            p = pop.copy()
            if d < 40:
                p[-2:] = 0.0
            i = int(rng.choice(items_per, p=p / p.sum()))
            rows.append((f"u{u}", f"c{group}i{i}", start + pd.Timedelta(days=float(d)), "purchase", 1))
    events = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "type", "quantity"])
    return Dataset.from_frames(events, products)
