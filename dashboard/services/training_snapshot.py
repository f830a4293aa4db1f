"""Training inputs: the job parameters, checked, and a consistent Parquet snapshot of a catalog.

``params`` (stored on the job as JSON)::

    {"signals": ["popularity", "ease"],            # registered recommender names
     "configs": {"ease": {"l2": 100.0}},           # per-signal overrides of their Config fields
     "split": {"kind": "temporal", "test_days": 30, "validation_days": 30},
     "event_weights": {"view": 0.5},               # over the defaults; a job stores the whole table
     "ks": [5, 10, 20]}

The split is a :class:`~mlcore.data.SplitSpec` dict (or its text, e.g. ``"leave-last-out"``):
``temporal`` (test = the last ``test_days`` of events, validation the ``validation_days``
before), ``leave_last_out`` (``n``, ``validation_n``) and ``random`` (``train``,
``validation``, ``test`` fractions and ``seed``).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import connection, transaction

from dashboard.models import Catalog, Event, EventType
from dashboard.services.bounds import check_training_params
from mlcore.data import DEFAULT_EVENT_WEIGHTS, IMAGE_COLUMN, SplitSpec, event_weights
from mlcore.training.runner import RunConfig, SignalSpec

SPLIT_KINDS = ("temporal", "leave_last_out", "random")
DEFAULT_SPLIT: dict[str, Any] = {"kind": "temporal", "test_days": 30, "validation_days": 30}
PRODUCTS_FILE = "products.parquet"
ATTRIBUTE_MIN_SHARE = 0.01  # attribute keys on fewer products stay out of the bundle (they link almost nothing)
ATTRIBUTE_COLUMNS_MAX = 30
EVENTS_FILE = "events.parquet"
SEARCHES_FILE = "searches.parquet"  # search events with their query text (the search index fine-tunes on them)
SEARCH_COLUMNS = ["user_id", "timestamp", "query"]


class TrainingInputError(ValueError):
    """The job parameters cannot be used; the message names the field and the fix."""


@dataclass(frozen=True)
class TrainingParams:
    """Checked parameters: the signals with their configs, the split, the event weights and the cut-offs."""

    signals: tuple[SignalSpec, ...]
    split: SplitSpec
    ks: tuple[int, ...] = (5, 10, 20)
    event_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS))

    def run_config(self) -> RunConfig:
        return RunConfig(signals=self.signals, ks=self.ks)


def parse_split(spec: Mapping[str, Any] | str | None) -> SplitSpec:
    """The split a job's ``split`` (dict or text, see :class:`~mlcore.data.SplitSpec`) describes;
    :class:`TrainingInputError` on bad values."""
    try:
        return SplitSpec.from_dict(spec or DEFAULT_SPLIT)
    except ValueError as exc:
        raise TrainingInputError(str(exc)) from None


def parse_event_weights(weights: Mapping[str, Any] | None) -> dict[str, float]:
    """The full weight table from a job's or catalog's ``event_weights`` overrides (None: the defaults).

    Only the types an import stores may be weighed; :class:`TrainingInputError` names a bad one.
    """
    unknown = sorted(set(weights or {}) - set(EventType.values))
    if unknown:
        raise TrainingInputError(f"event weights: {unknown[0]!r} is not an event type; use "
                                 f"{', '.join(EventType.values)}")
    try:
        return event_weights(weights)
    except ValueError as exc:
        raise TrainingInputError(str(exc)) from None


def parse_params(params: Mapping[str, Any]) -> TrainingParams:
    """Check ``params`` against the recommenders' Config classes and the operator bounds (bad fields are named)."""
    try:
        check_training_params(params)
    except ValueError as exc:
        raise TrainingInputError(str(exc)) from None
    names = list(params.get("signals") or [])
    if not names:
        raise TrainingInputError("choose at least one signal")
    configs = params.get("configs") or {}
    unknown = set(configs) - set(names)
    if unknown:
        raise TrainingInputError(f"settings given for signals that are not chosen: {', '.join(sorted(unknown))}")
    if "image" in names and not settings.IMAGE_MODEL_DIR:
        raise TrainingInputError("image: no image model is installed on this server; set IMAGE_MODEL_DIR to a "
                                 "CLIP model folder, or leave the image signal out")
    specs = []
    for name in names:
        try:
            specs.append(SignalSpec.parse(name, configs.get(name)))
        except (KeyError, ValueError) as exc:
            raise TrainingInputError(str(exc).strip('"')) from None
    ks = tuple(int(k) for k in params.get("ks") or (5, 10, 20))
    if 10 not in ks:
        ks = tuple(sorted({*ks, 10}))  # NDCG@10 is the headline and the promotion gate's metric
    return TrainingParams(signals=tuple(specs), split=parse_split(params.get("split")), ks=ks,
                          event_weights=parse_event_weights(params.get("event_weights")))


