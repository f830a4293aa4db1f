"""The product knowledge graph: entities and typed, weighted edges built from a Dataset.

Entities (keys in one :class:`~mlcore.data.IdMap`; the first ``n_items`` are
the products in ``data.items`` order, so entity ``i < n_items`` *is* item ``i``):

- ``item:<id>`` products;
- ``category:<path>`` one node per level of the ' > ' path (``Home``, ``Home > Kitchen``);
  a cell may hold several paths separated by ``|`` (MovieLens genres);
- ``brand:<name>``;
- ``attr:<column>=<value>`` attribute values (multi-valued cells split on ``|``);
  identifier-like columns (a distinct value on most rows: EAN, URL) are skipped,
  they link nothing to anything, and so is a value held by more than
  ``attribute_max_value_share`` of the products (``in_stock: true``), a hub that
  links everything to everything; numeric columns with more than
  ``numeric_max_distinct`` values (price, weight) become ``numeric_bins``
  quantile bands (``attr:price=q2``, label ``price 1.25–2.10``);
- ``term:<word>`` significant title words, for catalogs with thin structure
  (Online Retail has no brand or category): a word counts when it appears in
  at least ``term_min_items`` titles and at most ``term_max_share`` of them
  (generic words like "set" link everything), and each product keeps its
  ``max_terms_per_item`` rarest such words — a keyword facet, as a
  merchandiser would tag it;
- ``entity:<name>`` heads/tails of uploaded triples that are not products.

Relations: ``belongs_to`` (item → leaf category), ``subcategory_of`` (category →
parent), ``made_by``, ``has_attribute``, ``has_term``, ``bought_together`` (items
sharing sessions in the training events, weight = cosine of their session sets,
top-k per item), ``complements`` and any other relation named in
``data.triples``.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlcore.data import MEDIA_COLUMNS, Dataset, IdMap
from mlcore.graph.baskets import co_occurrence

ENTITY_KINDS = ("item", "category", "brand", "attribute", "term", "entity")
BASE_RELATIONS = (
    "belongs_to",
    "subcategory_of",
    "made_by",
    "has_attribute",
    "has_term",
    "bought_together",
    "complements",
)
CORE_COLUMNS = frozenset({"item_id", "title", "description", "category", "brand"})
STOPWORDS = frozenset(
    "the and for with from of in on to a an by or as at is are be this that your you our its it set pack "
    "assorted new size small large mini big".split()
)
WORD = re.compile(r"[^\W\d_]{3,}")


@dataclass(frozen=True)
class GraphConfig:
    """Which catalog fields become entities, and how co-purchase edges are kept."""

    categories: bool = True
    brands: bool = True
    attributes: bool = True
    attribute_max_distinct_share: float = 0.5
    attribute_max_value_share: float = 0.5
    numeric_max_distinct: int = 20
    numeric_bins: int = 5
    terms: bool = True
    term_min_items: int = 2
    term_max_share: float = 0.05
    max_terms_per_item: int = 5
    co_purchase: bool = True
    co_purchase_top_k: int = 50
    co_purchase_min_count: int = 2
    gap_minutes: float = 60.0
    max_basket: int = 200
    triples: bool = True


@dataclass(frozen=True, eq=False)
class KnowledgeGraph:
    """Entities and edges. Arrays: ``kinds`` (n_entities,) int8 into :data:`ENTITY_KINDS`;
    ``labels`` (n_entities,) str; ``head, tail`` int64 and ``relation`` int64 (into
    ``relations``) and ``weight`` float32, all (n_edges,)."""

    entities: IdMap
    labels: np.ndarray
    kinds: np.ndarray
    relations: tuple[str, ...]
    head: np.ndarray
    relation: np.ndarray
    tail: np.ndarray
    weight: np.ndarray
    n_items: int

    @property
    def n_entities(self) -> int:
        return len(self.entities)

    def kind(self, entity: int) -> str:
        return ENTITY_KINDS[int(self.kinds[entity])]

    def edges(self, relation: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(head, tail, weight)`` arrays of one relation (empty when it is absent)."""
        if relation not in self.relations:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0, dtype=np.float32)
        keep = self.relation == self.relations.index(relation)
        return self.head[keep], self.tail[keep], self.weight[keep]

    def summary(self) -> dict[str, int]:
        """Counts of entities per kind and of edges per relation, for logs and the dashboard."""
        out = {f"entities.{k}": int((self.kinds == i).sum()) for i, k in enumerate(ENTITY_KINDS)}
        out.update({f"edges.{r}": int((self.relation == i).sum()) for i, r in enumerate(self.relations)})
        return out

    def to_arrays(self, prefix: str = "kg_") -> dict[str, np.ndarray]:
        """Plain arrays (str arrays are unicode, loadable without pickle)."""
        return {
            f"{prefix}entities": np.asarray(self.entities.ids, dtype=str),
            f"{prefix}labels": self.labels.astype(str),
            f"{prefix}kinds": self.kinds,
            f"{prefix}relations": np.asarray(self.relations, dtype=str),
            f"{prefix}edges": np.stack([self.head, self.relation, self.tail]).astype(np.int64),
            f"{prefix}weight": self.weight,
            f"{prefix}n_items": np.asarray(self.n_items, dtype=np.int64),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str = "kg_") -> KnowledgeGraph:
        edges = arrays[f"{prefix}edges"].reshape(3, -1)
        return cls(
            entities=IdMap(arrays[f"{prefix}entities"].tolist()),
            labels=arrays[f"{prefix}labels"].astype(str),
            kinds=arrays[f"{prefix}kinds"].astype(np.int8),
            relations=tuple(arrays[f"{prefix}relations"].tolist()),
            head=edges[0].copy(),
            relation=edges[1].copy(),
            tail=edges[2].copy(),
            weight=arrays[f"{prefix}weight"].astype(np.float32),
            n_items=int(arrays[f"{prefix}n_items"]),
        )


