"""Query understanding: normalise, tokenise (English regex / Chinese jieba), correct spelling against
the catalogue vocabulary, extract colours, brand, numeric attributes with units and price constraints,
expand operator synonyms. The result is a frozen :class:`ParsedQuery` (``to_dict()`` for operators/API).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bm25s.stopwords import STOPWORDS_EN
from rapidfuzz import fuzz, process

CJK = re.compile(r"[\u3400-\u9fff]")
WORD = re.compile(r"(?u)\b\w\w+\b")
WORD_OR_CHAR = re.compile(r"(?u)\b\w+\b")
STOPWORDS = frozenset(STOPWORDS_EN)
COLOURS: dict[str, str] = {
    **{c: c for c in ("black", "white", "red", "blue", "green", "yellow", "grey", "silver", "gold", "pink",
                      "purple", "orange", "brown", "beige", "transparent")},
    "gray": "grey", "黑色": "black", "白色": "white", "红色": "red", "蓝色": "blue", "绿色": "green",
    "黄色": "yellow", "灰色": "grey", "银色": "silver", "金色": "gold", "粉色": "pink", "紫色": "purple",
}
UNITS: dict[str, str] = {
    '"': "in", "''": "in", "inch": "in", "inches": "in", "in": "in", "tb": "tb", "gb": "gb", "mb": "mb",
    "ghz": "ghz", "mhz": "mhz", "mah": "mah", "w": "w", "mm": "mm", "cm": "cm", "hz": "hz", "mp": "mp",
}
_NUM = r"(\d+(?:[.,]\d+)?)"
_CUR = r"(?:[£$€¥]|usd|eur|gbp|rmb)?"
_PRICE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"{_CUR}\s*{_NUM}\s*(?:元)?\s*(?:到|至|-|~)\s*{_CUR}\s*{_NUM}\s*元"), "range"),
    (re.compile(rf"{_NUM}\s*元\s*以下"), "max"),
    (re.compile(rf"{_NUM}\s*元\s*以上"), "min"),
    (re.compile(rf"(?:under|below|less than|cheaper than|up to|max|<)\s*{_CUR}\s*{_NUM}\s*{_CUR}"), "max"),
    (re.compile(rf"(?:over|above|more than|from|min|>)\s*{_CUR}\s*{_NUM}\s*{_CUR}"), "min"),
    (re.compile(rf"(?:between\s*)?(?<![\w.-]){_CUR}\s*{_NUM}\s*(?:-|–|to|and)\s*{_CUR}\s*{_NUM}(?![\w.-])"), "range"),
)
_UNIT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(\"|''|inches|inch|in|tb|gb|mb|ghz|mhz|mah|w|mm|cm|hz|mp)(?![a-z])")


@dataclass(frozen=True)
class QueryConfig:
    """Parser settings: drop English stopwords; ``min_token_chars`` 1 keeps one-letter/one-digit words
    ("d battery", "playstation 4"), 2 is bm25s' own rule; spelling correction: rapidfuzz ratio cut-off
    (0-100), minimum token length, and the least number of products a correction target must appear in."""

    stopwords: bool = True
    min_token_chars: int = 1
    spell_cutoff: float = 80.0
    spell_min_length: int = 4
    spell_min_df: int = 1


@dataclass(frozen=True)
class ParsedQuery:
    """What the shopper typed, understood. Prices are in the catalogue's units; attributes are (name, value, unit)."""

    raw: str
    text: str
    language: str
    tokens: tuple[str, ...]
    corrected_tokens: tuple[str, ...]
    corrections: tuple[tuple[str, str], ...] = ()
    expanded_tokens: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    brand: str | None = None
    attributes: tuple[tuple[str, float, str], ...] = ()
    price_min: float | None = None
    price_max: float | None = None
    category: str | None = None
    category_score: float | None = None

    @property
    def corrected_text(self) -> str:
        """The query with corrections applied (the 'did you mean' suggestion)."""
        return " ".join(self.corrected_tokens)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "raw": self.raw, "text": self.text, "language": self.language, "tokens": list(self.tokens),
            "corrected_tokens": list(self.corrected_tokens), "corrections": [list(c) for c in self.corrections],
            "expanded_tokens": list(self.expanded_tokens), "colours": list(self.colours), "brand": self.brand,
            "attributes": [{"name": n, "value": v, "unit": u} for n, v, u in self.attributes],
            "price_min": self.price_min, "price_max": self.price_max,
            "category": self.category, "category_score": self.category_score,
        }


