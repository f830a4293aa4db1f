"""``kg``: the knowledge-graph recommender — propagation over shopper → item → entity → item.

Fitting builds the product knowledge graph (:func:`~mlcore.graph.build_graph`)
from the catalog and the training events, turns it into item–entity vectors
(:func:`~mlcore.graph.item_features`) and keeps each shopper's recency-weighted
recent items. Scores are the two-step walk of :func:`~mlcore.graph.propagate_scores`;
:meth:`KGRecommender.explain` returns the path that contributes most.

Artifacts: ``arrays.npz`` with the graph (``kg_*``: entity keys, labels, kinds,
relations, edges, weights) and the profile matrix (``profile_*`` CSR parts).
Item vectors are recomputed from the graph on load (milliseconds). ``basket_sessions``
(n_items,) counts the baskets each item is in, so a ``bought_together`` edge's
cosine gives back its basket count (:mod:`mlcore.serving.related`); bundles written before
it existed load with it empty.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

import numpy as np
import scipy.sparse as sp

from mlcore.data import Dataset
from mlcore.graph import (
    ExplanationPath,
    GraphConfig,
    KnowledgeGraph,
    PathFinder,
    PropagationConfig,
    behaviour_events,
    build_graph,
    item_features,
    propagate_scores,
    recent_item_weights,
    session_ids,
)
from mlcore.recommenders.base import Recommender, register
from mlcore.recommenders.cost import Cost, Workload
from mlcore.runtime import Callback


@dataclass(frozen=True)
class KGConfig:
    """Graph construction, relation weights and shopper profiles.

    A shopper's k-th most recent distinct item weighs ``recency_decay ** k``
    (times its event-type weight); only the last ``recent_items`` count. The defaults
    (long memory, 50 co-purchase partners, ``self_weight`` 3) were the best of a small
    grid on Online Retail's 2011-11-01 temporal split (NDCG@10 0.257 → 0.280).
    """

    graph: GraphConfig = field(default_factory=GraphConfig)
    propagation: PropagationConfig = field(default_factory=PropagationConfig)
    recent_items: int = 100
    recency_decay: float = 0.98

    def __post_init__(self) -> None:
        # meta.json gives nested configs back as dicts.
        if isinstance(self.graph, dict):
            object.__setattr__(self, "graph", GraphConfig(**self.graph))
        if isinstance(self.propagation, dict):
            object.__setattr__(self, "propagation", PropagationConfig(**self.propagation))


@register
class KGRecommender(Recommender):
    """Item–entity–item propagation over the product knowledge graph, with explanation paths."""

    name = "kg"
    Config = KGConfig
    config: KGConfig

    def __init__(self, config: KGConfig | None = None) -> None:
        super().__init__(config)
        self.graph: KnowledgeGraph | None = None
        self.profiles = sp.csr_matrix((0, 0), dtype=np.float32)
        self.features = sp.csr_matrix((0, 0), dtype=np.float32)
        self.basket_sessions = np.zeros(0, dtype=np.float32)
        self._paths: PathFinder | None = None

    def fit(self, data: Dataset, callback: Callback | None = None) -> Self:
        cb = self._callback(callback)
        self._bind(data)
        cb.progress(phase="graph", done=0, total=2)
        self.graph = build_graph(data, self.config.graph)
        cb.log(f"kg: graph {self.graph.summary()}")
        cb.check()
        self.profiles = recent_item_weights(data, self.config.recent_items, self.config.recency_decay)
        self.basket_sessions = basket_sessions(data, self.config.graph.gap_minutes, self.config.graph.max_basket)
        self._prepare()
        cb.progress(phase="graph", done=2, total=2)
        return self

    @classmethod
    def cost(cls, workload: Workload, config: KGConfig | None = None) -> Cost:
        partners = (config if config is not None else KGConfig()).graph.co_purchase_top_k
        # sessions, co-occurrence edges and item–entity features: about 300 bytes an event
        # and 23 µs an event on 2 CPU cores (benchmarks/scale.py, 10k products, 500k events)
        return Cost(
            peak_bytes=workload.matrix_bytes + 200 * workload.events,
            model_bytes=workload.csr_bytes + 2 * 12 * workload.n_items * partners,
            seconds=2.3e-5 * workload.events,
            note="lower kg graph.co_purchase_top_k",
        )

    def _prepare(self) -> None:
        assert self.graph is not None
        self.features = item_features(self.graph, self.config.propagation)
        self._paths = PathFinder(self.graph, self.features)

    # -- scoring -------------------------------------------------------------------
    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        known = (users >= 0) & (users < self.profiles.shape[0])
        n = self.n_items if items is None else len(items)
        out = np.zeros((len(users), n), dtype=np.float32)
        if known.any():
            out[known] = propagate_scores(self.profiles[users[known]], self.features, items)
        return out

    def similar_items(self, items: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Graph neighbours: (indices int64, cosines float32), each (len(items), k), the item itself left out."""
        items = np.asarray(items, dtype=np.int64)
        sims = (self.features[items] @ self.features.T).toarray()
        sims[np.arange(len(items)), items] = -np.inf
        k = min(k, self.n_items - 1)
        order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        return order, np.take_along_axis(sims, order, axis=1).astype(np.float32)

    def explain(self, user: int, item: int) -> ExplanationPath | None:
        """The strongest path from user row ``user``'s history to item column ``item``; None if unlinked."""
        if self._paths is None or self.users is None:
            raise RuntimeError("kg: fit or load the model first")
        if not 0 <= user < self.profiles.shape[0]:
            return None
        return self._paths.explain(self.users.ids[user], self.profiles[user], int(item))

    # -- artifacts -----------------------------------------------------------------
    def _save_arrays(self) -> dict[str, np.ndarray]:
        if self.graph is None:
            raise RuntimeError("kg: nothing to save, the model is not fitted")
        p = self.profiles
        return {
            **self.graph.to_arrays(),
            "profile_data": p.data,
            "profile_indices": p.indices,
            "profile_indptr": p.indptr,
            "profile_shape": np.asarray(p.shape, dtype=np.int64),
            "basket_sessions": self.basket_sessions,
        }

    def _load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.graph = KnowledgeGraph.from_arrays(arrays)
        shape = tuple(int(s) for s in arrays["profile_shape"])
        self.profiles = sp.csr_matrix(
            (arrays["profile_data"], arrays["profile_indices"], arrays["profile_indptr"]), shape=shape
        )
        self.basket_sessions = arrays.get("basket_sessions", np.zeros(0, dtype=np.float32)).astype(np.float32)
        self._prepare()


def basket_sessions(data: Dataset, gap_minutes: float, max_basket: int) -> np.ndarray:
    """(n_items,) float32: baskets holding each item, counted as :func:`~mlcore.graph.co_occurrence` counts them
    (sessions of 2..``max_basket`` distinct items), so ``n_ij = cosine_ij · sqrt(s_i s_j)`` for its edges."""
    frame = behaviour_events(data)
    if frame.empty:
        return np.zeros(data.n_items, dtype=np.float32)
    frame = frame.assign(session=session_ids(frame, gap_minutes)).drop_duplicates(["session", "item"])
    sizes = frame.groupby("session")["item"].transform("size").to_numpy()
    items = frame["item"].to_numpy()[(sizes >= 2) & (sizes <= max_basket)]
    return np.bincount(items, minlength=data.n_items).astype(np.float32)


__all__ = ["KGConfig", "KGRecommender", "basket_sessions"]