def attribute_columns(products: pd.DataFrame, *, min_share: float = ATTRIBUTE_MIN_SHARE,
                      most: int = ATTRIBUTE_COLUMNS_MAX) -> pd.DataFrame:
    """Replace the ``attributes`` dicts by one text column per common key (on at least ``min_share`` of the
    products, the ``most`` commonest), so rules (boost/bury ``colour = red``) and the knowledge graph see
    them. Lists become ``a|b``; a key that clashes with a core column is named ``attr_<key>``."""
    attrs = products.pop("attributes")
    counts: Counter[str] = Counter(k for a in attrs if isinstance(a, dict) for k in a)
    keys = [k for k, n in counts.most_common(most) if n >= max(1, min_share * len(products))]
    for key in keys:
        def cell(a: Any, key: str = key) -> str | None:
            v = a.get(key) if isinstance(a, dict) else None
            if v is None or v == "":
                return None
            return "|".join(map(str, v)) if isinstance(v, list) else str(v)

        name = key if key not in products.columns else f"attr_{key}"
        products[name] = pd.Series([cell(a) for a in attrs], index=products.index, dtype="object")
    return products


def snapshot_write(*, catalog: Catalog, folder: Path) -> dict[str, int]:
    """Write the catalog's products and events to ``folder`` as Parquet, read in one snapshot.

    On PostgreSQL the read runs in a REPEATABLE READ transaction (when not nested in another),
    so products and events are from the same moment even while imports write. Events keep
    anonymous rows (``user_id`` null: the engine's cleaning drops them). Returns row counts.
    """
    folder.mkdir(parents=True, exist_ok=True)
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        products = pd.DataFrame.from_records(
            catalog.products.order_by("pk").values_list(
                "external_id", "title", "description", "category_path", "brand", "price", "in_stock", "attributes",
                "image_file",
            ).iterator(chunk_size=20_000),
            columns=["item_id", "title", "description", "category", "brand", "price", "in_stock", "attributes",
                     IMAGE_COLUMN],
        )
        events = pd.DataFrame.from_records(
            Event.objects.filter(catalog=catalog, product__isnull=False).order_by("timestamp", "pk").values_list(
                "shopper__external_id", "product__external_id", "timestamp", "type", "quantity"
            ).iterator(chunk_size=50_000),
            columns=["user_id", "item_id", "timestamp", "type", "quantity"],
        )
        searches = pd.DataFrame.from_records(
            Event.objects.filter(catalog=catalog, type=EventType.SEARCH).exclude(query="")
            .order_by("timestamp", "pk").values_list("shopper__external_id", "timestamp", "query")
            .iterator(chunk_size=50_000),
            columns=SEARCH_COLUMNS,
        )
    products[IMAGE_COLUMN] = [str(Path(settings.MEDIA_ROOT) / f) if f else "" for f in products[IMAGE_COLUMN]]
    products["price"] = pd.to_numeric(products["price"], errors="coerce").astype("float64")
    products = attribute_columns(products)
    events["timestamp"] = pd.to_datetime(events["timestamp"], utc=True)
    products.to_parquet(folder / PRODUCTS_FILE, index=False)
    searches["timestamp"] = pd.to_datetime(searches["timestamp"], utc=True)
    events.to_parquet(folder / EVENTS_FILE, index=False)
    searches.to_parquet(folder / SEARCHES_FILE, index=False)
    return {"products": len(products), "events": len(events), "searches": len(searches)}


def snapshot_read(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events, products) frames written by :func:`snapshot_write`."""
    if not (folder / EVENTS_FILE).exists():
        raise FileNotFoundError(f"the job's data snapshot is missing from {folder}; launch the job again")
    return pd.read_parquet(folder / EVENTS_FILE), pd.read_parquet(folder / PRODUCTS_FILE)



def searches_read(folder: Path) -> pd.DataFrame:
    """The snapshot's search events (``user_id, timestamp, query``); empty for snapshots taken before
    searches were kept."""
    if not (folder / SEARCHES_FILE).exists():
        return pd.DataFrame({"user_id": pd.Series(dtype=object), "timestamp": pd.Series(dtype="datetime64[ns, UTC]"),
                             "query": pd.Series(dtype=object)})
    return pd.read_parquet(folder / SEARCHES_FILE)
