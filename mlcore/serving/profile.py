"""A shopper's inferred interests from their events: categories, brands, price band, recent intent, a vector.

Every event weighs ``type weight × recency``:

- type weights (:data:`EVENT_WEIGHTS`): view 1, click 2, add_to_cart 4, purchase 8, rating 4; a return
  −8 cancels the purchase it undoes; searches 0 (they feed the intent, not the shares); other types 1;
- recency ``0.5 ** (age_days / half_life_days)`` with age measured from ``now`` (default: the shopper's
  latest event, so a shopper away for months is still described by what they last did).

Category and brand shares are each name's positive weight over the total. The price band compares the
median price of what the shopper bought or put in a cart (what they viewed, when they bought nothing)
with the catalogue's quartiles. Recent intent is the last session (no gap over ``session_gap_minutes``),
at most ``recent_events`` events: its categories, the words of its titles and searches, and the last
distinct search queries. ``vector`` is the unit, weighted mean of the embeddings of those recent items
(:func:`profile_vector`, which search personalisation uses too).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcore.data import DEFAULT_EVENT_WEIGHTS, IdMap
from mlcore.search.query import normalize, tokenize

# The engine's one table of event weights, with two profile-specific meanings: a return cancels the
# purchase it undoes (where training just ignores it), and a rating counts like a cart.
EVENT_WEIGHTS: Mapping[str, float] = {**DEFAULT_EVENT_WEIGHTS, "rating": 4.0, "return": -8.0}
BUY_TYPES = frozenset({"purchase", "add_to_cart"})
HISTORY_COLUMNS = ("item_id", "event_type", "timestamp")


@dataclass(frozen=True)
class ProfileConfig:
    """Weights and sizes; see the module docstring for how they combine."""

    event_weights: Mapping[str, float] = field(default_factory=lambda: dict(EVENT_WEIGHTS))
    half_life_days: float = 30.0
    top: int = 5
    recent_events: int = 20
    session_gap_minutes: float = 30.0
    max_terms: int = 8
    max_queries: int = 5


@dataclass(frozen=True)
class Share:
    """One category or brand: its share of the shopper's weight (0..1), the weight and the events behind it."""

    name: str
    share: float
    weight: float
    events: int


@dataclass(frozen=True)
class PriceBand:
    """Quartiles (low, median, high) of the shopper's prices and of the catalogue's; ``band`` is
    ``budget`` (median below the catalogue's low quartile), ``mid`` or ``premium`` (above its high quartile);
    ``percentile`` places the shopper's median in the catalogue (0..1); ``basis`` ``bought`` or ``viewed``."""

    low: float
    median: float
    high: float
    catalog_low: float | None
    catalog_median: float | None
    catalog_high: float | None
    band: str
    percentile: float | None
    basis: str
    items: int


@dataclass(frozen=True)
class Intent:
    """The last session: when, how many events, its categories (shares), words, and the last searches."""

    start: pd.Timestamp | None
    end: pd.Timestamp | None
    events: int
    categories: tuple[Share, ...]
    terms: tuple[str, ...]
    queries: tuple[str, ...]


@dataclass(frozen=True)
class ShopperProfile:
    """Inferred interests; :meth:`to_dict` is JSON-ready (the vector only when asked)."""

    events: int
    first_seen: pd.Timestamp | None
    last_seen: pd.Timestamp | None
    categories: tuple[Share, ...]
    brands: tuple[Share, ...]
    price: PriceBand | None
    intent: Intent
    vector: np.ndarray | None = field(default=None, compare=False)

    @property
    def empty(self) -> bool:
        return self.events == 0

    def to_dict(self, *, include_vector: bool = False) -> dict[str, Any]:
        def when(t: pd.Timestamp | None) -> str | None:
            return t.isoformat() if t is not None else None

        out: dict[str, Any] = {
            "events": self.events, "first_seen": when(self.first_seen), "last_seen": when(self.last_seen),
            "categories": [asdict(s) for s in self.categories], "brands": [asdict(s) for s in self.brands],
            "price": asdict(self.price) if self.price else None,
            "intent": {**asdict(self.intent), "start": when(self.intent.start), "end": when(self.intent.end),
                       "categories": [asdict(s) for s in self.intent.categories],
                       "terms": list(self.intent.terms), "queries": list(self.intent.queries)},
            "has_vector": self.vector is not None,
        }
        if include_vector:
            out["vector"] = self.vector.tolist() if self.vector is not None else None
        return out


