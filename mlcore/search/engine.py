"""The search engine: query understanding + BM25 + dense retrieval + hybrid merge + rules.

    engine = SearchEngine(SearchConfig(mode="hybrid+qu"), encoder).build(products_df)
    result = engine.search("samsung 27 inch monitor under 300", k=10)

Products need an ``id`` column plus the configured text fields; ``price`` (divided by
``price_scale``), the brand column and colour columns are used when present. Saved as
``config.json``, ``products.jsonl``, ``vectors.npy``, the BM25 token file, the category model
(``category/``) and, when the encoder was fine-tuned on the catalog, the encoder (``encoder/``); no pickle.
"""
from __future__ import annotations

import copy
import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from mlcore.data import IdMap
from mlcore.fusion.filters import Filters, filter_mask
from mlcore.fusion.rules import Rule, RuleContext, apply_rules
from mlcore.search.category import CategoryModel, CategorySettings
from mlcore.search.dense import DenseIndex
from mlcore.search.hybrid import Reranker, attribute_boosts, price_mask, rrf, weighted
from mlcore.search.lexical import BM25Index, field_texts
from mlcore.search.query import ParsedQuery, QueryConfig, QueryParser, normalize, tokenize

Mode = Literal["bm25", "dense", "hybrid", "hybrid+qu"]
QUERY_CACHE_SIZE = 4096  # distinct queries whose vectors an engine remembers