class _Builder:
    def __init__(self, data: Dataset) -> None:
        self.keys: dict[str, int] = {}
        self.labels: list[str] = []
        self.kinds: list[int] = []
        self.relations: list[str] = list(BASE_RELATIONS)
        self.edges: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        titles = data.products["title"].astype(str).tolist()
        for item_id, title in zip(data.items.ids, titles, strict=True):
            self.entity(f"item:{item_id}", title or item_id, "item")

    def entity(self, key: str, label: str, kind: str) -> int:
        index = self.keys.get(key)
        if index is None:
            index = self.keys[key] = len(self.labels)
            self.labels.append(label)
            self.kinds.append(ENTITY_KINDS.index(kind))
        return index

    def add(self, relation: str, head: np.ndarray, tail: np.ndarray, weight: np.ndarray | None = None) -> None:
        if relation not in self.relations:
            self.relations.append(relation)
        head = np.asarray(head, dtype=np.int64)
        w = np.ones(len(head), dtype=np.float32) if weight is None else np.asarray(weight, dtype=np.float32)
        rel = np.full(len(head), self.relations.index(relation), dtype=np.int64)
        self.edges.append((head, rel, np.asarray(tail, dtype=np.int64), w))

    def graph(self, n_items: int) -> KnowledgeGraph:
        parts = self.edges or [(np.zeros(0, np.int64),) * 3 + (np.zeros(0, np.float32),)]  # type: ignore[list-item]
        head, rel, tail, weight = (np.concatenate([p[i] for p in parts]) for i in range(4))
        return KnowledgeGraph(
            entities=IdMap(self.keys),
            labels=np.asarray(self.labels, dtype=str),
            kinds=np.asarray(self.kinds, dtype=np.int8),
            relations=tuple(self.relations),
            head=head,
            relation=rel,
            tail=tail,
            weight=weight.astype(np.float32),
            n_items=n_items,
        )


def build_graph(data: Dataset, config: GraphConfig = GraphConfig()) -> KnowledgeGraph:
    """The knowledge graph of ``data``'s catalog and (training) events."""
    b = _Builder(data)
    products = data.products
    if config.categories:
        _categories(b, products["category"].astype(str).tolist())
    if config.brands:
        _single_valued(b, products["brand"].astype(str).tolist(), "brand", "made_by")
    if config.attributes:
        _attributes(b, products, config)
    if config.terms:
        _terms(b, products["title"].astype(str).tolist(), config)
    if config.co_purchase:
        _bought_together(b, data, config)
    if config.triples and data.triples is not None and len(data.triples):
        _triples(b, data, data.triples)
    return b.graph(data.n_items)


def _categories(b: _Builder, paths: list[str]) -> None:
    heads, tails, children = [], [], set()
    for item, cell in enumerate(paths):
        for path in cell.split("|"):  # several paths: "Comedy|Drama", "Home > Mugs|Gifts"
            levels = [p.strip() for p in path.split(">") if p.strip()]
            nodes = [" > ".join(levels[: i + 1]) for i in range(len(levels))]
            ids = [b.entity(f"category:{node}", node, "category") for node in nodes]
            if ids:
                heads.append(item)
                tails.append(ids[-1])
            for child, parent in zip(ids[1:], ids[:-1], strict=False):
                children.add((child, parent))
    b.add("belongs_to", np.asarray(heads), np.asarray(tails))
    pairs = sorted(children)
    b.add("subcategory_of", np.asarray([c for c, _ in pairs]), np.asarray([p for _, p in pairs]))


def _single_valued(b: _Builder, values: list[str], kind: str, relation: str) -> None:
    heads, tails = [], []
    for item, value in enumerate(values):
        value = value.strip()
        if value and value.lower() not in {"nan", "none"}:
            heads.append(item)
            tails.append(b.entity(f"{kind}:{value.lower()}", value, kind))
    b.add(relation, np.asarray(heads), np.asarray(tails))