def build_profile(history: pd.DataFrame, products: pd.DataFrame, item_vectors: np.ndarray | None = None,
                  items: IdMap | None = None, now: pd.Timestamp | None = None, *,
                  catalog_prices: Sequence[float] | np.ndarray | None = None,
                  config: ProfileConfig = ProfileConfig()) -> ShopperProfile:
    """The profile of one shopper.

    ``history``: ``item_id`` (None for searches), ``event_type``, ``timestamp`` and optionally ``query`` and
    ``price`` (the price paid; else the product's). ``products``: ``item_id`` and any of ``title, category,
    brand, price`` for (at least) the history's items. ``item_vectors`` (n_items, d) with ``items`` mapping
    ids to its rows gives the profile a vector. ``catalog_prices``: the catalogue's prices for the price
    band (default: ``products.price``). ValueError names missing history columns.
    """
    missing = [c for c in HISTORY_COLUMNS if c not in history.columns]
    if missing:
        raise ValueError(f"history needs columns {', '.join(HISTORY_COLUMNS)}; missing {', '.join(missing)}")
    h = _events(history, products, config, now)
    if h.empty:
        return ShopperProfile(0, None, None, (), (), None, Intent(None, None, 0, (), (), ()))
    prices = products["price"] if "price" in products.columns else pd.Series(dtype=float)
    catalog = np.asarray(pd.to_numeric(pd.Series(catalog_prices if catalog_prices is not None else prices),
                                       errors="coerce").dropna(), dtype=np.float64)
    recent = _last_session(h, config)
    return ShopperProfile(
        events=len(h), first_seen=h["timestamp"].iloc[0], last_seen=h["timestamp"].iloc[-1],
        categories=_shares(h, "category", config.top), brands=_shares(h, "brand", config.top),
        price=_price_band(h, catalog), intent=_intent(h, recent, config),
        vector=_vector(recent, item_vectors, items),
    )


def _events(history: pd.DataFrame, products: pd.DataFrame, config: ProfileConfig,
            now: pd.Timestamp | None) -> pd.DataFrame:
    """History sorted by time with product fields joined and each event's ``weight``."""
    h = history.copy()
    h["timestamp"] = pd.to_datetime(h["timestamp"], utc=True)
    h = h.dropna(subset=["timestamp"]).sort_values("timestamp", kind="stable").reset_index(drop=True)
    if h.empty:
        return h
    h["item_id"] = h["item_id"].map(lambda v: None if v is None or v != v or v == "" else str(v))  # v != v: NaN
    h["query"] = h["query"].fillna("").astype(str) if "query" in h.columns else ""
    p = products.copy()
    p["item_id"] = p["item_id"].astype(str)
    for column in ("title", "category", "brand"):
        p[column] = p[column].fillna("").astype(str).str.strip() if column in p.columns else ""
    p["catalog_price"] = pd.to_numeric(p["price"], errors="coerce") if "price" in p.columns else np.nan
    p = p.drop_duplicates("item_id")[["item_id", "title", "category", "brand", "catalog_price"]]
    h = h.drop(columns=[c for c in ("title", "category", "brand") if c in h.columns]).merge(p, on="item_id", how="left")
    for column in ("title", "category", "brand"):
        h[column] = h[column].fillna("")
    paid = pd.to_numeric(h["price"], errors="coerce") if "price" in h.columns else pd.Series(np.nan, index=h.index)
    h["price"] = paid.fillna(h["catalog_price"])
    reference = h["timestamp"].iloc[-1] if now is None else pd.Timestamp(now)
    if reference.tzinfo is None:
        reference = reference.tz_localize("UTC")
    age_days = ((reference - h["timestamp"]).dt.total_seconds() / 86400.0).clip(lower=0.0)
    recency = np.power(0.5, age_days.to_numpy() / config.half_life_days)
    type_weight = h["event_type"].astype(str).map(dict(config.event_weights)).fillna(1.0).to_numpy()
    h["weight"] = type_weight * recency
    return h