def normalize(text: str) -> str:
    """Lower case, strip accents (NFKD), unify quotes/inch marks and whitespace."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("”", '"').replace("″", '"').replace("“", '"')
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text).strip()


def tokenize(text: str, *, stopwords: bool = True, min_chars: int = 2) -> list[str]:
    """Word tokens of normalised ``text``: jieba for Chinese, ``\\w\\w+`` (bm25s' rule) otherwise, or
    ``\\w+`` with ``min_chars=1``."""
    word = WORD if min_chars >= 2 else WORD_OR_CHAR
    if CJK.search(text):
        import jieba

        words = [w.strip().lower() for w in jieba.lcut(text)]
        tokens = [w for w in words if w and (CJK.search(w) or word.fullmatch(w))]
    else:
        tokens = word.findall(text)
    return [t for t in tokens if not (stopwords and t in STOPWORDS)]


def _num(s: str) -> float:
    return float(s.replace(",", "."))


def extract_price(text: str) -> tuple[float | None, float | None, str]:
    """(min, max, text without the price phrase)."""
    for pattern, kind in _PRICE_RULES:
        m = pattern.search(text)
        if not m:
            continue
        rest = (text[: m.start()] + " " + text[m.end():]).strip()
        if kind == "range":
            lo, hi = sorted((_num(m.group(1)), _num(m.group(2))))
            return lo, hi, rest
        value = _num(m.group(1))
        return (None, value, rest) if kind == "max" else (value, None, rest)
    return None, None, text


@dataclass
class QueryParser:
    """Parses queries against a catalogue: ``vocabulary`` (term -> document frequency) for spelling,
    ``brands`` (lower-case names), operator ``synonyms`` ({term: [synonyms]}) and an optional category
    ``classifier`` (text -> (category, score) or None)."""

    vocabulary: Mapping[str, int] = field(default_factory=dict)
    brands: Iterable[str] = ()
    synonyms: Mapping[str, Iterable[str]] = field(default_factory=dict)
    classifier: Callable[[str], tuple[str, float] | None] | None = None
    config: QueryConfig = QueryConfig()

    def __post_init__(self) -> None:
        self._brands = {normalize(b) for b in self.brands if b}
        self._synonyms = {normalize(k): tuple(normalize(s) for s in v) for k, v in self.synonyms.items()}
        # correction targets: alphabetic catalogue terms seen in >= spell_min_df products
        self._candidates = [t for t, df in self.vocabulary.items()
                            if df >= self.config.spell_min_df and t.isalpha() and len(t) >= 3]
        self._cache: dict[str, str | None] = {}

    def correct(self, token: str) -> str | None:
        """The closest catalogue term for an unknown token, or None."""
        if (token in self.vocabulary or token in COLOURS or token in self._brands
                or len(token) < self.config.spell_min_length or not token.isalpha()):
            return None
        if token not in self._cache:
            hit = process.extractOne(token, self._candidates, scorer=fuzz.ratio, score_cutoff=self.config.spell_cutoff)
            self._cache[token] = hit[0] if hit else None
        return self._cache[token]

    def parse(self, raw: str) -> ParsedQuery:
        """Understand ``raw``; never raises on odd input (an empty query gives empty tokens)."""
        text = normalize(raw)
        price_min, price_max, rest = extract_price(text)
        attributes = tuple((("size" if UNITS[u] == "in" else UNITS[u]), _num(v), UNITS[u]) for v, u in _UNIT.findall(rest))
        rest = _UNIT.sub(lambda m: f"{m.group(1)} {'inch' if UNITS[m.group(2)] == 'in' else UNITS[m.group(2)]}", rest)
        tokens = tokenize(rest, stopwords=self.config.stopwords, min_chars=self.config.min_token_chars)
        corrections: list[tuple[str, str]] = []
        corrected: list[str] = []
        for t in tokens:
            fix = self.correct(t) if self.vocabulary else None
            if fix and fix != t:
                corrections.append((t, fix))
            corrected.append(fix or t)
        expanded = list(corrected)
        for t in corrected:
            expanded += [s for syn in self._synonyms.get(t, ()) for s in tokenize(syn, min_chars=self.config.min_token_chars)
                         if s not in expanded]
        colours = tuple(dict.fromkeys(COLOURS[t] for t in corrected if t in COLOURS))
        brand = next((t for t in corrected if t in self._brands), None)
        category = score = None
        if self.classifier is not None and corrected:
            guess = self.classifier(" ".join(corrected))
            if guess is not None:
                category, score = guess[0], float(guess[1])
        return ParsedQuery(
            raw=raw, text=text, language="zh" if CJK.search(text) else "en", tokens=tuple(tokens),
            corrected_tokens=tuple(corrected), corrections=tuple(corrections), expanded_tokens=tuple(expanded),
            colours=colours, brand=brand, attributes=attributes, price_min=price_min, price_max=price_max,
            category=category, category_score=score,
        )
