"""Optional cross-encoder re-rank of a search's top candidates, trained from the catalog alone.

    reranker = train_reranker(engine, RerankConfig(), cache_dir=Path("var/search-cache"))
    engine.reranker = reranker            # or SearchEngine(config, encoder, reranker=reranker)

Training groups come from :func:`mlcore.text.catalog_pairs.catalog_pairs` (type label, brand + type,
model name -> product text); the negatives of a group are BM25's best products for the anchor that
carry another type label (hard negatives: "notebook" finds notebook cases), so the model learns what
the type words of a query ask for. Scores: the top ``top`` candidates are re-ordered by
``weight`` x the cross-encoder logit (min-max scaled) + (1 - ``weight``) x the fused score (min-max
scaled) and stay above the rest. The cross-encoder costs one forward pass per candidate: latency grows
with ``top``.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlcore.search.category import derive_labels
from mlcore.search.lexical import field_texts
from mlcore.search.query import ParsedQuery, normalize, tokenize
from mlcore.text.catalog_pairs import CatalogPairConfig, catalog_pairs
from mlcore.text.cross_encoder import CrossEncoder, CrossEncoderTrainConfig


@dataclass(frozen=True)
class RerankConfig:
    """Re-rank ``top`` candidates; train ``train.steps`` steps on groups with ``negatives`` hard negatives."""

    top: int = 20
    weight: float = 0.3
    negatives: int = 3
    groups: int = 4000
    train: CrossEncoderTrainConfig = CrossEncoderTrainConfig(steps=80)
    pairs: CatalogPairConfig = CatalogPairConfig(name_anchor=False, max_pairs=4000)


class CrossEncoderReranker:
    """The :data:`mlcore.search.hybrid.Reranker` hook: ``(query, rows, scores) -> scores``.

    ``texts`` is the product text of every engine row (keep it in step with ``add_products``)."""

    def __init__(self, model: CrossEncoder, texts: Sequence[str], config: RerankConfig = RerankConfig()) -> None:
        self.model = model
        self.texts = list(texts)
        self.config = config

    def __call__(self, query: ParsedQuery, rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
        scores = np.asarray(scores, dtype=np.float64)
        text = query.corrected_text or query.text
        if not len(rows) or not text or self.config.top <= 0:
            return scores
        top = np.lexsort((rows, -scores))[: self.config.top]
        logits = self.model.score(text, [self.texts[int(r)] for r in rows[top]]).astype(np.float64)
        out = scores.copy()
        mixed = self.config.weight * _minmax(logits) + (1 - self.config.weight) * _minmax(scores[top])
        out[top] = scores.max() + 1.0 + mixed
        return out


def rerank_groups(engine: Any, config: RerankConfig = RerankConfig()) -> tuple[list[str], list[str], list[list[str]]]:
    """(queries, positives, negatives) mined from ``engine``'s products and BM25 index."""
    cfg = engine.config
    products = engine.products
    texts = field_texts(products, cfg.dense_fields)
    labels = derive_labels(products, cfg.category_settings)
    brands = products[cfg.brand_column].fillna("").astype(str).tolist() if cfg.brand_column in products else []
    names = products[cfg.name_column].fillna("").astype(str).tolist() if cfg.name_column in products else []
    anchors, positives = catalog_pairs(texts, labels, brands, names, config.pairs)
    row_of = {t: i for i, t in enumerate(texts)}
    rng = np.random.default_rng(config.train.seed)
    queries: list[str] = []
    pos: list[str] = []
    negs: list[list[str]] = []
    for anchor, positive in zip(anchors[: config.groups], positives[: config.groups], strict=True):
        row = row_of[positive]
        hits, _ = engine.lexical.search(tokenize(normalize(anchor), min_chars=engine.config.query.min_token_chars), 30)
        # a negative must carry a known type other than the positive's: unlabelled ones may be the same type
        pool = [int(h) for h in hits if labels[int(h)] not in (None, labels[row]) and texts[int(h)] != positive]
        others = [int(j) for j in rng.permutation(len(texts))[: 4 * config.negatives + 8]]
        pool += [j for j in others if j not in pool and texts[j] != positive
                 and labels[j] not in (None, labels[row])][: max(0, config.negatives - len(pool))]
        if len(pool) < config.negatives:
            continue
        pick = rng.permutation(len(pool))[: config.negatives]
        queries.append(anchor)
        pos.append(positive)
        negs.append([texts[pool[j]] for j in pick])
    return queries, pos, negs


def train_reranker(engine: Any, config: RerankConfig = RerankConfig(), cache_dir: Path | None = None,
                   callback: Any = None) -> CrossEncoderReranker:
    """A cross-encoder re-ranker for ``engine``'s catalog; cached under ``cache_dir/ce-<hash>``."""
    texts = field_texts(engine.products, engine.config.dense_fields)
    folder = None
    if cache_dir is not None:
        cfg = engine.config
        training = [config.negatives, config.groups, asdict(config.train), asdict(config.pairs)]  # not top/weight
        h = hashlib.sha256(json.dumps([training, cfg.lexical_fields, cfg.dense_fields,
                                       asdict(cfg.category_settings)]).encode())
        for t in texts:
            h.update(t.encode("utf-8", "replace") + b"\0")
        folder = Path(cache_dir) / f"ce-{h.hexdigest()[:16]}"
        if (folder / "cross_encoder.json").exists():
            return CrossEncoderReranker(CrossEncoder.load(folder), texts, config)
    model = CrossEncoder.load(None)
    queries, positives, negatives = rerank_groups(engine, config)
    model.train(queries, positives, negatives, config.train, callback)
    if folder is not None:
        model.save(folder)
    return CrossEncoderReranker(model, texts, config)


def _minmax(x: np.ndarray) -> np.ndarray:
    span = float(x.max() - x.min()) if len(x) else 0.0
    return (x - x.min()) / span if span > 0 else np.ones_like(x)
