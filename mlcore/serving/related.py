"""Related products for a product page: similar items and complementary items, each with its reasons.

**Similar** (:func:`similar_items`): items that could replace this one. Sources, each used when the bundle
has it: ``text`` (cosine of the text embeddings: a similar description), ``item_knn`` (its item–item
similarity), ``ease`` (positive weights of its item row), ``mf`` (cosine of item factors) and, lightly,
``graph`` (shared category, brand, attributes, title terms in the knowledge graph; helps cold items).

**Complementary** (:func:`complementary_items`): items to buy with this one. Sources: ``baskets`` (the
knowledge graph's ``bought_together`` edges: the cosine of the items' basket sets, with the basket count
``n_ij = cosine · sqrt(s_i s_j)``), ``shoppers`` (shoppers who have both in ``bundle.seen``: a cosine,
kept from ``min_shoppers`` shoppers; the fallback when the bundle has no ``kg`` signal), ``relations``
(uploaded item–item triples such as ``complements``) and ``graph`` (shared brand, attributes or title words,
not categories: a shared category makes items alike, not complementary). Items in
the product's own category are multiplied by ``same_category`` (< 1), so other categories come first.

Blending: each source's scores over the candidates (its best ``pool`` items) are divided by their
maximum, so every source's best item scores 1, then summed with the config's weights. Each result
keeps those weighted parts (``sources``) and a :class:`Reason` per source, strongest first.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mlcore.data import IdMap
from mlcore.graph import ENTITY_KINDS

CF_SOURCES = ("item_knn", "ease", "mf")
SHARED_ENTITY_REASONS = {"category": "same_category", "brand": "same_brand", "attribute": "shared_attribute",
                         "term": "shared_term", "entity": "related"}


class BundleLike(Protocol):
    """What these functions read of a :class:`~mlcore.serving.bundle.Bundle`."""

    @property
    def items(self) -> IdMap: ...
    @property
    def products(self) -> pd.DataFrame: ...
    @property
    def seen(self) -> sp.csr_matrix: ...
    @property
    def models(self) -> Mapping[str, Any]: ...


class UnknownItemError(KeyError):
    """The product is not in the bundle (e.g. imported after the version was trained)."""


@dataclass(frozen=True)
class Reason:
    """Why an item is related: a stable ``code``, an optional ``count`` (orders, shoppers) and ``label``
    (a brand, category, attribute or relation). ``text`` is the English sentence; UIs translate by code."""

    code: str
    count: int | None = None
    label: str = ""

    @property
    def text(self) -> str:
        n, label = self.count, self.label
        return {
            "similar_text": "Similar description",
            "co_shoppers": f"Bought by the same shoppers ({n})",
            "similar_shoppers": "Liked by similar shoppers",
            "bought_together": f"Often bought together ({n} orders)" if n else "Often bought together",
            "complements": "Goes with this product",
            "related": f"Related: {label}",
            "same_brand": f"Same brand: {label}",
            "same_category": f"Same category: {label}",
            "shared_attribute": f"Shares {label}",
            "shared_term": f"Also a “{label}” item",
        }.get(self.code, self.code)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "text": self.text}


@dataclass(frozen=True)
class RelatedItem:
    """One related item: column ``item``, its id and title, the blended ``score``, each source's weighted
    part, the reasons (strongest first) and whether it is in another category than the product."""

    item: int
    item_id: str
    title: str
    score: float
    sources: Mapping[str, float]
    reasons: tuple[Reason, ...]
    cross_category: bool

    @property
    def reason(self) -> str:
        return self.reasons[0].text if self.reasons else ""

    def to_dict(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "title": self.title, "score": self.score, "sources": dict(self.sources),
                "reasons": [r.to_dict() for r in self.reasons], "reason": self.reason,
                "cross_category": self.cross_category}


@dataclass(frozen=True)
class SimilarConfig:
    """Source weights for :func:`similar_items` (absent sources are skipped) and the candidates per source."""

    text: float = 1.0
    item_knn: float = 1.0
    ease: float = 0.7
    mf: float = 0.5
    graph: float = 0.3
    pool: int = 100


@dataclass(frozen=True)
class ComplementConfig:
    """Source weights for :func:`complementary_items`; ``same_category`` multiplies items in the product's
    own category (1: no preference for other categories); ``min_shoppers`` for the ``shoppers`` source."""

    baskets: float = 1.0
    shoppers: float = 0.6
    relations: float = 1.0
    graph: float = 0.3
    same_category: float = 0.4
    min_shoppers: int = 2
    pool: int = 200


def similar_items(bundle: BundleLike, item_id: object, k: int = 10,
                  config: SimilarConfig = SimilarConfig()) -> list[RelatedItem]:
    """Up to ``k`` items most like ``item_id``, best first; UnknownItemError if the bundle lacks it."""
    ix = _Index.of(bundle)
    i = ix.item(item_id)
    co = ix.co_shoppers(i)
    sources = similarity_sources(bundle, i, config)

    def reasons(j: int, name: str) -> Reason | None:
        if name == "text":
            return Reason("similar_text")
        if name in CF_SOURCES:
            return Reason("co_shoppers", int(co[j])) if co[j] > 0 else Reason("similar_shoppers")
        return ix.shared_entity(i, j)

    return _blend(ix, i, sources, k, config.pool, reasons, same_category=1.0)


def similarity_sources(bundle: BundleLike, i: int, config: SimilarConfig = SimilarConfig()
                       ) -> dict[str, tuple[float, np.ndarray]]:
    """Each similarity source the bundle has, as ``{name: (weight, raw similarity of item column i to every
    item (n_items,))}`` (see the module doc); sources with weight 0 are left out."""
    ix = _Index.of(bundle)
    sources: dict[str, tuple[float, np.ndarray]] = {}
    text = bundle.models.get("text")
    if text is not None and config.text > 0:
        emb = np.asarray(text.item_embeddings, dtype=np.float32)
        sources["text"] = (config.text, emb @ emb[i])
    if "item_knn" in bundle.models and config.item_knn > 0:
        sources["item_knn"] = (config.item_knn, _row(bundle.models["item_knn"].similarity, i))
    if "ease" in bundle.models and config.ease > 0:
        sources["ease"] = (config.ease, np.asarray(bundle.models["ease"].weights[i], dtype=np.float32))
    if "mf" in bundle.models and config.mf > 0:
        factors = np.asarray(bundle.models["mf"].item_factors, dtype=np.float32)
        sources["mf"] = (config.mf, _unit(factors) @ _unit(factors[i : i + 1])[0])
    if ix.has_graph and config.graph > 0:
        sources["graph"] = (config.graph, ix.shared_row(i))
    return sources


def complementary_items(bundle: BundleLike, item_id: object, k: int = 10,
                        config: ComplementConfig = ComplementConfig()) -> list[RelatedItem]:
    """Up to ``k`` items bought or used with ``item_id``, other categories first; UnknownItemError if unknown."""
    ix = _Index.of(bundle)
    i = ix.item(item_id)
    co = ix.co_shoppers(i)
    sources: dict[str, tuple[float, np.ndarray]] = {}
    if ix.baskets is not None and ix.baskets.nnz and config.baskets > 0:
        sources["baskets"] = (config.baskets, _row(ix.baskets, i))
    if config.shoppers > 0:
        together = co / np.sqrt(np.maximum(ix.counts * ix.counts[i], 1.0))
        sources["shoppers"] = (config.shoppers, np.where(co >= config.min_shoppers, together, 0.0))
    if ix.relations is not None and ix.relations.nnz and config.relations > 0:
        sources["relations"] = (config.relations, (_row(ix.relations, i) > 0).astype(np.float32))
    if ix.has_graph and config.graph > 0:  # shared brand, attributes, words; a shared category is similarity
        sources["graph"] = (config.graph, ix.shared_row(i, categories=False))

    def reasons(j: int, name: str) -> Reason | None:
        if name == "baskets":
            n = ix.basket_count(i, j)
            return Reason("bought_together", n)
        if name == "shoppers":
            return Reason("co_shoppers", int(co[j]))
        if name == "relations":
            relation = ix.relation_name(i, j)
            return Reason("complements") if relation == "complements" else Reason("related", label=relation)
        return ix.shared_entity(i, j, categories=False)

    return _blend(ix, i, sources, k, config.pool, reasons, same_category=config.same_category)


# -- blending -----------------------------------------------------------------------------------------
def _blend(ix: _Index, i: int, sources: Mapping[str, tuple[float, np.ndarray]], k: int, pool: int,
           reason: Callable[[int, str], Reason | None], *, same_category: float) -> list[RelatedItem]:
    if k <= 0 or not sources:
        return []
    parts: dict[str, np.ndarray] = {}
    for name, (weight, raw) in sources.items():
        v = np.nan_to_num(np.asarray(raw, dtype=np.float32).ravel(), nan=0.0, posinf=0.0, neginf=0.0)
        v = np.maximum(v, 0.0)
        v[i] = 0.0
        if 0 < pool < len(v):
            cut = np.partition(v, len(v) - pool)[len(v) - pool]
            v = np.where(v >= cut, v, 0.0)
        top = float(v.max()) if len(v) else 0.0
        if top > 0:
            parts[name] = (weight * v / top).astype(np.float32)
    if not parts:
        return []
    total = np.sum(list(parts.values()), axis=0)
    same = ix.same_category(i)
    factor = np.where(same, np.float32(same_category), np.float32(1.0))
    score = total * factor
    chosen = [int(j) for j in np.argsort(-score, kind="stable")[:k] if score[j] > 0]
    out = []
    for j in chosen:
        contrib = {name: float(v[j] * factor[j]) for name, v in parts.items() if v[j] > 0}
        found: list[Reason] = []
        for name in sorted(contrib, key=lambda n: -contrib[n]):
            r = reason(j, name)
            if r is not None and all(r.code != f.code for f in found):
                found.append(r)
        out.append(RelatedItem(item=j, item_id=ix.items.ids[j], title=str(ix.titles[j]), score=float(score[j]),
                               sources=contrib, reasons=tuple(found), cross_category=not bool(same[j])))
    return out


def _row(m: sp.csr_matrix | np.ndarray, i: int) -> np.ndarray:
    if sp.issparse(m):
        return np.asarray(m[i].toarray(), dtype=np.float32).ravel()
    return np.asarray(m[i], dtype=np.float32).ravel()


def _unit(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)


# -- what the bundle holds, prepared once per bundle ---------------------------------------------------
_INDEXES: dict[int, _Index] = {}


class _Index:
    """Per-bundle lookups: shopper co-counts, categories, and the knowledge graph's item relations."""

    @classmethod
    def of(cls, bundle: BundleLike) -> _Index:
        key = id(bundle)
        found = _INDEXES.get(key)
        if found is None or found.bundle() is not bundle:
            found = _INDEXES[key] = cls(bundle)
            weakref.finalize(bundle, _INDEXES.pop, key, None)
        return found

    def __init__(self, bundle: BundleLike) -> None:
        self.bundle = weakref.ref(bundle)
        self.items = bundle.items
        self.n = len(bundle.items)
        p = bundle.products
        self.titles = p["title"].astype(str).to_numpy() if "title" in p else np.asarray(self.items.ids)
        self.categories = (p["category"].fillna("").astype(str).str.strip().to_numpy() if "category" in p
                           else np.full(self.n, "", dtype=object))
        seen = sp.csr_matrix(bundle.seen, dtype=np.float32)
        self.seen, self.seen_t = seen, sp.csr_matrix(seen.T)
        self.counts = np.asarray(seen.sum(axis=0), dtype=np.float32).ravel()
        self._xe: sp.csr_matrix | None = None
        self._xe_no_category: sp.csr_matrix | None = None
        self._entity_cols = np.zeros(0, dtype=np.int64)
        self._graph: Any = None
        self.baskets: sp.csr_matrix | None = None
        self.basket_sessions = np.zeros(0, dtype=np.float32)
        self.relations: sp.csr_matrix | None = None
        self._relation_names: tuple[str, ...] = ()
        kg = bundle.models.get("kg")
        if kg is not None and getattr(kg, "graph", None) is not None:
            self._from_graph(kg)

    def _from_graph(self, kg: Any) -> None:
        g, x = kg.graph, sp.csr_matrix(kg.features)
        n = self.n
        # Shared non-item entities (category, brand, attributes, terms): X without its item columns.
        entity_cols = np.flatnonzero(np.arange(g.n_entities) >= n)
        xe = sp.csr_matrix(x[:, entity_cols])
        self._entity_cols, self._xe, self._graph = entity_cols, xe, g
        not_category = (g.kinds[entity_cols] != ENTITY_KINDS.index("category")).astype(np.float32)
        self._xe_no_category = sp.csr_matrix(xe @ sp.diags(not_category))
        self._xe_no_category.eliminate_zeros()
        head, tail, weight = g.edges("bought_together")
        self.baskets = _symmetric(head, tail, weight, n)
        self.basket_sessions = np.asarray(getattr(kg, "basket_sessions", np.zeros(0)), dtype=np.float32)
        links = (g.head < n) & (g.tail < n) & (g.relation != _relation_id(g, "bought_together"))
        self._relation_names = tuple(g.relations)
        codes = g.relation[links].astype(np.float32) + 1  # 0 means no relation in a sparse matrix
        self.relations = _symmetric(g.head[links], g.tail[links], codes, n)

    @property
    def has_graph(self) -> bool:
        return self._xe is not None

    def _entities(self, categories: bool) -> sp.csr_matrix | None:
        return self._xe if categories else self._xe_no_category

    def shared_row(self, i: int, *, categories: bool = True) -> np.ndarray:
        """(n_items,) float32: how much each item shares with ``i`` through non-item graph entities
        (categories included or not)."""
        xe = self._entities(categories)
        if xe is None:
            return np.zeros(self.n, dtype=np.float32)
        return np.asarray((xe @ xe[i].T).toarray(), dtype=np.float32).ravel()

    def item(self, item_id: object) -> int:
        try:
            return self.items.index_of(item_id)
        except KeyError:
            raise UnknownItemError(f"item {item_id!r} is not in this model version; "
                                   "train a new version to include it") from None

    def co_shoppers(self, i: int) -> np.ndarray:
        """(n_items,) float32: shoppers who have both item ``i`` and each item (``i`` itself: its shoppers)."""
        users = self.seen_t[i].indices
        return np.asarray(self.seen[users].sum(axis=0), dtype=np.float32).ravel()

    def same_category(self, i: int) -> np.ndarray:
        own = self.categories[i]
        return (self.categories == own) if own else np.zeros(self.n, dtype=bool)

    def basket_count(self, i: int, j: int) -> int | None:
        """Baskets holding both (from the edge's cosine and each item's basket count); None if not stored."""
        if self.baskets is None or len(self.basket_sessions) != self.n:
            return None
        cosine = float(self.baskets[i, j])
        return int(round(cosine * float(np.sqrt(self.basket_sessions[i] * self.basket_sessions[j])))) or None

    def relation_name(self, i: int, j: int) -> str:
        code = int(self.relations[i, j]) - 1 if self.relations is not None else -1
        return self._relation_names[code].replace("_", " ") if code >= 0 else "related to"

    def shared_entity(self, i: int, j: int, *, categories: bool = True) -> Reason | None:
        """The shared category / brand / attribute / term that links ``i`` and ``j`` most, as a reason."""
        xe = self._entities(categories)
        if xe is None:
            return None
        both = xe[i].multiply(xe[j]).tocoo()
        if not both.nnz:
            return None
        entity = int(self._entity_cols[both.col[int(np.argmax(both.data))]])
        code = SHARED_ENTITY_REASONS.get(self._graph.kind(entity), "related")
        return Reason(code, label=str(self._graph.labels[entity]))


def _symmetric(head: np.ndarray, tail: np.ndarray, values: np.ndarray, n: int) -> sp.csr_matrix:
    """(n, n) float32 with ``values`` at (head, tail) and (tail, head); a pair listed twice keeps its first value."""
    lo, hi = np.minimum(head, tail).astype(np.int64), np.maximum(head, tail).astype(np.int64)
    _, first = np.unique(lo * n + hi, return_index=True)
    lo, hi, v = lo[first], hi[first], np.asarray(values, dtype=np.float32)[first]
    off = lo != hi
    rows, cols = np.r_[lo, hi[off]], np.r_[hi, lo[off]]
    return sp.csr_matrix((np.r_[v, v[off]], (rows, cols)), shape=(n, n), dtype=np.float32)


def _relation_id(graph: Any, name: str) -> int:
    return graph.relations.index(name) if name in graph.relations else -1


__all__ = ["ComplementConfig", "Reason", "RelatedItem", "SimilarConfig", "UnknownItemError",
           "complementary_items", "similar_items", "similarity_sources"]
