"""A learned search ranker: LightGBM lambdarank over a search's top candidates, trained on graded judgements.

    ranker = LearnedRanker.train(engine, queries, grades, RankerConfig())   # grades: query -> product -> 0..3
    engine.reranker = ranker                                                 # the engine's re-rank hook

Why LightGBM: well kept, fast on CPU, and its lambdarank objective optimises NDCG directly from graded
labels (gain 2^grade - 1), with per-feature trees that need no scaling. Features of a candidate (see
:data:`FEATURES`): the engine's fused score and rank, BM25 over the whole text and over each field
(title, short description, brand, attribute values), the dense cosine, the category intent (the
probability of the product's type relative to the query's top type, and whether it is that type),
brand and colour matches, price fit (has a price, inside the query's range, log price), the share of
query words in the title, the query's length, the product's age (``date_released``) and, when the
catalogue has one, a ``popularity`` column (click or sales counts). Unjudged candidates count grade 0.
The top ``top`` candidates of the engine are re-ordered and stay above the rest.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlcore.search.lexical import BM25Index, field_texts
from mlcore.search.query import ParsedQuery, normalize, tokenize

FIELDS = (("title", ("title",)), ("description", ("short_description",)), ("brand", ("supplier",)),
          ("attributes", ("attr_t_*",)))
FEATURES = ("fused", "rank", "bm25", *(f"bm25_{name}" for name, _ in FIELDS), "dense", "type_prob", "is_top_type",
            "brand_match", "colour_match", "has_price", "in_price_range", "log_price", "title_coverage",
            "query_tokens", "age_years", "popularity")


@dataclass(frozen=True)
class RankerConfig:
    """``top`` candidates re-ranked; LightGBM lambdarank with ``rounds`` trees of ``leaves`` leaves."""

    top: int = 50
    rounds: int = 150
    leaves: int = 7
    learning_rate: float = 0.05
    min_data_in_leaf: int = 20
    feature_fraction: float = 0.8
    seed: int = 0


class Features:
    """Computes :data:`FEATURES` for an engine's candidates (per-field BM25 indexes built once)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        products = engine.products
        k1, b, min_chars = engine.config.bm25_k1, engine.config.bm25_b, engine.config.query.min_token_chars
        self.fields: dict[str, BM25Index | None] = {}
        for name, cols in FIELDS:
            try:
                self.fields[name] = BM25Index.from_texts(field_texts(products, cols), k1=k1, b=b, min_chars=min_chars)
            except ValueError:  # the catalogue lacks that field
                self.fields[name] = None
        self.titles = [set(tokenize(normalize(t), min_chars=1)) for t in field_texts(products, ("title",))] \
            if "title" in products.columns else [set() for _ in range(len(products))]
        self.price = pd.to_numeric(products["price"], errors="coerce").to_numpy(np.float64) / engine.config.price_scale \
            if "price" in products.columns else np.full(len(products), np.nan)
        released = pd.to_datetime(products["date_released"], errors="coerce", utc=True) \
            if "date_released" in products.columns else pd.Series(pd.NaT, index=products.index)
        newest = released.max()
        self.age = ((newest - released).dt.days.to_numpy(np.float64) / 365.25) if pd.notna(newest) \
            else np.full(len(products), np.nan)
        self.popularity = pd.to_numeric(products["popularity"], errors="coerce").to_numpy(np.float64) \
            if "popularity" in products.columns else np.full(len(products), np.nan)

    def __call__(self, q: ParsedQuery, rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """(len(rows), len(FEATURES)) float32 for candidate ``rows`` with fused ``scores``."""
        eng = self.engine
        rows = np.asarray(rows, dtype=np.int64)
        out = np.full((len(rows), len(FEATURES)), np.nan, dtype=np.float64)
        col = {name: j for j, name in enumerate(FEATURES)}
        order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
        rank = np.empty(len(rows)); rank[order] = np.arange(1, len(rows) + 1)  # noqa: E702
        out[:, col["fused"]], out[:, col["rank"]] = scores, rank
        tokens = q.expanded_tokens or q.tokens
        out[:, col["bm25"]] = eng.lexical.scores(tokens)[rows]
        for name, index in self.fields.items():
            if index is not None:
                out[:, col[f"bm25_{name}"]] = index.scores(tokens)[rows]
        qtext = " ".join(q.corrected_tokens) or q.text
        if eng.dense is not None and eng.encoder is not None and qtext:
            qvec = eng._query_vector(qtext)
            out[:, col["dense"]] = eng.dense.vectors[rows] @ qvec
            if eng.category is not None and len(eng.category.labels) and not eng._brand_only(q):
                probs = eng.category.predict(qvec)
                types = eng.category.product_type[rows]
                top = int(probs.argmax())
                out[:, col["type_prob"]] = np.where(types >= 0, probs[np.maximum(types, 0)] / probs[top], 0.0)
                out[:, col["is_top_type"]] = types == top
        products = eng.products
        brand_col = eng.config.brand_column
        if q.brand and brand_col in products.columns:
            brands = products[brand_col].iloc[rows].fillna("").astype(str).map(normalize).to_numpy()
            out[:, col["brand_match"]] = brands == q.brand
        colours = [c for c in eng.config.colour_columns if c in products.columns]
        if q.colours and colours:
            values = products[colours].iloc[rows].fillna("").astype(str).agg(" ".join, axis=1).map(normalize)
            out[:, col["colour_match"]] = [any(c in v for c in q.colours) for v in values]
        price = self.price[rows]
        out[:, col["has_price"]] = ~np.isnan(price)
        inside = ~np.isnan(price)
        if q.price_min is not None:
            inside &= price >= q.price_min
        if q.price_max is not None:
            inside &= price <= q.price_max
        out[:, col["in_price_range"]] = inside if (q.price_min is not None or q.price_max is not None) else np.nan
        out[:, col["log_price"]] = np.log1p(np.maximum(price, 0))
        words = set(q.corrected_tokens)
        out[:, col["title_coverage"]] = [len(words & self.titles[r]) / len(words) if words else 0.0 for r in rows.tolist()]
        out[:, col["query_tokens"]] = len(q.corrected_tokens)
        out[:, col["age_years"]] = self.age[rows]
        out[:, col["popularity"]] = np.log1p(np.maximum(self.popularity[rows], 0))
        return out.astype(np.float32)


class _Capture:
    """A re-rank hook that records each search's candidates and leaves the order alone."""

    def __init__(self, top: int) -> None:
        self.top = top
        self.last: tuple[ParsedQuery, np.ndarray, np.ndarray] | None = None

    def __call__(self, q: ParsedQuery, rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
        keep = np.lexsort((rows, -scores))[: self.top]
        self.last = (q, rows[keep].copy(), np.asarray(scores, dtype=np.float64)[keep].copy())
        return scores


def candidate_groups(engine: Any, queries: Sequence[str], top: int) -> list[tuple[ParsedQuery, np.ndarray, np.ndarray]]:
    """For each query, the engine's top ``top`` candidates before any re-rank: (parsed, rows, fused scores)."""
    saved, capture = engine.reranker, _Capture(top)
    engine.reranker = capture
    groups = []
    try:
        for text in queries:
            capture.last = None
            result = engine.search(text, k=1)
            groups.append(capture.last or (result.query, np.zeros(0, np.int64), np.zeros(0)))
    finally:
        engine.reranker = saved
    return groups


def training_groups(engine: Any, features: Features, queries: Sequence[str], grades: Sequence[Mapping[str, int]],
                    top: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per query, the feature rows of the engine's top ``top`` candidates and their grades (0 unjudged)."""
    ids = engine.products["id"].astype(str).to_numpy()
    xs, ys = [], []
    for (q, rows, scores), g in zip(candidate_groups(engine, queries, top), grades, strict=True):
        xs.append(features(q, rows, scores))
        ys.append(np.array([int(g.get(str(p), 0)) for p in ids[rows]], dtype=np.int64))
    return xs, ys


def fit_lambdarank(xs: Sequence[np.ndarray], ys: Sequence[np.ndarray], config: RankerConfig = RankerConfig()) -> Any:
    """A LightGBM lambdarank model on query groups (features ``xs[i]`` (n_i, len(FEATURES)), grades
    ``ys[i]`` (n_i,)); groups without a grade above 0 teach no order and are left out (ValueError if all are)."""
    import lightgbm as lgb

    keep = [i for i, y in enumerate(ys) if len(y) and int(np.max(y)) > 0]
    if not keep:
        raise ValueError("no training query has a judged relevant product among the candidates; "
                         "add graded judgements (grade > 0) for the engine's top results")
    model = lgb.LGBMRanker(objective="lambdarank", n_estimators=config.rounds, num_leaves=config.leaves,
                           learning_rate=config.learning_rate, min_child_samples=config.min_data_in_leaf,
                           colsample_bytree=config.feature_fraction, random_state=config.seed, n_jobs=1,
                           verbose=-1, deterministic=True)
    model.fit(np.vstack([xs[i] for i in keep]), np.concatenate([ys[i] for i in keep]),
              group=[len(ys[i]) for i in keep])
    return model


class LearnedRanker:
    """The :data:`~mlcore.search.hybrid.Reranker` hook of a trained lambdarank model."""

    def __init__(self, model: Any, features: Features, config: RankerConfig) -> None:
        self.model, self.features, self.config = model, features, config

    @classmethod
    def train(cls, engine: Any, queries: Sequence[str], grades: Sequence[Mapping[str, int]],
              config: RankerConfig = RankerConfig(), features: Features | None = None) -> LearnedRanker:
        """Fit on ``queries`` (texts) with ``grades`` (product id -> grade, one mapping per query) over
        the engine's candidates. ValueError when no query has a candidate with a grade above 0."""
        if len(queries) != len(grades):
            raise ValueError(f"{len(queries)} queries but {len(grades)} grade maps; give one per query")
        feats = features or Features(engine)
        xs, ys = training_groups(engine, feats, queries, grades, config.top)
        return cls(fit_lambdarank(xs, ys, config), feats, config)
    def __call__(self, q: ParsedQuery, rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
        scores = np.asarray(scores, dtype=np.float64)
        if not len(rows):
            return scores
        top = np.lexsort((rows, -scores))[: self.config.top]
        learned = np.asarray(self.model.predict(self.features(q, rows[top], scores[top])), dtype=np.float64)
        out = scores.copy()
        out[top] = scores.max() + 1.0 + (learned - learned.min())  # re-ranked candidates stay above the rest
        return out

    def importance(self) -> dict[str, float]:
        """Total gain of each feature, normalised to sum 1 (what the ranker relies on)."""
        gain = np.asarray(self.model.booster_.feature_importance(importance_type="gain"), dtype=np.float64)
        total = gain.sum() or 1.0
        return {name: float(v / total) for name, v in zip(FEATURES, gain, strict=True)}


__all__ = ["FEATURES", "Features", "LearnedRanker", "RankerConfig", "candidate_groups", "fit_lambdarank",
           "training_groups"]
