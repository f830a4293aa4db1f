"""Features of the learned fusion: candidate pools from every signal and one feature row per (shopper, item).

A *pool* is, for each shopper row, the union of every signal's best ``pool`` items (and its best
``cold_pool`` items among the new ones, those without an interaction in the data the signals were fitted
on), restricted to the items the ranking may return. Each (row, item) pair of a pool gets:

- per signal ``s``: ``s:score`` (the raw score z-scored over the shopper's whole row) and ``s:rank``
  (its rank over the row scaled to [0, 1], 1 = best);
- context (:data:`CONTEXT_FEATURES`): whether the shopper already has the item, the item's age (days from its
  first interaction to the end of the data, -1 if never seen), popularity (log1p of its shoppers), whether it
  is new since training, its price band (quintile 0..4 of the catalogue's prices, -1 unknown), the shopper's
  history length (log1p of distinct items) and recency (days since their last event, -1 none), the text
  similarity between the item and the shopper's :data:`RECENT` latest items (cosine of hashed bags of words of
  title and category), and whether a knowledge-graph path exists (the ``kg`` signal scores it above 0).

:class:`Context` holds the per-item and per-shopper statistics; it is saved in a bundle as ``.npz``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mlcore.data import Dataset
from mlcore.fusion.diversity import hashed_text_vectors
from mlcore.fusion.normalize import rank, zscore

RECENT = 5  # latest distinct items per shopper for the text similarity
NEW_SHOPPER_ITEMS = 3  # a shopper with at most this many distinct items is a "new shopper"
CONTEXT_FEATURES = ("seen", "item_age_days", "item_popularity", "item_new", "price_band", "history_length",
                    "recency_days", "text_similarity", "kg_path")
KG_SIGNAL = "kg"


def signal_features(signals: Sequence[str]) -> list[str]:
    """Feature names of the signals, two per signal, in the order :func:`pair_features` writes them."""
    return [f"{s}:{kind}" for s in signals for kind in ("score", "rank")]


def item_text_vectors(products: pd.DataFrame) -> np.ndarray:
    """Unit-length hashed bag-of-words vectors (float32, (n_items, 256)) of title and category."""
    text = (products["title"].astype(str) + " " + products.get("category", pd.Series("", index=products.index))
            .astype(str)).tolist()
    v = hashed_text_vectors(text)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)


@dataclass
class Context:
    """Per-item (n_items,) and per-shopper (n_users,) statistics of the data the signals were fitted on.

    ``recent`` (n_users, :data:`RECENT`) holds each shopper's latest distinct item columns, newest first, -1 padded.
    ``vectors`` (n_items, d) are :func:`item_text_vectors` (rebuilt from the products, never saved).
    """

    item_age_days: np.ndarray
    item_popularity: np.ndarray
    price_band: np.ndarray
    history_length: np.ndarray
    recency_days: np.ndarray
    recent: np.ndarray
    vectors: np.ndarray

    @property
    def item_new(self) -> np.ndarray:
        return (self.item_age_days < 0).astype(np.float32)

    def new_shoppers(self, users: np.ndarray) -> np.ndarray:
        """(len(users),) bool: rows with at most :data:`NEW_SHOPPER_ITEMS` distinct items."""
        return np.expm1(self.history_length[np.asarray(users, dtype=np.int64)]) <= NEW_SHOPPER_ITEMS + 0.5

    @classmethod
    def from_dataset(cls, data: Dataset) -> Context:
        ev = data.events
        n_users, n_items = data.n_users, data.n_items
        end = ev["timestamp"].max() if len(ev) else pd.Timestamp(0)
        users, items = data.user_index, data.item_index
        days = ((end - ev["timestamp"]).dt.total_seconds().to_numpy() / 86400.0).astype(np.float64)
        ok = (users >= 0) & (items >= 0)
        age = np.full(n_items, -1.0)
        np.maximum.at(age, items[ok], days[ok])
        recency = np.full(n_users, np.inf)
        np.minimum.at(recency, users[ok], days[ok])
        recency[~np.isfinite(recency)] = -1.0
        m = sp.csr_matrix((np.ones(int(ok.sum()), dtype=np.float32), (users[ok], items[ok])), shape=(n_users, n_items))
        m.sum_duplicates()
        m.data[:] = 1.0
        popularity = np.log1p(np.asarray(m.sum(axis=0)).ravel())
        history = np.log1p(np.diff(m.indptr))
        recent = np.full((n_users, RECENT), -1, dtype=np.int64)
        if ok.any():
            latest = pd.DataFrame({"u": users[ok], "i": items[ok]}).iloc[::-1].drop_duplicates(["u", "i"])
            latest["n"] = latest.groupby("u").cumcount()
            latest = latest[latest["n"] < RECENT]
            recent[latest["u"].to_numpy(), latest["n"].to_numpy()] = latest["i"].to_numpy()
        return cls(item_age_days=age.astype(np.float32), item_popularity=popularity.astype(np.float32),
                   price_band=price_bands(data.products), history_length=history.astype(np.float32),
                   recency_days=recency.astype(np.float32), recent=recent, vectors=item_text_vectors(data.products))

    def save(self, path: Path) -> None:
        np.savez(path, item_age_days=self.item_age_days, item_popularity=self.item_popularity,
                 price_band=self.price_band, history_length=self.history_length, recency_days=self.recency_days,
                 recent=self.recent)

    @classmethod
    def load(cls, path: Path, products: pd.DataFrame) -> Context:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        if len(arrays["item_age_days"]) != len(products):
            raise ValueError(f"{path}: {len(arrays['item_age_days'])} items, the products table has {len(products)}")
        return cls(**arrays, vectors=item_text_vectors(products))


def price_bands(products: pd.DataFrame) -> np.ndarray:
    """(n_items,) float32: the price quintile 0..4 of each product, -1 where the price is unknown."""
    if "price" not in products:
        return np.full(len(products), -1.0, dtype=np.float32)
    price = pd.to_numeric(products["price"], errors="coerce").to_numpy(dtype=np.float64)
    known = np.isfinite(price)
    out = np.full(len(products), -1.0, dtype=np.float32)
    if known.sum() >= 5:
        edges = np.quantile(price[known], [0.2, 0.4, 0.6, 0.8])
        out[known] = np.searchsorted(edges, price[known], side="right").astype(np.float32)
    return out


def candidate_pools(rows: Mapping[str, np.ndarray], pool: int, cold_pool: int, new_items: np.ndarray,
                    allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(row, item)`` (int64 each, sorted by row then item) of every row's pool.

    ``rows``: raw scores per signal (n, n_items); ``new_items``: (n_items,) bool; ``allowed``: bool (n, n_items)
    or (n_items,), the items the ranking may return (None: all). A signal whose row is flat adds nothing.
    """
    first = next(iter(rows.values()))
    n, n_items = first.shape
    ok = np.ones((n, n_items), dtype=bool) if allowed is None else np.broadcast_to(allowed, (n, n_items))
    mark = np.zeros((n, n_items), dtype=bool)
    for raw in rows.values():
        s = np.where(ok, np.nan_to_num(np.asarray(raw, dtype=np.float32), nan=-np.inf), -np.inf)
        varied = s.max(axis=1) > np.where(np.isfinite(s), s, np.inf).min(axis=1)
        for size, subset in ((pool, None), (cold_pool, new_items)):
            part = s if subset is None else np.where(subset[None, :], s, -np.inf)
            size = min(size, n_items)
            if size <= 0:
                continue
            top = np.argpartition(-part, size - 1, axis=1)[:, :size]
            good = np.isfinite(np.take_along_axis(part, top, axis=1)) & varied[:, None]
            rows_of = np.repeat(np.arange(n), size).reshape(n, size)
            mark[rows_of[good], top[good]] = True
    r, i = np.nonzero(mark)
    return r.astype(np.int64), i.astype(np.int64)


