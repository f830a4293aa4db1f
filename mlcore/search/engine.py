"""The search engine: query understanding + BM25 + dense retrieval + hybrid merge + rules.

    engine = SearchEngine(SearchConfig(mode="hybrid+qu"), encoder).build(products_df)
    result = engine.search("samsung 27 inch monitor under 300", k=10)

Products need an ``id`` column plus the configured text fields; ``price`` (divided by
``price_scale``), the brand column and colour columns are used when present. Saved as
``config.json``, ``products.jsonl``, ``vectors.npy`` and the BM25 token file (no pickle).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from mlcore.data import IdMap
from mlcore.fusion.rules import Rule, RuleContext, apply_rules
from mlcore.search.dense import DenseIndex
from mlcore.search.hybrid import Reranker, attribute_boosts, price_mask, rrf, weighted
from mlcore.search.lexical import BM25Index, field_texts
from mlcore.search.query import ParsedQuery, QueryConfig, QueryParser, normalize, tokenize

Mode = Literal["bm25", "dense", "hybrid", "hybrid+qu"]


@dataclass(frozen=True)
class SearchConfig:
    """``mode``: bm25 / dense / hybrid (both, fused) / hybrid+qu (hybrid on the understood query with
    spelling fixes, synonyms, price filters and brand/colour boosts). ``fusion``: rrf or weighted.
    Repeating a name in ``lexical_fields`` weights that field (its words count twice in BM25)."""

    mode: Mode = "hybrid+qu"
    lexical_fields: tuple[str, ...] = ("title", "short_description", "supplier")
    dense_fields: tuple[str, ...] = ("title", "short_description")
    brand_column: str = "supplier"
    colour_columns: tuple[str, ...] = ("attr_t_product_colour",)
    fusion: Literal["rrf", "weighted"] = "rrf"
    lexical_weight: float = 1.0
    dense_weight: float = 1.0
    rrf_k: float = 60.0
    candidates: int = 100
    boost: float = 1.2
    price_scale: float = 1.0
    ann_threshold: int = 100_000
    query: QueryConfig = QueryConfig()
    synonyms: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __post_init__(self) -> None:
        if self.mode not in ("bm25", "dense", "hybrid", "hybrid+qu"):
            raise ValueError(f"mode must be bm25, dense, hybrid or hybrid+qu, not {self.mode!r}")
        if self.fusion not in ("rrf", "weighted"):
            raise ValueError(f"fusion must be rrf or weighted, not {self.fusion!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchConfig:
        d = dict(data)
        d["query"] = QueryConfig(**d.get("query", {}))
        d["synonyms"] = tuple((k, tuple(v)) for k, v in d.get("synonyms", ()))
        for key in ("lexical_fields", "dense_fields", "colour_columns"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)


@dataclass(frozen=True)
class SearchHit:
    """One result: product id, final score, per-signal scores and why it ranks."""

    product_id: str
    score: float
    signals: dict[str, float] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchResult:
    query: ParsedQuery
    hits: tuple[SearchHit, ...]
    suggestion: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query.to_dict(), "suggestion": self.suggestion, "hits": [asdict(h) for h in self.hits]}


class SearchEngine:
    """Holds the product table, a BM25 index, a dense index and a query parser."""

    def __init__(self, config: SearchConfig = SearchConfig(), encoder: Any = None,
                 reranker: Reranker | None = None) -> None:
        self.config = config
        self.encoder = encoder
        self.reranker = reranker
        self.products = pd.DataFrame()
        self.lexical: BM25Index | None = None
        self.dense: DenseIndex | None = None
        self.parser = QueryParser()

    @property
    def needs_dense(self) -> bool:
        return self.config.mode != "bm25"

    def _encode(self, texts: list[str]) -> np.ndarray:
        if self.encoder is None:
            raise ValueError(f"mode {self.config.mode!r} needs a text encoder; pass encoder=TextEncoder.load()")
        return np.asarray(self.encoder.encode(texts), dtype=np.float32)

    def build(self, products: pd.DataFrame, vectors: np.ndarray | None = None) -> SearchEngine:
        """Index ``products`` (needs ``id``); ``vectors`` (n, 384) skips encoding when given."""
        if "id" not in products.columns:
            raise ValueError(f"products need an 'id' column; found {list(products.columns)}")
        self.products = products.reset_index(drop=True).copy()
        self.products["id"] = self.products["id"].astype(str)
        self.lexical = BM25Index.from_texts(field_texts(self.products, self.config.lexical_fields))
        if self.needs_dense:
            if vectors is None:
                vectors = self._encode(field_texts(self.products, self.config.dense_fields))
            self.dense = DenseIndex(vectors, ann_threshold=self.config.ann_threshold)
        self._refresh_parser()
        return self

    def _refresh_parser(self) -> None:
        assert self.lexical is not None
        brands: Iterable[str] = ()
        if self.config.brand_column in self.products.columns:
            brands = self.products[self.config.brand_column].dropna().astype(str).unique().tolist()
        self.parser = QueryParser(vocabulary=self.lexical.vocabulary, brands=brands,
                                  synonyms=dict(self.config.synonyms), config=self.config.query)

    def add_products(self, products: pd.DataFrame, vectors: np.ndarray | None = None) -> None:
        """Make new products searchable: dense vectors are appended; BM25 is re-indexed (bm25s has no add)."""
        new = products.copy()
        new["id"] = new["id"].astype(str)
        clash = set(new["id"]) & set(self.products["id"])
        if clash:
            raise ValueError(f"product id(s) already indexed: {sorted(clash)[:5]}; update them with build() instead")
        if self.needs_dense and self.dense is not None:
            self.dense.add(vectors if vectors is not None else self._encode(field_texts(new, self.config.dense_fields)))
        self.products = pd.concat([self.products, new], ignore_index=True)
        self.lexical = BM25Index.from_texts(field_texts(self.products, self.config.lexical_fields))
        self._refresh_parser()

    def parse(self, text: str) -> ParsedQuery:
        if self.config.mode == "hybrid+qu":
            return self.parser.parse(text)
        norm = normalize(text)
        toks = tuple(tokenize(norm, stopwords=self.config.query.stopwords))
        return ParsedQuery(raw=text, text=norm, language="en", tokens=toks, corrected_tokens=toks, expanded_tokens=toks)

    def search(self, text: str, k: int = 10, user_profile: np.ndarray | None = None, profile_weight: float = 0.0,
               rules: Iterable[Rule] = ()) -> SearchResult:
        """Top ``k`` products for ``text``. ``user_profile`` (384,) unit vector re-ranks by cosine with
        ``profile_weight``; ``rules`` are the recommendation business rules (filters, boosts, pins)."""
        assert self.lexical is not None, "call build() first"
        cfg = self.config
        q = self.parse(text)
        lists: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        n = cfg.candidates
        if cfg.mode != "dense":
            lists["bm25"] = self.lexical.search(q.expanded_tokens, n)
        if cfg.mode != "bm25" and self.dense is not None and q.text:
            qtext = " ".join(q.corrected_tokens) if cfg.mode == "hybrid+qu" else q.text
            lists["dense"] = self.dense.search(self._encode([qtext or q.text])[0], n)
        weights = {"bm25": cfg.lexical_weight, "dense": cfg.dense_weight}
        fused = rrf(lists, weights, cfg.rrf_k) if cfg.fusion == "rrf" else weighted(lists, weights)
        rows = np.fromiter(fused.keys(), dtype=np.int64, count=len(fused))
        scores = np.fromiter(fused.values(), dtype=np.float64, count=len(fused))
        reasons: list[list[str]] = [[] for _ in rows]
        if cfg.mode == "hybrid+qu" and len(rows):
            keep = price_mask(self.products, rows, q, cfg.price_scale)
            rows, scores = rows[keep], scores[keep]
            mult, reasons = attribute_boosts(self.products, rows, q, colour_columns=cfg.colour_columns,
                                             brand_column=cfg.brand_column, factor=cfg.boost)
            scores = scores * mult
        if user_profile is not None and profile_weight and self.dense is not None and len(rows):
            scores = scores + profile_weight * (self.dense.vectors[rows] @ np.asarray(user_profile, dtype=np.float32))
        if self.reranker is not None and len(rows):
            scores = np.asarray(self.reranker(q, rows, scores), dtype=np.float64)
        base_reasons = {int(r): rs for r, rs in zip(rows.tolist(), reasons, strict=False)}
        order = np.lexsort((rows, -scores))
        rows, scores = rows[order], scores[order]
        notes: tuple[tuple[str, ...], ...] = tuple(() for _ in rows)
        rules = list(rules)
        if rules:
            ctx = RuleContext(products=self.products, items=IdMap(self.products["id"].tolist()))
            ranked = apply_rules(rows, scores, rules, ctx)
            rows, scores, notes = ranked.items, ranked.scores, ranked.notes
        signal_maps = {name: dict(zip(idx.tolist(), sc.tolist(), strict=True)) for name, (idx, sc) in lists.items()}
        hits = []
        for j, (r, s) in enumerate(zip(rows[:k].tolist(), scores[:k].tolist(), strict=True)):
            sig = {name: float(m[r]) for name, m in signal_maps.items() if r in m}
            why = [f"{name} match" for name in sig] + base_reasons.get(r, []) + list(notes[j] if j < len(notes) else ())
            hits.append(SearchHit(str(self.products["id"].iat[r]), float(s), sig, tuple(why)))
        suggestion = q.corrected_text if (not hits or q.corrections) and q.corrected_text != " ".join(q.tokens) else None
        if not hits and suggestion is None and q.tokens:
            fixed = [self.parser.correct(t) or t for t in q.tokens]
            suggestion = " ".join(fixed) if fixed != list(q.tokens) else None
        return SearchResult(q, tuple(hits), suggestion)

    # -- persistence ------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write the index to ``folder`` (json/npy/txt; no pickle)."""
        assert self.lexical is not None, "call build() first"
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text(json.dumps(asdict(self.config), indent=1))
        self.products.to_json(folder / "products.jsonl", orient="records", lines=True, force_ascii=False)
        self.lexical.save(folder / "bm25")
        if self.dense is not None:
            np.save(folder / "vectors.npy", self.dense.vectors)

    @classmethod
    def load(cls, folder: Path, encoder: Any = None, reranker: Callable[..., np.ndarray] | None = None) -> SearchEngine:
        folder = Path(folder)
        config = SearchConfig.from_dict(json.loads((folder / "config.json").read_text()))
        engine = cls(config, encoder, reranker)
        engine.products = pd.read_json(folder / "products.jsonl", orient="records", lines=True, dtype={"id": str})
        engine.products["id"] = engine.products["id"].astype(str)
        engine.lexical = BM25Index.load(folder / "bm25")
        if (folder / "vectors.npy").exists():
            engine.dense = DenseIndex(np.load(folder / "vectors.npy"), ann_threshold=config.ann_threshold)
        engine._refresh_parser()
        return engine