def _attributes(b: _Builder, products: pd.DataFrame, config: GraphConfig) -> None:
    heads: list[int] = []
    tails: list[int] = []
    for column in (c for c in products.columns if c not in CORE_COLUMNS and c not in MEDIA_COLUMNS):
        values = products[column].reset_index(drop=True).dropna()
        if values.empty:
            continue
        distinct = values.nunique()
        if _identifier_like(values, distinct, config):
            continue
        name = str(column)
        label = name.removeprefix("attr_t_").removeprefix("attr_n_").replace("_", " ")
        if pd.api.types.is_numeric_dtype(values) and distinct > config.numeric_max_distinct:
            _numeric_bands(b, values, name, label, config.numeric_bins, heads, tails)
            continue
        pairs = [(item, value) for item, cell in zip(values.index.tolist(), values.astype(str).tolist(), strict=True)
                 for value in (v.strip() for v in cell.split("|")) if value and value.lower() not in {"nan", "none"}]
        held = Counter(value.lower() for _, value in pairs)
        hub = config.attribute_max_value_share * len(products)
        for item, value in pairs:
            if held[value.lower()] <= hub:
                heads.append(item)
                tails.append(b.entity(f"attr:{name}={value.lower()}", f"{label}: {value}", "attribute"))
    b.add("has_attribute", np.asarray(heads), np.asarray(tails))


def _identifier_like(values: pd.Series, distinct: int, config: GraphConfig) -> bool:
    """EANs, URLs, serials: (nearly) one value per row — text with many values, or large unique integers."""
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype(float)
        return distinct == len(values) and bool(((numbers % 1 == 0) & (numbers.abs() >= 1e6)).all())
    return len(values) >= 10 and distinct > config.attribute_max_distinct_share * len(values)


def _numeric_bands(
    b: _Builder, values: pd.Series, name: str, label: str, bins: int, heads: list[int], tails: list[int]
) -> None:
    """Quantile bands of a numeric column: items in the same band share an entity."""
    if bins < 2:
        return
    band, edges = pd.qcut(values.astype(float), q=bins, labels=False, retbins=True, duplicates="drop")
    for item, q in zip(values.index.tolist(), band.tolist(), strict=True):
        if q == q:  # not NaN
            q = int(q)
            heads.append(item)
            tails.append(b.entity(f"attr:{name}=q{q}", f"{label} {edges[q]:g}–{edges[q + 1]:g}", "attribute"))


def _terms(b: _Builder, titles: list[str], config: GraphConfig) -> None:
    words = [sorted({w for w in WORD.findall(t.lower()) if w not in STOPWORDS}) for t in titles]
    df = Counter(w for ws in words for w in ws)
    limit = max(config.term_min_items, int(config.term_max_share * len(titles)))
    heads, tails, weights = [], [], []
    for item, ws in enumerate(words):
        kept = sorted((w for w in ws if config.term_min_items <= df[w] <= limit), key=lambda w: (df[w], w))
        for w in kept[: config.max_terms_per_item]:
            heads.append(item)
            tails.append(b.entity(f"term:{w}", w, "term"))
            weights.append(1.0)
    b.add("has_term", np.asarray(heads), np.asarray(tails), np.asarray(weights))


def _bought_together(b: _Builder, data: Dataset, config: GraphConfig) -> None:
    counts = co_occurrence(data, config.gap_minutes, config.max_basket).tocoo()
    sessions = np.zeros(data.n_items, dtype=np.float32)
    diag = counts.row == counts.col
    sessions[counts.row[diag]] = counts.data[diag]
    keep = ~diag & (counts.data >= config.co_purchase_min_count)
    row, col, n = counts.row[keep], counts.col[keep], counts.data[keep]
    cosine = n / np.sqrt(sessions[row] * sessions[col])
    order = np.lexsort((col, -cosine, row))  # by row, strongest first
    row, col, cosine = row[order], col[order], cosine[order]
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    rank = np.arange(len(row)) - np.repeat(starts, np.diff(np.r_[starts, len(row)]))
    top = rank < config.co_purchase_top_k
    # An edge kept from either side is kept once, head < tail.
    lo, hi, w = np.minimum(row[top], col[top]), np.maximum(row[top], col[top]), cosine[top]
    key = lo.astype(np.int64) * data.n_items + hi
    _, first = np.unique(key, return_index=True)
    b.add("bought_together", lo[first], hi[first], w[first])


def _triples(b: _Builder, data: Dataset, triples: pd.DataFrame) -> None:
    missing = {"head", "relation", "tail"} - set(triples.columns)
    if missing:
        raise ValueError(f"triples need columns head, relation, tail; missing {sorted(missing)}")
    grouped: dict[str, tuple[list[int], list[int]]] = {}
    for head, relation, tail in triples[["head", "relation", "tail"]].astype(str).itertuples(index=False):
        name = re.sub(r"\W+", "_", relation.strip().lower()).strip("_") or "related_to"
        h = _node(b, data, head)
        t = _node(b, data, tail)
        hs, ts = grouped.setdefault(name, ([], []))
        hs.append(h)
        ts.append(t)
    for name, (hs, ts) in grouped.items():
        b.add(name, np.asarray(hs), np.asarray(ts))


def _node(b: _Builder, data: Dataset, value: str) -> int:
    value = value.strip()
    if value in data.items:
        return data.items.index_of(value)
    return b.entity(f"entity:{value.lower()}", value, "entity")

