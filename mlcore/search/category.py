"""Category intent: a product-type label per product and a query -> type classifier.

Labels come from the catalog itself. A catalog with a category column (``category_path``, paths
joined by " > ") uses its leaf category. Otherwise a *type phrase* is read from each title: Icecat-like
titles run "{brand} {model name} {type phrase} {specs}" ("HP 255 G7 Notebook Silver 39.6 cm ..."), so
the brand prefix and the model name are removed and the leading words are kept up to the first number,
colour or filler word ("notebook"). Phrases are cut to the longest prefix (<= ``max_words`` words)
shared by at least ``min_count`` products; rarer ones stay unlabelled.

The classifier is nearest-centroid on the dense vectors: a type's centroid is the mean of its products'
unit vectors plus the vector of the label text itself (so short queries, which look more like labels
than like product texts, land near it). ``predict`` gives a softmax over cosines at ``temperature``.
Unlabelled products take the type of their nearest centroid when its cosine is >= ``assign_min_cosine``.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mlcore.search.query import COLOURS, UNITS, normalize

FILLER = frozenset({
    "original", "pc", "pcs", "with", "for", "and", "the", "of", "in", "to", "plus", "new", "by", "on", "from", "or",
    "cyan", "magenta", "multicolour", "multicolor", "colour", "color", "edition", "version", "series", "set",
})
WORD = re.compile(r"[a-z][a-z\-/&+]*[a-z]|[a-z]")


@dataclass(frozen=True)
class CategorySettings:
    """Where labels come from and how the classifier decides (see the module docstring)."""

    category_column: str = "category_path"
    title_column: str = "title"
    name_column: str = "name"
    brand_column: str = "supplier"
    min_count: int = 5
    max_words: int = 2
    temperature: float = 0.05
    assign_min_cosine: float = 0.75


def path_leaf(path: object) -> str | None:
    """The last part of a category path ("Home > Kitchen > Mugs" -> "mugs"), or None when empty."""
    if path is None or (isinstance(path, float) and np.isnan(path)):
        return None
    leaf = normalize(str(path).split(">")[-1])
    return leaf or None


def type_phrase(title: str, brand: str = "", name: str = "", *, max_words: int = 3) -> tuple[str | None, str | None]:
    """The product-type words of an Icecat-like title: after brand and model name, before the specs.

    Returns ``(phrase, fallback)``. The phrase's first word may have any case; it goes on over
    lower-case words only (the attribute values after the type are capitalised: "keyboard USB
    QWERTY"). When nothing follows the model name, ``fallback`` is the last plain word of the name
    ("Compaq 6530b Notebook PC" -> "notebook"), to be used only if it is a known type.

    >>> type_phrase("HP 255 G7 Notebook Silver 39.6 cm", "HP", "255 G7")
    ('notebook', None)
    >>> type_phrase("Targus AKB05ES keyboard USB", "Targus", "AKB05ES")
    ('keyboard', None)
    """
    text = unicodedata.normalize("NFKC", title).strip()
    brand, name = (brand or "").strip(), (name or "").strip()
    if brand and text.lower().startswith(brand.lower()):
        text = text[len(brand):].strip()
    if name and name.lower() in text.lower():
        start = text.lower().index(name.lower()) + len(name)
        phrase = _leading_phrase(text[start:].split(), max_words)
        if phrase is not None:
            return phrase, None
        words = [_plain(t) for t in name.split()]
        plain = [w for w in words if w and w not in FILLER]
        return None, (plain[-1] if plain and words[-1] else None)
    toks = text.split()
    while toks and re.search(r"\d", toks[0]):  # no model name column: skip the leading code-like tokens
        toks.pop(0)
    return _leading_phrase(toks, max_words), None


def _plain(token: str) -> str | None:
    tok = normalize(token).strip(",;:()[]")
    return tok if tok and WORD.fullmatch(tok) and tok not in COLOURS and tok not in UNITS else None


def _leading_phrase(tokens: Sequence[str], max_words: int) -> str | None:
    words: list[str] = []
    for raw in tokens:
        tok = _plain(raw)
        if tok is None or tok in FILLER or (words and not raw.islower()):
            break
        words.append(tok)
        if len(words) >= max_words:
            break
    return " ".join(words) or None


def derive_labels(products: pd.DataFrame, settings: CategorySettings = CategorySettings()) -> list[str | None]:
    """One type label (or None) per product row, from the category column or the titles."""
    s = settings
    if s.category_column in products.columns:
        return [path_leaf(p) for p in products[s.category_column].tolist()]
    if s.title_column not in products.columns:
        return [None] * len(products)

    def col(name: str) -> list[str]:
        return products[name].fillna("").astype(str).tolist() if name in products.columns else [""] * len(products)

    found = [type_phrase(t, b, n) for t, b, n in zip(col(s.title_column), col(s.brand_column), col(s.name_column),
                                                      strict=True)]
    prefixes: Counter[str] = Counter()
    for p, _ in found:
        if p:
            words = p.split()
            prefixes.update(" ".join(words[:i]) for i in range(1, min(len(words), s.max_words) + 1))
    out: list[str | None] = []
    for p, fallback in found:
        label = None
        if p:
            words = p.split()
            for i in range(min(len(words), s.max_words), 0, -1):
                if prefixes[" ".join(words[:i])] >= s.min_count:
                    label = " ".join(words[:i])
                    break
        elif fallback and prefixes[fallback] >= s.min_count:
            label = fallback
        out.append(label)
    return out


class CategoryModel:
    """Type labels (``labels``), each product's type row (``product_type``, -1 = none) and unit centroids."""

    def __init__(self, labels: Sequence[str], product_type: np.ndarray, centroids: np.ndarray,
                 settings: CategorySettings = CategorySettings()) -> None:
        self.labels = list(labels)
        self.product_type = np.asarray(product_type, dtype=np.int64)
        self.centroids = np.asarray(centroids, dtype=np.float32)
        self.settings = settings

    @classmethod
    def fit(cls, products: pd.DataFrame, vectors: np.ndarray, encode: Callable[[list[str]], np.ndarray],
            settings: CategorySettings = CategorySettings()) -> CategoryModel:
        """Label ``products`` and compute centroids from their ``vectors`` (n, d) and ``encode(labels)``."""
        raw = derive_labels(products, settings)
        counts = Counter(x for x in raw if x)
        labels = sorted(counts)
        index = {x: i for i, x in enumerate(labels)}
        product_type = np.array([index.get(x, -1) if x else -1 for x in raw], dtype=np.int64)
        if not labels:
            return cls([], np.full(len(products), -1), np.zeros((0, vectors.shape[1]), np.float32), settings)
        sums = np.zeros((len(labels), vectors.shape[1]), dtype=np.float64)
        np.add.at(sums, product_type[product_type >= 0], vectors[product_type >= 0])
        sums /= np.maximum(np.bincount(product_type[product_type >= 0], minlength=len(labels)), 1)[:, None]
        centroids = _unit(_unit(sums) + _unit(np.asarray(encode(labels), dtype=np.float64)))
        model = cls(labels, product_type, centroids.astype(np.float32), settings)
        model.assign(np.flatnonzero(product_type < 0), vectors)
        return model

    def assign(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        """Give unlabelled ``rows`` the type of their nearest centroid when it is close enough."""
        if not len(self.labels) or not len(rows):
            return
        cos = vectors[rows] @ self.centroids.T
        best = cos.argmax(axis=1)
        ok = cos[np.arange(len(rows)), best] >= self.settings.assign_min_cosine
        self.product_type[rows[ok]] = best[ok]

    def extend(self, products: pd.DataFrame, vectors: np.ndarray | None) -> None:
        """Types for products appended to the index (known labels only; others by nearest centroid)."""
        index = {x: i for i, x in enumerate(self.labels)}
        new = np.array([index.get(x, -1) if x else -1 for x in derive_labels(products, self.settings)], dtype=np.int64)
        start = len(self.product_type)
        self.product_type = np.concatenate([self.product_type, new])
        if vectors is not None:
            rows = np.flatnonzero(new < 0)
            full = np.zeros((start + len(new), vectors.shape[1]), dtype=np.float32)
            full[start:] = vectors
            self.assign(rows + start, full)

    def predict(self, query_vector: np.ndarray) -> np.ndarray:
        """Probability of each type for a unit query vector (sums to 1; empty when there are no types)."""
        if not len(self.labels):
            return np.zeros(0, dtype=np.float64)
        z = (self.centroids @ np.asarray(query_vector, dtype=np.float32).reshape(-1)).astype(np.float64)
        z = (z - z.max()) / self.settings.temperature
        p = np.exp(z)
        return p / p.sum()

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "labels.json").write_text(json.dumps({"labels": self.labels}, ensure_ascii=False))
        np.save(folder / "product_type.npy", self.product_type)
        np.save(folder / "centroids.npy", self.centroids)

    @classmethod
    def load(cls, folder: Path, settings: CategorySettings) -> CategoryModel:
        labels = json.loads((folder / "labels.json").read_text())["labels"]
        return cls(labels, np.load(folder / "product_type.npy"), np.load(folder / "centroids.npy"), settings)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
