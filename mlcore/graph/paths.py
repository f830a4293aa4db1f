"""Readable explanation paths from a shopper's history to a recommended product.

The path chosen is the single largest term of the propagation score
``Σ_h Σ_e r_h · X[h, e] · X[item, e]`` — the history item ``h`` and shared
entity ``e`` that contribute most — so the explanation is the reason the score
is high, not a story told after the fact.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from mlcore.graph.build import KnowledgeGraph


@dataclass(frozen=True)
class Hop:
    """One edge of a path: ``source --relation--> target`` (entity keys and labels)."""

    source: str
    source_label: str
    relation: str
    target: str
    target_label: str


@dataclass(frozen=True)
class ExplanationPath:
    """Hops from the shopper to the item, a sentence, and the share of the score it explains (0..1)."""

    hops: tuple[Hop, ...]
    sentence: str
    via: str
    share: float

    def to_dict(self) -> dict[str, Any]:
        return {"hops": [asdict(h) for h in self.hops], "sentence": self.sentence, "via": self.via, "share": self.share}


class PathFinder:
    """Explains scores of :func:`~mlcore.graph.propagate.propagate_scores` over one graph."""

    def __init__(self, graph: KnowledgeGraph, features: sp.csr_matrix) -> None:
        self.graph = graph
        self.features = features
        self._item_relations: dict[tuple[int, int], str] | None = None

    def explain(self, user_key: str, profile: sp.csr_matrix, item: int) -> ExplanationPath | None:
        """Why ``item`` suits a shopper whose profile row (1, n_items) is ``profile``; None when nothing links them."""
        history = profile.indices[profile.data > 0]
        weights = profile.data[profile.data > 0]
        user = f"user:{user_key}"
        others = history != item
        if others.any():
            contrib = sp.csr_matrix(sp.diags(weights[others]) @ self.features[history[others]]).multiply(
                self.features[item]
            )
            contrib = sp.coo_matrix(contrib)
            if contrib.nnz and contrib.data.max() > 0:
                best = int(np.argmax(contrib.data))
                h = int(history[others][contrib.row[best]])
                e = int(contrib.col[best])
                share = float(contrib.data[best] / contrib.data.sum())
                return self._path(user, h, e, item, share)
        if item in history:
            hop = Hop(user, "you", "bought", self._key(item), self._label(item))
            return ExplanationPath((hop,), f"You bought {self._label(item)} before.", "history", 1.0)
        return None

    # -- sentences -----------------------------------------------------------------
    def _path(self, user: str, h: int, e: int, item: int, share: float) -> ExplanationPath:
        bought = Hop(user, "you", "bought", self._key(h), self._label(h))
        h_label, i_label = self._label(h), self._label(item)
        g = self.graph
        if e in (h, item):  # a direct item–item relation between the history item and the item
            relation = self._item_relation(h, item)
            hops: tuple[Hop, ...] = (bought, Hop(self._key(h), h_label, relation, self._key(item), i_label))
            sentence = {
                "bought_together": f"Often bought with {h_label}, which you bought.",
                "complements": f"Complements {h_label}, which you bought.",
            }.get(relation, f"{_words(relation).capitalize()} {h_label}, which you bought.")
            return ExplanationPath(hops, sentence, relation, share)
        kind, e_label = g.kind(e), self._label(e)
        if kind == "item":  # both co-bought (or related) with a third product
            relation = self._item_relation(h, e)
            second = self._item_relation(item, e)
            chain: tuple[Hop, ...] = (
                bought,
                Hop(self._key(h), h_label, relation, self._key(e), e_label),
                Hop(self._key(item), i_label, second, self._key(e), e_label),
            )
            if relation == second == "bought_together":
                sentence = f"Often bought with {e_label}, like {h_label} you bought."
            else:
                sentence = f"Linked to {e_label} ({_words(second)}), like {h_label} you bought."
            return ExplanationPath(chain, sentence, second, share)
        relation = {"category": "belongs_to", "brand": "made_by", "attribute": "has_attribute", "term": "has_term"}.get(
            kind, self._entity_relation(item, e)
        )
        shared: tuple[Hop, ...] = (
            bought,
            Hop(self._key(h), h_label, relation, self._key(e), e_label),
            Hop(self._key(item), i_label, relation, self._key(e), e_label),
        )
        sentence = {
            "category": f"In {e_label}, like {h_label} you bought.",
            "brand": f"Same brand as {h_label} you bought: {e_label}.",
            "attribute": f"Shares {e_label} with {h_label} you bought.",
            "term": f"Also a “{e_label}” item, like {h_label} you bought.",
        }.get(kind, f"{_words(relation).capitalize()} {e_label}, like {h_label} you bought.")
        return ExplanationPath(shared, sentence, relation, share)

    def _item_relation(self, a: int, b: int) -> str:
        if self._item_relations is None:
            g = self.graph
            links = (g.head < g.n_items) & (g.tail < g.n_items)
            self._item_relations = {}
            for h, r, t in zip(g.head[links].tolist(), g.relation[links].tolist(), g.tail[links].tolist(), strict=True):
                self._item_relations.setdefault((min(h, t), max(h, t)), g.relations[r])
        return self._item_relations.get((min(a, b), max(a, b)), "related_to")

    def _entity_relation(self, item: int, entity: int) -> str:
        g = self.graph
        found = np.flatnonzero((g.head == item) & (g.tail == entity))
        return g.relations[int(g.relation[found[0]])] if len(found) else "related_to"

    def _key(self, entity: int) -> str:
        return self.graph.entities.ids[entity]

    def _label(self, entity: int) -> str:
        return str(self.graph.labels[entity])


def _words(relation: str) -> str:
    return relation.replace("_", " ")
