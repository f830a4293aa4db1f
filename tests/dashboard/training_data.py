"""A tiny catalog to train on: 20 products, 8 shoppers, ~80 purchases over 3 months.

Shoppers 0-3 buy mostly products 0-9, shoppers 4-7 mostly 10-19, so collaborative signals
have something to find and a job finishes in about a second.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

from dashboard.models import Catalog, Event, EventType, Product, Shopper

START = dt.datetime(2011, 9, 1, 9, tzinfo=dt.UTC)


def fill_catalog(catalog: Catalog, *, products: int = 20, shoppers: int = 8, events: int = 80,
                 seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    items = Product.objects.bulk_create(
        Product(catalog=catalog, external_id=f"P{i:03d}", title=f"Product {i}", price=5 + i,
                category_path="Home > Kitchen" if i < products // 2 else "Garden > Tools")
        for i in range(products)
    )
    users = Shopper.objects.bulk_create(Shopper(catalog=catalog, external_id=f"U{u:03d}") for u in range(shoppers))
    half = products // 2
    rows = []
    for n in range(events):
        u = n % shoppers
        group = 0 if u < shoppers // 2 else 1
        pool = range(group * half, (group + 1) * half) if rng.random() < 0.9 else range(products)
        p = int(rng.choice(list(pool)))
        when = START + dt.timedelta(days=90 * n / events, hours=int(rng.integers(0, 8)))
        rows.append(Event(catalog=catalog, shopper=users[u], product=items[p], type=EventType.PURCHASE,
                          quantity=1, timestamp=when))
    Event.objects.bulk_create(rows)