@dataclass(frozen=True)
class SearchConfig:
    """``mode``: bm25 / dense / hybrid (both, fused) / hybrid+qu (hybrid on the understood query with
    spelling fixes, synonyms, price filters, brand/colour boosts and category intent). ``fusion``: rrf
    or weighted. Repeating a name in ``lexical_fields`` weights that field (its words count twice in BM25);
    a wildcard name (``attr_t_*``) adds the text values of every matching attribute column.

    Category intent (hybrid+qu): each product gets a type label (leaf of ``category_column`` when the
    catalog has one, else the type phrase of ``title_column`` after ``brand_column`` and
    ``name_column``; see :mod:`mlcore.search.category`), the query gets a type distribution, and a
    product's score gains ``category_boost`` x P(its type) / P(top type), in units of one list's top
    score (1 with weighted fusion, 1 / (rrf_k + 1) with rrf; the profile weight likewise).
    ``category_weight`` > 0 also adds the top type's products nearest the query as a third fused list
    (weight x P(top type)).
    Brand-only queries ("samsung") skip the type guess and rely on the brand boost. The defaults are the
    settings ``benchmarks/search_chorus.py`` chooses by 5-fold cross-validation over the Chorus dev
    queries (1.19x BM25 NDCG@10 fold-averaged for the choice, 1.21x for these settings). The learned
    ranker (:mod:`mlcore.search.ltr`) beat them on 2 of 5 held-out folds only, and catalog fine-tuning and
    the cross-encoder re-rank had hurt on unseen queries: all stay off (p95 well under 50 ms on 19k products).
    """

    mode: Mode = "hybrid+qu"
    lexical_fields: tuple[str, ...] = ("title", "title", "short_description", "supplier", "attr_t_*")
    dense_fields: tuple[str, ...] = ("title", "short_description")
    brand_column: str = "supplier"
    colour_columns: tuple[str, ...] = ("attr_t_product_colour",)
    fusion: Literal["rrf", "weighted"] = "weighted"
    lexical_weight: float = 1.0
    dense_weight: float = 0.5
    rrf_k: float = 60.0
    bm25_k1: float = 1.5
    bm25_b: float = 0.5
    candidates: int = 100
    boost: float = 1.2
    price_scale: float = 1.0
    ann_threshold: int = 100_000
    query: QueryConfig = QueryConfig()
    synonyms: tuple[tuple[str, tuple[str, ...]], ...] = ()
    category_weight: float = 0.0
    category_boost: float = 0.2
    category_column: str = "category_path"
    title_column: str = "title"
    name_column: str = "name"
    category_min_count: int = 5
    category_temperature: float = 0.05
    category_assign_cosine: float = 0.75

    @property
    def category_settings(self) -> CategorySettings:
        return CategorySettings(category_column=self.category_column, title_column=self.title_column,
                                name_column=self.name_column, brand_column=self.brand_column,
                                min_count=self.category_min_count, temperature=self.category_temperature,
                                assign_min_cosine=self.category_assign_cosine)

    @property
    def uses_category(self) -> bool:
        return self.mode == "hybrid+qu" and (self.category_weight > 0 or self.category_boost > 0)

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
    """Holds the product table, a BM25 index, a dense index, a category model and a query parser."""

    def __init__(self, config: SearchConfig = SearchConfig(), encoder: Any = None,
                 reranker: Reranker | None = None) -> None:
        self.config = config
        self.encoder = encoder
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self.reranker = reranker
        self.products = pd.DataFrame()
        self.lexical: BM25Index | None = None
        self.dense: DenseIndex | None = None
        self.category: CategoryModel | None = None
        self.parser = QueryParser()
        self._items: tuple[pd.DataFrame, IdMap] | None = None

    @property
    def items(self) -> IdMap:
        """Product id <-> row, built once per product table (build, add and load replace the table)."""
        if self._items is None or self._items[0] is not self.products:
            self._items = (self.products, IdMap(self.products["id"].tolist()))
        return self._items[1]

    @property
    def needs_dense(self) -> bool:
        return self.config.mode != "bm25"

    def _encode(self, texts: list[str]) -> np.ndarray:
        if self.encoder is None:
            raise ValueError(f"mode {self.config.mode!r} needs a text encoder; pass encoder=TextEncoder.load()")
        return np.asarray(self.encoder.encode(texts), dtype=np.float32)

    def _query_vector(self, text: str) -> np.ndarray:
        """The encoder's vector of a query, remembered for the :data:`QUERY_CACHE_SIZE` latest distinct
        queries (storefront queries repeat heavily; encoding one costs ~20 ms of CPU). Shallow copies made
        by :meth:`with_config` share the cache: they share the encoder."""
        cache = self._query_vectors
        vector = cache.get(text)
        if vector is None:
            vector = self._encode([text])[0]
            cache[text] = vector
            if len(cache) > QUERY_CACHE_SIZE:
                cache.popitem(last=False)
        else:
            cache.move_to_end(text)
        return vector

    def build(self, products: pd.DataFrame, vectors: np.ndarray | None = None) -> SearchEngine:
        """Index ``products`` (needs ``id``); ``vectors`` (n, 384) skips encoding when given."""
        if "id" not in products.columns:
            raise ValueError(f"products need an 'id' column; found {list(products.columns)}")
        self.products = products.reset_index(drop=True).copy()
        self.products["id"] = self.products["id"].astype(str)
        self.lexical = self._lexical_index()
        if self.needs_dense:
            if vectors is None:
                vectors = self._encode(field_texts(self.products, self.config.dense_fields))
            self.dense = DenseIndex(vectors, ann_threshold=self.config.ann_threshold)
        if self.config.uses_category and self.dense is not None:
            self.category = CategoryModel.fit(self.products, self.dense.vectors, self._encode,
                                              self.config.category_settings)
        self._refresh_parser()
        return self

    def _lexical_index(self) -> BM25Index:
        cfg = self.config
        return BM25Index.from_texts(field_texts(self.products, cfg.lexical_fields), k1=cfg.bm25_k1, b=cfg.bm25_b,
                                    min_chars=cfg.query.min_token_chars)

    def _refresh_parser(self) -> None:
        assert self.lexical is not None
        brands: Iterable[str] = ()
        if self.config.brand_column in self.products.columns:
            brands = self.products[self.config.brand_column].dropna().astype(str).unique().tolist()
        self.parser = QueryParser(vocabulary=self.lexical.vocabulary, brands=brands,
                                  synonyms=dict(self.config.synonyms), config=self.config.query)

    def add_products(self, products: pd.DataFrame, vectors: np.ndarray | None = None) -> None:
        """Make new products searchable: dense vectors are appended; BM25 is re-indexed (bm25s has no add)."""
        new = products.reset_index(drop=True).copy()
        new["id"] = new["id"].astype(str)
        clash = set(new["id"]) & set(self.products["id"])
        if clash:
            raise ValueError(f"product id(s) already indexed: {sorted(clash)[:5]}; update them with build() instead")
        if self.needs_dense and self.dense is not None:
            if vectors is None:
                vectors = self._encode(field_texts(new, self.config.dense_fields))
            self.dense.add(vectors)
        if self.category is not None:
            self.category.extend(new, vectors)
        self.products = pd.concat([self.products, new], ignore_index=True)
        self.lexical = self._lexical_index()
        self._refresh_parser()

    def with_config(self, config: SearchConfig) -> SearchEngine:
        """A shallow copy answering queries with ``config`` over the same indexes (query-time settings:
        mode, weights, boosts, synonyms); the parser is rebuilt only when synonyms or query settings differ."""
        engine = copy.copy(self)
        engine.config = config
        if (config.synonyms, config.query) != (self.config.synonyms, self.config.query):
            engine._refresh_parser()
        return engine

    def _understand(self, text: str) -> tuple[ParsedQuery, np.ndarray | None, np.ndarray | None]:
        """The parsed query, its dense vector (None without dense retrieval) and type probabilities."""
        cfg = self.config
        if cfg.mode == "hybrid+qu":
            q = self.parser.parse(text)
        else:
            norm = normalize(text)
            toks = tuple(tokenize(norm, stopwords=cfg.query.stopwords, min_chars=cfg.query.min_token_chars))
            q = ParsedQuery(raw=text, text=norm, language="en", tokens=toks, corrected_tokens=toks,
                            expanded_tokens=toks)
        qvec = probs = None
        if cfg.mode != "bm25" and self.dense is not None and q.text:
            qtext = " ".join(q.corrected_tokens) if cfg.mode == "hybrid+qu" else q.text
            qvec = self._query_vector(qtext or q.text)
            if self.category is not None and cfg.uses_category and len(self.category.labels) and not self._brand_only(q):
                probs = self.category.predict(qvec)
                best = int(probs.argmax())
                q = replace(q, category=self.category.labels[best], category_score=float(probs[best]))
        return q, qvec, probs

    def _brand_only(self, q: ParsedQuery) -> bool:
        """True when the query is only the recognised brand ("samsung", "Samsung!")."""
        return bool(q.brand) and bool(q.corrected_tokens) and set(q.corrected_tokens) <= set(str(q.brand).split())

    def parse(self, text: str) -> ParsedQuery:
        """The understood query, with its category intent when the engine has a category model."""
        return self._understand(text)[0]

    def search(self, text: str, k: int = 10, user_profile: np.ndarray | None = None, profile_weight: float = 0.0,
               rules: Iterable[Rule] = (), *, bought: Iterable[str] = (), recent: Iterable[str] = (),
               context: str = "", filters: Filters | None = None, exclude: Iterable[str] = (),
               offset: int = 0) -> SearchResult:
        """Products ``offset`` to ``offset + k`` for ``text``. ``user_profile`` (384,) unit vector re-ranks by
        cosine with ``profile_weight``; ``rules`` are the recommendation business rules (filters, boosts,
        pins), with the shopper's ``bought`` / ``recent`` product ids for the exclude rules (unknown ids
        ignored) and the page ``context`` for pins limited to one page. ``filters`` (the request's own, see
        :func:`~mlcore.fusion.filter_mask`; ValueError for an unknown column) and ``exclude`` (product ids)
        drop candidates before ranking."""
        assert self.lexical is not None, "call build() first"
        cfg = self.config
        q, qvec, probs = self._understand(text)
        lists: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        n = cfg.candidates
        weights = {"bm25": cfg.lexical_weight, "dense": cfg.dense_weight}
        if cfg.mode != "dense":
            lists["bm25"] = self.lexical.search(q.expanded_tokens, n)
        if qvec is not None and self.dense is not None:
            lists["dense"] = self.dense.search(qvec, n)
        type_bonus = None
        if probs is not None and self.category is not None and self.dense is not None and qvec is not None:
            top = int(probs.argmax())
            in_type = np.flatnonzero(self.category.product_type == top)
            if len(in_type) and cfg.category_weight > 0:
                cos = self.dense.vectors[in_type] @ qvec
                best = np.argsort(-cos, kind="stable")[:n]
                lists["category"] = (in_type[best], cos[best])
                weights["category"] = cfg.category_weight * float(probs[top])
            type_bonus = np.where(self.category.product_type >= 0,
                                  probs[np.maximum(self.category.product_type, 0)] / probs[top], 0.0)
        fused = rrf(lists, weights, cfg.rrf_k) if cfg.fusion == "rrf" else weighted(lists, weights)
        unit = 1.0 / (cfg.rrf_k + 1) if cfg.fusion == "rrf" else 1.0  # a list's top score: additive bonuses' scale
        rows = np.fromiter(fused.keys(), dtype=np.int64, count=len(fused))
        scores = np.fromiter(fused.values(), dtype=np.float64, count=len(fused))
        exclude = [str(i) for i in exclude]
        if filters or exclude:
            allowed = filter_mask(self.products, filters or {})
            if exclude:
                allowed &= ~self.products["id"].astype(str).isin(exclude).to_numpy()
            rows, scores = rows[allowed[rows]], scores[allowed[rows]]
        reasons: list[list[str]] = [[] for _ in rows]
        if cfg.mode == "hybrid+qu" and len(rows):
            keep = price_mask(self.products, rows, q, cfg.price_scale)
            rows, scores = rows[keep], scores[keep]
            if type_bonus is not None and cfg.category_boost > 0:
                scores = scores + unit * cfg.category_boost * type_bonus[rows]
            mult, reasons = attribute_boosts(self.products, rows, q, colour_columns=cfg.colour_columns,
                                             brand_column=cfg.brand_column, factor=cfg.boost)
            if type_bonus is not None and q.category:
                for j in np.flatnonzero(type_bonus[rows] >= 0.5).tolist():
                    reasons[j].append(f"type {self.category.labels[self.category.product_type[rows[j]]]}")  # type: ignore[union-attr]
            scores = scores * mult
        if user_profile is not None and profile_weight and self.dense is not None and len(rows):
            cos = self.dense.vectors[rows] @ np.asarray(user_profile, dtype=np.float32)
            scores = scores + unit * profile_weight * cos
        if self.reranker is not None and len(rows):
            scores = np.asarray(self.reranker(q, rows, scores), dtype=np.float64)
        base_reasons = {int(r): rs for r, rs in zip(rows.tolist(), reasons, strict=False)}
        order = np.lexsort((rows, -scores))
        rows, scores = rows[order], scores[order]
        notes: tuple[tuple[str, ...], ...] = tuple(() for _ in rows)
        rules = list(rules)
        if rules:
            items = self.items

            def known(ids: Iterable[str]) -> frozenset[int]:
                cols = items.index([str(i) for i in ids])
                return frozenset(cols[cols >= 0].tolist())

            ctx = RuleContext(products=self.products, items=items, bought=known(bought), recent=known(recent),
                              context=context)
            ranked = apply_rules(rows, scores, rules, ctx)
            rows, scores, notes = ranked.items, ranked.scores, ranked.notes
        signal_maps = {name: dict(zip(idx.tolist(), sc.tolist(), strict=True)) for name, (idx, sc) in lists.items()}
        hits = []
        page = slice(offset, offset + k)
        for j, (r, s) in enumerate(zip(rows[page].tolist(), scores[page].tolist(), strict=True), start=offset):
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
        """Write the index to ``folder`` (json/npy/txt/safetensors; no pickle). A fine-tuned
        :class:`~mlcore.text.TextEncoder` (one with an ``adaptation``) is saved in ``encoder/``."""
        assert self.lexical is not None, "call build() first"
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text(json.dumps(asdict(self.config), indent=1))
        self.products.to_json(folder / "products.jsonl", orient="records", lines=True, force_ascii=False)
        self.lexical.save(folder / "bm25")
        if self.dense is not None:
            np.save(folder / "vectors.npy", self.dense.vectors)
        if self.category is not None:
            self.category.save(folder / "category")
        if getattr(self.encoder, "adaptation", None) and hasattr(self.encoder, "save"):
            self.encoder.save(folder / "encoder")

    @classmethod
    def load(cls, folder: Path, encoder: Any = None, reranker: Callable[..., np.ndarray] | None = None) -> SearchEngine:
        """Read an index written by :meth:`save`. With ``encoder`` None, the fine-tuned encoder saved in
        ``folder/encoder`` is loaded if there is one (queries must be encoded by the model that made
        the product vectors); pass an encoder to override."""
        folder = Path(folder)
        config = SearchConfig.from_dict(json.loads((folder / "config.json").read_text()))
        if encoder is None and (folder / "encoder" / "encoder.json").exists():
            from mlcore.text.encoder import TextEncoder

            encoder = TextEncoder.load(folder / "encoder")
        engine = cls(config, encoder, reranker)
        engine.products = pd.read_json(folder / "products.jsonl", orient="records", lines=True, dtype={"id": str})
        engine.products["id"] = engine.products["id"].astype(str)
        engine.lexical = BM25Index.load(folder / "bm25", k1=config.bm25_k1, b=config.bm25_b)
        if (folder / "vectors.npy").exists():
            engine.dense = DenseIndex(np.load(folder / "vectors.npy"), ann_threshold=config.ann_threshold)
        if (folder / "category" / "labels.json").exists():
            engine.category = CategoryModel.load(folder / "category", config.category_settings)
        engine._refresh_parser()
        return engine