def _shares(h: pd.DataFrame, column: str, top: int) -> tuple[Share, ...]:
    rows = h[h[column] != ""]
    if rows.empty:
        return ()
    g = rows.groupby(column).agg(weight=("weight", "sum"), events=("weight", "size"))
    g = g[g["weight"] > 0]
    total = float(g["weight"].sum())
    if total <= 0:
        return ()
    g = g.sort_values(["weight", "events"], ascending=False, kind="stable").head(top)
    return tuple(Share(str(name), float(r.weight) / total, float(r.weight), int(r.events))
                 for name, r in g.iterrows())


def _price_band(h: pd.DataFrame, catalog: np.ndarray) -> PriceBand | None:
    priced = h[h["price"].notna() & h["item_id"].notna()]
    bought = priced[priced["event_type"].isin(BUY_TYPES)]
    basis, rows = ("bought", bought) if len(bought) else ("viewed", priced[priced["weight"] > 0])
    if rows.empty:
        return None
    low, median, high = (float(v) for v in np.quantile(rows["price"].to_numpy(dtype=np.float64), [0.25, 0.5, 0.75]))
    n = int(rows["item_id"].nunique())
    if not len(catalog):
        return PriceBand(low, median, high, None, None, None, "mid", None, basis, n)
    c_low, c_median, c_high = (float(v) for v in np.quantile(catalog, [0.25, 0.5, 0.75]))
    band = "budget" if median < c_low else "premium" if median > c_high else "mid"
    return PriceBand(low, median, high, c_low, c_median, c_high, band, float(np.mean(catalog <= median)), basis, n)


def _last_session(h: pd.DataFrame, config: ProfileConfig) -> pd.DataFrame:
    gaps = h["timestamp"].diff().dt.total_seconds().fillna(0.0).to_numpy() > config.session_gap_minutes * 60
    starts = np.flatnonzero(gaps)
    first = int(starts[-1]) if len(starts) else 0
    return h.iloc[max(first, len(h) - config.recent_events):]


def _intent(h: pd.DataFrame, recent: pd.DataFrame, config: ProfileConfig) -> Intent:
    counted = recent.assign(weight=recent["weight"].clip(lower=0.0))
    searches = h[(h["event_type"] == "search") & (h["query"].str.strip() != "")]
    queries = tuple(dict.fromkeys(q.strip() for q in searches["query"].iloc[::-1]))[: config.max_queries]
    words: Counter[str] = Counter()
    texts = recent.loc[recent["item_id"].notna(), "title"].tolist() + recent["query"].tolist()
    for text in texts:
        words.update({w for w in tokenize(normalize(text)) if not w.isdigit()})
    terms = tuple(w for w, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[: config.max_terms])
    return Intent(start=recent["timestamp"].iloc[0], end=recent["timestamp"].iloc[-1], events=len(recent),
                  categories=_shares(counted, "category", 3), terms=terms, queries=queries)


def _vector(recent: pd.DataFrame, item_vectors: np.ndarray | None, items: IdMap | None) -> np.ndarray | None:
    if item_vectors is None or items is None:
        return None
    rows = recent[recent["item_id"].notna()]
    return profile_vector(items.index(rows["item_id"].tolist()), rows["weight"].to_numpy(), item_vectors)


def profile_vector(item_positions: Sequence[int] | np.ndarray, weights: Sequence[float] | np.ndarray,
                   item_vectors: np.ndarray) -> np.ndarray | None:
    """The shopper's vector: the unit-length, weighted mean of ``item_vectors`` (n_items, d) rows at
    ``item_positions`` (one per event; -1 or out of range: unknown, skipped) with the events' ``weights``.
    Events of weight <= 0 (returns, searches) are skipped. float32 (d,), or None when nothing is left."""
    index = np.asarray(item_positions, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    known = (index >= 0) & (index < len(item_vectors)) & (w > 0)
    if not known.any():
        return None
    mean = (w[known][:, None] * np.asarray(item_vectors, dtype=np.float64)[index[known]]).sum(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm).astype(np.float32) if norm > 0 else None


__all__ = ["EVENT_WEIGHTS", "Intent", "PriceBand", "ProfileConfig", "ShopperProfile", "Share", "build_profile", "profile_vector"]
