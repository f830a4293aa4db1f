"""Scores by propagation over the graph: shopper → items → entities → items.

Each product becomes a sparse vector over graph entities (its categories with
their ancestors at ``category_decay`` per level, brand, attribute values, title
terms, its co-purchase and complement partners and itself), each relation
scaled by its weight and each entity by its inverse item frequency, rows
L2-normalised: ``X`` (n_items, n_entities). The item–entity–item similarity is
``X Xᵀ`` (a cosine), and a shopper with profile ``r`` (weights over their
recent items) scores ``(r X) Xᵀ`` — a two-step walk from their items through
shared entities to every product. A product never bought still has entity
links, so it is scored; one with no links at all scores 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mlcore.graph.build import KnowledgeGraph


@dataclass(frozen=True)
class PropagationConfig:
    """Relation weights (relative; rows are normalised) and the entity weighting."""

    category_weight: float = 1.0
    category_decay: float = 0.5
    brand_weight: float = 1.0
    attribute_weight: float = 0.5
    term_weight: float = 0.7
    co_purchase_weight: float = 2.0
    complements_weight: float = 2.0
    other_weight: float = 1.0
    self_weight: float = 3.0
    idf: bool = True


def relation_weight(relation: str, config: PropagationConfig) -> float:
    """How much one edge of ``relation`` counts in an item's vector (custom triples: ``other_weight``)."""
    return {
        "belongs_to": config.category_weight,
        "made_by": config.brand_weight,
        "has_attribute": config.attribute_weight,
        "has_term": config.term_weight,
        "bought_together": config.co_purchase_weight,
        "complements": config.complements_weight,
        "subcategory_of": 0.0,  # reached through belongs_to with category_decay
    }.get(relation, config.other_weight)


def item_features(graph: KnowledgeGraph, config: PropagationConfig = PropagationConfig()) -> sp.csr_matrix:
    """``X``: (n_items, n_entities) float32 CSR with unit-length rows (zero rows for unlinked items)."""
    n, m = graph.n_items, graph.n_entities
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    parent = _parents(graph)
    linked_items = np.zeros(n, dtype=bool)
    for r, name in enumerate(graph.relations):
        keep = (graph.relation == r) & (graph.head < n)
        w = relation_weight(name, config)
        if not keep.any() or w == 0:
            continue
        head, tail, weight = graph.head[keep], graph.tail[keep], graph.weight[keep] * w
        rows.append(head)
        cols.append(tail)
        vals.append(weight)
        to_item = tail < n
        if to_item.any():  # item–item relations link both ways
            rows.append(tail[to_item])
            cols.append(head[to_item])
            vals.append(weight[to_item])
            linked_items[head[to_item]] = linked_items[tail[to_item]] = True
        if name == "belongs_to":
            level, factor = tail, weight
            while True:
                up = parent[level]
                has = up >= 0
                if not has.any() or config.category_decay <= 0:
                    break
                factor = factor[has] * config.category_decay
                rows.append(head[has])
                cols.append(up[has])
                vals.append(factor)
                head, level = head[has], up[has]
    if config.self_weight > 0 and linked_items.any():
        items = np.flatnonzero(linked_items)
        rows.append(items)
        cols.append(items)
        vals.append(np.full(len(items), config.self_weight, dtype=np.float32))
    if not rows:
        return sp.csr_matrix((n, m), dtype=np.float32)
    x = sp.csr_matrix(
        (np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n, m),
        dtype=np.float32,
    )
    x.sum_duplicates()
    if config.idf:
        df = np.bincount(x.indices, minlength=m).astype(np.float32)
        idf = np.log1p(n / np.maximum(df, 1.0)).astype(np.float32)
        x = sp.csr_matrix(x @ sp.diags(idf))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0).astype(np.float32)
    return sp.csr_matrix(sp.diags(scale) @ x, dtype=np.float32)


def _parents(graph: KnowledgeGraph) -> np.ndarray:
    """``parent[e]``: the parent category of entity ``e``, or -1."""
    parent = np.full(graph.n_entities, -1, dtype=np.int64)
    child, up, _ = graph.edges("subcategory_of")
    parent[child] = up
    return parent


def propagate_scores(
    profiles: sp.csr_matrix, features: sp.csr_matrix, items: np.ndarray | None = None, chunk: int = 2048
) -> np.ndarray:
    """``(profiles X) X[items]ᵀ``: float32 (n_profiles, n_items or len(items)).

    ``profiles`` is (n_profiles, n_items), e.g. recency weights of each user's items.
    """
    target = features if items is None else features[np.asarray(items, dtype=np.int64)]
    target_t = sp.csr_matrix(target.T)
    out = np.zeros((profiles.shape[0], target.shape[0]), dtype=np.float32)
    for start in range(0, profiles.shape[0], chunk):
        walk = profiles[start : start + chunk] @ features  # (chunk, n_entities)
        out[start : start + chunk] = (walk @ target_t).toarray()
    return out
