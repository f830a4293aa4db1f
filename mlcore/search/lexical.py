"""BM25 over chosen product fields with ``bm25s`` (English stopwords; tokens as in :func:`query.tokenize`).

bm25s has no incremental add: :meth:`BM25Index.build` re-indexes (about a second for 20k products).
"""
from __future__ import annotations

import fnmatch
import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import bm25s
import numpy as np
import pandas as pd

from mlcore.search.query import normalize, tokenize

# bm25s sets its own logger to DEBUG when imported, which printed a line per index build into the worker's log.
logging.getLogger("bm25s").setLevel(logging.WARNING)


def field_texts(products: pd.DataFrame, fields: Sequence[str]) -> list[str]:
    """One string per product: the present ``fields`` joined by spaces (missing values skipped).

    A field with a wildcard (``attr_t_*``) stands for all matching columns: their text values, in
    column order, without the bare numbers ("4.0" cores says nothing a shopper types)."""
    cols = []
    for f in fields:
        if any(ch in f for ch in "*?["):
            matched = [c for c in products.columns if fnmatch.fnmatchcase(str(c), f)]
            if matched:
                cols.append(_values_text(products[matched]))
        elif f in products.columns:
            cols.append(products[f].fillna("").astype(str))
    if not cols:
        raise ValueError(f"none of the search fields {list(fields)} is a products column; found {list(products.columns)}")
    out = cols[0]
    for c in cols[1:]:
        out = out + " " + c
    return out.tolist()


def _values_text(frame: pd.DataFrame) -> pd.Series:
    """Each row's non-empty, non-numeric cell values joined by spaces."""
    cells = cast(pd.Series, frame.stack().dropna())  # (row, column) -> value
    cells = cells[pd.to_numeric(cells, errors="coerce").isna()].astype(str)
    cells = cells[cells.str.strip() != ""]
    joined = cells.groupby(level=0, sort=False).agg(" ".join)
    return joined.reindex(frame.index, fill_value="")


class BM25Index:
    """BM25 over token lists; row i = product i."""

    def __init__(self, corpus_tokens: list[list[str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.corpus_tokens = corpus_tokens
        self.k1, self.b = k1, b
        self.retriever = bm25s.BM25(k1=k1, b=b)
        self.retriever.index([t or [""] for t in corpus_tokens], show_progress=False)
        self.vocabulary: Counter[str] = Counter(t for doc in corpus_tokens for t in set(doc))

    @classmethod
    def from_texts(cls, texts: Sequence[str], k1: float = 1.5, b: float = 0.75, min_chars: int = 2) -> BM25Index:
        return cls([tokenize(normalize(t), min_chars=min_chars) for t in texts], k1=k1, b=b)

    def __len__(self) -> int:
        return len(self.corpus_tokens)

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every product, float32 (n,); unknown tokens are ignored."""
        known = [t for t in query_tokens if t in self.vocabulary]
        if not known:
            return np.zeros(len(self), dtype=np.float32)
        return np.asarray(self.retriever.get_scores(known), dtype=np.float32)

    def search(self, query_tokens: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` products with a positive score: (indices int64, scores float32), best first."""
        s = self.scores(query_tokens)
        return top_k(s, k, positive=True)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "tokens.txt").write_text("\n".join(" ".join(t) for t in self.corpus_tokens), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, k1: float = 1.5, b: float = 0.75) -> BM25Index:
        lines = (folder / "tokens.txt").read_text(encoding="utf-8").split("\n")
        return cls([line.split() for line in lines], k1=k1, b=b)


def top_k(scores: np.ndarray, k: int, *, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest scores, best first (ties by index)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    idx = np.argpartition(-scores, k - 1)[:k]
    idx = idx[np.lexsort((idx, -scores[idx]))]
    if positive:
        idx = idx[scores[idx] > 0]
    return idx.astype(np.int64), scores[idx].astype(np.float32)
