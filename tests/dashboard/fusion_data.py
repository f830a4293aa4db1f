"""A tiny served catalog for the fusion tests: a bundle trained once per module, mirrored in the database.

20 products (P000-P009 "Home > Kitchen", P010-P019 "Garden > Tools"; brand "Acme" on
odd numbers; P003 and P013 out of stock), 8 shoppers who buy mostly in their half.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard.models import Catalog, Event, EventType, ModelVersion, Product, Shopper, VersionState
from mlcore.data import Dataset, temporal_split
from mlcore.training.artifacts import write_bundle
from mlcore.training.runner import RunConfig, SignalSpec, run

SIGNALS = ("popularity", "item_knn", "ease")
START = dt.datetime(2011, 9, 1, 9, tzinfo=dt.UTC)
OUT_OF_STOCK = {"P003", "P013"}


def frames(products: int = 20, shoppers: int = 8, events: int = 120, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    prods = pd.DataFrame({
        "item_id": [f"P{i:03d}" for i in range(products)],
        "title": [f"Product {i}" for i in range(products)],
        "category": ["Home > Kitchen" if i < products // 2 else "Garden > Tools" for i in range(products)],
        "brand": ["Acme" if i % 2 else "Other" for i in range(products)],
        "price": [5.0 + i for i in range(products)],
        "in_stock": [f"P{i:03d}" not in OUT_OF_STOCK for i in range(products)],
    })
    half, rows = products // 2, []
    for n in range(events):
        u = n % shoppers
        group = 0 if u < shoppers // 2 else 1
        pool = range(group * half, (group + 1) * half) if rng.random() < 0.9 else range(products)
        rows.append({"user_id": f"U{u:03d}", "item_id": f"P{int(rng.choice(list(pool))):03d}",
                     "timestamp": START + dt.timedelta(days=90 * n / events), "type": "purchase", "quantity": 1})
    return pd.DataFrame(rows), prods


def build_bundle(folder: Path, **sizes: int) -> Path:
    """Train and write the bundle; ``sizes``: :func:`frames` arguments (enough shoppers train a learned fusion)."""
    events, products = frames(**sizes)
    data = Dataset.from_frames(events, products)
    split = temporal_split(data, "2011-11-10", validation_days=15)
    result = run(data, split, RunConfig(signals=tuple(SignalSpec(n) for n in SIGNALS), ablation=False))
    return write_bundle(folder, result)


def mirror(catalog: Catalog, folder: Path, fusion: dict | None = None, **sizes: int) -> ModelVersion:
    """Write the bundle's products, shoppers and events to ``catalog`` and register it as the active version
    (``fusion``: the version's fusion dict; ``sizes`` as given to :func:`build_bundle`)."""
    events, products = frames(**sizes)
    rows = Product.objects.bulk_create(
        Product(catalog=catalog, external_id=r["item_id"], title=r["title"], category_path=r["category"],
                brand=r["brand"], price=r["price"], in_stock=bool(r["in_stock"]),
                image_url=f"https://img.example/{r['item_id']}.jpg")
        for r in products.to_dict("records"))
    by_item = {p.external_id: p for p in rows}
    shoppers = {s.external_id: s for s in Shopper.objects.bulk_create(
        Shopper(catalog=catalog, external_id=u) for u in sorted(events["user_id"].unique()))}
    Event.objects.bulk_create(
        Event(catalog=catalog, shopper=shoppers[r["user_id"]], product=by_item[r["item_id"]], type=EventType.PURCHASE,
              quantity=1, timestamp=r["timestamp"]) for r in events.to_dict("records"))
    return ModelVersion.objects.create(catalog=catalog, number=1, artifact_path=str(folder), state=VersionState.ACTIVE,
                                       signals={n: {} for n in SIGNALS}, fusion=fusion or {}, data_fingerprint="f",
                                       split="t")


FUSION_WEIGHTS = {"popularity": 0.3, "item_knn": 1.0, "ease": 1.0}  # the editor_form's and the views' default config


def editor_form(**extra):
    """The fusion editor's POST data for the default config (weights 0.3 / 1 / 1), plus ``extra`` fields."""
    data = {"name": "Default", "weight_popularity": "0.3", "weight_item_knn": "1", "weight_ease": "1",
            "normalization": "rank", "pool_size": "200", "fallback": "popular", "is_default": "on"}
    data.update(extra)
    return data