def pair_features(rows: Mapping[str, np.ndarray], signals: Sequence[str], users: np.ndarray, pr: np.ndarray,
                  pi: np.ndarray, ctx: Context, seen: sp.csr_matrix) -> np.ndarray:
    """Feature matrix (float32, (len(pr), 2 * len(signals) + len(CONTEXT_FEATURES))) of the pairs ``(pr, pi)``.

    ``rows``: raw scores per signal of the shoppers ``users`` (row indices into ``ctx``/``seen``), each
    (len(users), n_items); a signal in ``signals`` but not in ``rows`` gets zeros.
    """
    out = np.zeros((len(pr), 2 * len(signals) + len(CONTEXT_FEATURES)), dtype=np.float32)
    users = np.asarray(users, dtype=np.int64)
    for j, name in enumerate(signals):
        if name not in rows:
            continue
        raw = np.asarray(rows[name], dtype=np.float32)
        out[:, 2 * j] = np.nan_to_num(zscore(raw)[pr, pi], neginf=-10.0)
        out[:, 2 * j + 1] = np.nan_to_num(rank(raw)[pr, pi], neginf=0.0)
    c = 2 * len(signals)
    seen_rows = sp.csr_matrix(seen[users])
    out[:, c] = np.asarray(seen_rows[pr, pi]).ravel() > 0 if len(pr) else 0.0
    out[:, c + 1] = ctx.item_age_days[pi]
    out[:, c + 2] = ctx.item_popularity[pi]
    out[:, c + 3] = ctx.item_new[pi]
    out[:, c + 4] = ctx.price_band[pi]
    out[:, c + 5] = ctx.history_length[users][pr]
    out[:, c + 6] = ctx.recency_days[users][pr]
    recent = ctx.recent[users]  # (n, RECENT)
    profile = np.where((recent >= 0)[:, :, None], ctx.vectors[np.maximum(recent, 0)], 0.0).sum(axis=1)
    norms = np.linalg.norm(profile, axis=1, keepdims=True)
    profile = np.divide(profile, norms, out=np.zeros_like(profile), where=norms > 0)
    out[:, c + 7] = np.einsum("nd,nd->n", ctx.vectors[pi], profile[pr]) if len(pr) else 0.0
    if KG_SIGNAL in rows:
        out[:, c + 8] = np.asarray(rows[KG_SIGNAL], dtype=np.float32)[pr, pi] > 0
    return out
