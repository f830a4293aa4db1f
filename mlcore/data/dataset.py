"""Dataset: cleaned events and products with the id maps every model shares."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mlcore.data.events import DEFAULT_EVENT_WEIGHTS, check_event_types
from mlcore.data.ids import IdMap

EVENT_COLUMNS = ("user_id", "item_id", "timestamp", "type", "quantity")
PRODUCT_TEXT_COLUMNS = ("title", "description", "category", "brand")
IMAGE_COLUMN = "image_path"
"""The products column holding a local picture file per product ("" or missing: none)."""
MEDIA_COLUMNS = (IMAGE_COLUMN, "image_url")
"""Columns that say where a product's picture is: neither product text nor a graph attribute."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Events and products, indexed by two :class:`IdMap` objects.

    ``events`` has columns ``user_id, item_id`` (str), ``timestamp``
    (datetime64[ns]), ``type`` (str) and ``quantity`` (int), sorted by time.
    ``products`` has ``item_id, title`` and optionally ``description, category``
    (path with ' > '), ``brand`` and any attribute columns; one row per item in
    ``items`` order. ``items`` covers every product, also those never seen in
    events (the cold-start items that only text and graph can score);
    ``users`` covers every user of the events. A split keeps both maps, so the
    indices of train and test agree. ``triples`` holds uploaded knowledge-graph
    facts with columns ``head, relation, tail``. ``event_weights`` (every event type in
    ``events`` has one; :data:`~mlcore.data.events.DEFAULT_EVENT_WEIGHTS` by default) is what
    :meth:`matrix` and the splits' interaction sets count.
    """

    events: pd.DataFrame
    products: pd.DataFrame
    users: IdMap
    items: IdMap
    triples: pd.DataFrame | None = None
    event_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS))
    _cache: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_frames(
        cls,
        events: pd.DataFrame,
        products: pd.DataFrame | None = None,
        triples: pd.DataFrame | None = None,
        *,
        event_weights: Mapping[str, float] = DEFAULT_EVENT_WEIGHTS,
    ) -> Dataset:
        """Build from raw-ish frames: ids become str, missing types become purchases.

        Items seen in events but absent from ``products`` get a row whose title is the id.
        Raises :class:`~mlcore.data.events.UnknownEventType` when an event type has no weight
        in ``event_weights`` (build the table with :func:`~mlcore.data.events.event_weights`).
        """
        ev = events.copy()
        ev["user_id"] = ev["user_id"].astype(str)
        ev["item_id"] = ev["item_id"].astype(str)
        ev["timestamp"] = pd.to_datetime(ev["timestamp"])
        ev["type"] = ev["type"].astype(str) if "type" in ev else "purchase"
        ev["quantity"] = ev["quantity"].fillna(1).astype(np.int64) if "quantity" in ev else 1
        ev = ev.loc[:, list(EVENT_COLUMNS)].sort_values("timestamp", kind="stable").reset_index(drop=True)
        check_event_types(pd.unique(ev["type"]), event_weights, hint="event_weights")

        prods = (
            products.copy() if products is not None else pd.DataFrame({"item_id": [], "title": []})
        )
        prods["item_id"] = prods["item_id"].astype(str)
        prods = prods.drop_duplicates("item_id", keep="first")
        missing = pd.Index(ev["item_id"].unique()).difference(pd.Index(prods["item_id"]))
        if len(missing):
            prods = pd.concat([prods, pd.DataFrame({"item_id": missing, "title": missing})], ignore_index=True)
        for column in PRODUCT_TEXT_COLUMNS:
            if column not in prods:
                prods[column] = ""
            prods[column] = prods[column].fillna("").astype(str)
        prods = prods.reset_index(drop=True)
        users = IdMap(pd.unique(ev["user_id"]))
        items = IdMap(prods["item_id"])
        return cls(events=ev, products=prods, users=users, items=items, triples=triples,
                   event_weights=dict(event_weights))

    # -- derived views --------------------------------------------------------------
    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    @cached_property
    def user_index(self) -> np.ndarray:
        """Row index of each event's user (int64, aligned with ``events``)."""
        return self.users.index(self.events["user_id"].to_numpy())

    @cached_property
    def item_index(self) -> np.ndarray:
        """Column index of each event's item (int64, aligned with ``events``)."""
        return self.items.index(self.events["item_id"].to_numpy())

    def matrix(
        self,
        weights: Mapping[str, float] | None = None,
        half_life_days: float | None = None,
        binary: bool = False,
    ) -> sp.csr_matrix:
        """The user×item matrix (float32, CSR): summed event weights (``weights`` or the dataset's own).

        With ``half_life_days`` each event is discounted by ``0.5 ** (age / half_life)``
        where age is measured from the newest event. ``binary`` clips to 1.
        """
        weights = self.event_weights if weights is None else weights
        key = f"m:{sorted(weights.items())}:{half_life_days}:{binary}"
        cached = self._cache.get(key)
        if cached is not None:
            return cached  # type: ignore[return-value]
        w = self.events["type"].map(dict(weights)).fillna(0.0).to_numpy(dtype=np.float32)
        if half_life_days:
            ts = self.events["timestamp"]
            age_days = (ts.max() - ts).dt.total_seconds().to_numpy() / 86400.0
            w = w * np.power(0.5, age_days / half_life_days).astype(np.float32)
        keep = w > 0
        m = sp.csr_matrix(
            (w[keep], (self.user_index[keep], self.item_index[keep])),
            shape=(self.n_users, self.n_items),
            dtype=np.float32,
        )
        m.sum_duplicates()
        if binary:
            m.data[:] = 1.0
        self._cache[key] = m
        return m

    def with_events(self, events: pd.DataFrame) -> Dataset:
        """The same products and id maps over another (sub)set of events."""
        return Dataset(
            events=events.reset_index(drop=True),
            products=self.products,
            users=self.users,
            items=self.items,
            triples=self.triples,
            event_weights=self.event_weights,
        )

    def fingerprint(self) -> str:
        """A short hash of events and products, recorded with every model trained on them."""
        h = hashlib.sha1()
        h.update(pd.util.hash_pandas_object(self.events, index=False).to_numpy().tobytes())
        h.update(self.items.fingerprint().encode())
        h.update(self.users.fingerprint().encode())
        if dict(self.event_weights) != dict(DEFAULT_EVENT_WEIGHTS):  # the defaults keep older fingerprints
            h.update(repr(sorted(self.event_weights.items())).encode())
        return h.hexdigest()[:16]
