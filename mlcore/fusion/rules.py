"""Business rules applied to a ranked list: filter, boost, bury, pin.

Rules are frozen dataclasses; :func:`apply_rules` is a pure function from a
ranked list (item column indices, best first, with their scores) to a new one.
Order of application: every filter first (so nothing filtered can come back,
not even through a pin), then boosts and buries (scores multiplied, list
re-sorted), then the cut to ``k``, then pins at their exact 1-based positions.
Product attributes come from the dataset's ``products`` frame, one row per item
column; what the shopper did comes from the :class:`RuleContext` the caller fills
(``bought`` for :class:`ExcludeBought`, ``recent`` for :class:`ExcludeRecent`), and
so does the page the list is shown on (``context``, which a :class:`Pin` may be
limited to, e.g. ``"category:Home > Kitchen"``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcore.data import IdMap

TRUE_STRINGS = {"1", "true", "yes", "y", "t", "in stock", "instock", "available"}
# Event types that count as "recently shown" for ExcludeRecent. Impressions are not logged yet;
# "impression" joins this list once the storefront API records them.
RECENT_EVENT_TYPES = ("view", "click", "add_to_cart", "purchase")
MAX_RECENT_DAYS = 3650  # a window longer than ten years is a typo (and past dates overflow)
MAX_BOOST = 1000.0
MAX_PIN_POSITION = 1000


def same_context(a: str, b: str) -> bool:
    """Whether two page contexts are one, ignoring case and spaces: "category:home>kitchen" = "Category: Home > Kitchen"."""
    return "".join(a.split()).casefold() == "".join(b.split()).casefold()


@dataclass(frozen=True)
class InStock:
    """Keep items whose ``column`` is truthy (true/yes/1, or a number > 0)."""

    column: str = "in_stock"
    kind = "in_stock"


@dataclass(frozen=True)
class CategoryFilter:
    """Keep items under any ``include`` path (if given) and under no ``exclude`` path.

    Paths use ' > '; "Home" matches "Home > Kitchen". Case is ignored.
    """

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    column: str = "category"
    kind = "category"


@dataclass(frozen=True)
class PriceRange:
    """Keep items with ``low <= price <= high``; items without a price are dropped."""

    low: float | None = None
    high: float | None = None
    column: str = "price"
    kind = "price_range"


@dataclass(frozen=True)
class ExcludeBought:
    """Drop items the shopper already bought (from the context's ``bought``)."""

    kind = "exclude_bought"


@dataclass(frozen=True)
class ExcludeRecent:
    """Drop items the shopper had events of ``types`` with in the last ``days`` days (the context's ``recent``).

    The caller reads those events (the window and types are this rule's) into ``RuleContext.recent``.
    Only views and clicks are "shown" today; impressions will count once the storefront API logs them.
    """

    days: int = 7
    types: tuple[str, ...] = ("view", "click")
    kind = "exclude_recent"

    def __post_init__(self) -> None:
        if isinstance(self.days, bool) or not isinstance(self.days, int) or not 1 <= self.days <= MAX_RECENT_DAYS:
            raise ValueError(f"days must be a whole number of days from 1 to {MAX_RECENT_DAYS}, got {self.days!r}")
        if isinstance(self.types, str) or not self.types:
            raise ValueError(f"types: give at least one event type from {', '.join(RECENT_EVENT_TYPES)}")
        unknown = [t for t in self.types if t not in RECENT_EVENT_TYPES]
        if unknown:
            raise ValueError(f"types: unknown event type {unknown[0]!r}; use {', '.join(RECENT_EVENT_TYPES)}")


def _check_match(rule: Boost | Bury) -> None:
    """A boost/bury matches a ``value`` (text equality) or a band ``low``..``high`` (numbers), not both."""
    banded = rule.low is not None or rule.high is not None
    if banded and str(rule.value).strip():
        raise ValueError("give a value or a band (low/high), not both")
    if not banded and not str(rule.value).strip():
        raise ValueError(f"give the value of {rule.column!r} to match, or a band with low/high (e.g. a price band)")
    if rule.low is not None and rule.high is not None and rule.low > rule.high:
        raise ValueError(f"the band's low ({rule.low:g}) is above its high ({rule.high:g})")


@dataclass(frozen=True)
class Boost:
    """Multiply by ``factor`` (> 1) the score of items whose ``column`` equals ``value`` (case ignored), or,
    with ``low``/``high``, whose ``column`` is a number inside that band (a price band: column "price")."""

    column: str
    value: str = ""
    factor: float = 1.5
    low: float | None = None
    high: float | None = None
    kind = "boost"

    def __post_init__(self) -> None:
        if not 1 < self.factor <= MAX_BOOST:
            raise ValueError(f"boost factor must be > 1 and at most {MAX_BOOST:g}, got {self.factor} "
                             "(use bury to push items down)")
        _check_match(self)


@dataclass(frozen=True)
class Bury:
    """Multiply the score of matching items (as :class:`Boost` matches) by ``factor`` (between 0 and 1)."""

    column: str
    value: str = ""
    factor: float = 0.5
    low: float | None = None
    high: float | None = None
    kind = "bury"

    def __post_init__(self) -> None:
        if not 0 < self.factor < 1:
            raise ValueError(f"bury factor must be between 0 and 1, got {self.factor}")
        _check_match(self)


@dataclass(frozen=True)
class Pin:
    """Put ``item_id`` at 1-based ``position`` (or last, if the list is shorter).

    ``context`` empty: everywhere; else only where ``RuleContext.context`` is the same (see :func:`same_context`).
    """

    item_id: str
    position: int
    context: str = ""
    kind = "pin"

    def __post_init__(self) -> None:
        if not 1 <= self.position <= MAX_PIN_POSITION:
            raise ValueError(f"pin position is 1-based and at most {MAX_PIN_POSITION}, got {self.position}")
        if not isinstance(self.context, str):
            raise ValueError(f"pin context must be text such as 'category:Home > Kitchen', got {self.context!r}")

    def applies(self, context: str) -> bool:
        return not self.context.strip() or same_context(self.context, context)

    def overlaps(self, other: Pin) -> bool:
        """Whether both pins can apply on one page (so they must not share a position)."""
        return not self.context.strip() or not other.context.strip() or same_context(self.context, other.context)


Filter = InStock | CategoryFilter | PriceRange | ExcludeBought | ExcludeRecent
FILTERS = (InStock, CategoryFilter, PriceRange, ExcludeBought, ExcludeRecent)
Rule = InStock | CategoryFilter | PriceRange | ExcludeBought | ExcludeRecent | Boost | Bury | Pin
RULE_TYPES: dict[str, type] = {cls.kind: cls for cls in (*FILTERS, Boost, Bury, Pin)}


@dataclass(frozen=True)
class RuleContext:
    """What rules need: product attributes (row i = item column i), the id map, the shopper's purchases
    (``bought``) and recently seen items (``recent``), as item columns, and the page shown (``context``)."""

    products: pd.DataFrame
    items: IdMap
    bought: frozenset[int] = field(default_factory=frozenset)
    recent: frozenset[int] = field(default_factory=frozenset)
    context: str = ""


@dataclass(frozen=True)
class Ranked:
    """A ranked list: item columns best first, their scores, and per item the rules that touched it."""

    items: np.ndarray
    scores: np.ndarray
    notes: tuple[tuple[str, ...], ...]


def rule_from_dict(data: Mapping[str, Any]) -> Rule:
    """Build a rule from ``{"kind": "pin", "item_id": "A1", "position": 1}`` (the stored form)."""
    fields = dict(data)
    kind = fields.pop("kind", None)
    if kind not in RULE_TYPES:
        raise ValueError(f"unknown rule kind {kind!r}; use one of {', '.join(RULE_TYPES)}")
    for key in ("include", "exclude", "types"):
        if key in fields and isinstance(fields[key], list | tuple):
            fields[key] = tuple(fields[key])
    try:
        return RULE_TYPES[kind](**fields)  # type: ignore[no-any-return]
    except TypeError as exc:
        raise ValueError(f"rule {kind!r}: {exc}") from None


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    """The stored form (tuples as lists); a pin for every page has no ``context`` key and a boost/bury no
    empty band keys, as before those options existed (old configs' revisions show no spurious change)."""
    out: dict[str, Any] = {"kind": rule.kind}
    out.update({k: (list(v) if isinstance(v, tuple) else v) for k, v in rule.__dict__.items()})
    if isinstance(rule, Pin) and not rule.context.strip():
        out.pop("context")
    if isinstance(rule, Boost | Bury):  # a value rule is stored as before bands
        for key in ("low", "high"):
            if out[key] is None:
                out.pop(key)
        if not out["value"] and ("low" in out or "high" in out):
            out.pop("value")
    return out


# -- masks ----------------------------------------------------------------------------
def _column(products: pd.DataFrame, column: str, rule: str) -> pd.Series:
    if column not in products.columns:
        raise KeyError(f"rule {rule!r} needs the product column {column!r}; columns are {', '.join(products.columns)}")
    return products[column]


def truthy(values: pd.Series) -> np.ndarray:
    """Bool array: true/yes/1/"in stock"… (any case) or a number > 0 — how :class:`InStock` reads a flag."""
    numeric = pd.to_numeric(values, errors="coerce")
    as_text = values.astype(str).str.strip().str.lower().isin(TRUE_STRINGS)
    return np.where(numeric.notna(), numeric.fillna(0) > 0, as_text).astype(bool)


def _under(paths: pd.Series, prefixes: Iterable[str]) -> np.ndarray:
    p = paths.fillna("").astype(str).str.lower().str.strip()
    hit = np.zeros(len(p), dtype=bool)
    for prefix in prefixes:
        q = prefix.lower().strip()
        hit |= ((p == q) | p.str.startswith(q + " > ")).to_numpy()
    return hit


def _not_in(items: np.ndarray, cols: frozenset[int]) -> np.ndarray:
    return ~np.isin(items, np.fromiter(cols, dtype=np.int64, count=len(cols)))


def _keep_mask(rule: Rule, items: np.ndarray, ctx: RuleContext) -> np.ndarray:
    rows = ctx.products.iloc[items]
    if isinstance(rule, InStock):
        return truthy(_column(rows, rule.column, rule.kind))
    if isinstance(rule, CategoryFilter):
        paths = _column(rows, rule.column, rule.kind)
        keep = _under(paths, rule.include) if rule.include else np.ones(len(items), dtype=bool)
        return keep & ~_under(paths, rule.exclude)
    if isinstance(rule, PriceRange):
        price = pd.to_numeric(_column(rows, rule.column, rule.kind), errors="coerce").to_numpy(dtype=float)
        keep = ~np.isnan(price)
        if rule.low is not None:
            keep &= price >= rule.low
        if rule.high is not None:
            keep &= price <= rule.high
        return keep
    if isinstance(rule, ExcludeBought):
        return _not_in(items, ctx.bought)
    if isinstance(rule, ExcludeRecent):
        return _not_in(items, ctx.recent)
    raise TypeError(f"{rule!r} is not a filter")


def _matches(rule: Boost | Bury, items: np.ndarray, ctx: RuleContext) -> np.ndarray:
    column = _column(ctx.products.iloc[items], rule.column, rule.kind)
    if rule.low is None and rule.high is None:  # a multi-valued cell ("red|blue") matches any of its values
        target = str(rule.value).strip().lower()
        cells = [c if isinstance(c, str) else "" for c in column.astype(str).str.lower().tolist()]  # NA: no value
        return np.fromiter((target in (v.strip() for v in c.split("|")) for c in cells), dtype=bool, count=len(cells))
    number = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    hit = ~np.isnan(number)
    if rule.low is not None:
        hit &= number >= rule.low
    if rule.high is not None:
        hit &= number <= rule.high
    return hit


def _label(rule: Rule) -> str:
    if isinstance(rule, Boost | Bury):
        if rule.low is None and rule.high is None:
            return f"{rule.kind} {rule.column}={rule.value} ×{rule.factor:g}"
        band = f"{'' if rule.low is None else f'{rule.low:g}'}–{'' if rule.high is None else f'{rule.high:g}'}"
        return f"{rule.kind} {rule.column} {band} ×{rule.factor:g}"
    if isinstance(rule, Pin):
        return f"pinned at {rule.position}" + (f" for {rule.context.strip()}" if rule.context.strip() else "")
    return rule.kind


def apply_rules(
    items: np.ndarray, scores: np.ndarray, rules: Iterable[Rule], ctx: RuleContext, k: int | None = None
) -> Ranked:
    """Apply ``rules`` to a ranked list (``items`` best first, ``scores`` aligned); return at most ``k`` items.

    Pins limited to another page context than ``ctx.context`` are ignored. When one item has
    several pins that apply, the one for this context wins over an everywhere pin, then the higher one.
    """
    rules = list(rules)
    items = np.asarray(items, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64).copy()
    pins = sorted((r for r in rules if isinstance(r, Pin) and r.applies(ctx.context)), key=lambda r: r.position)
    positions = [p.position for p in pins]
    if len(set(positions)) != len(positions):
        raise ValueError(f"two pins share a position: {positions}")
    filters: list[Filter] = [r for r in rules if isinstance(r, FILTERS)]
    for kept in filters:
        keep = _keep_mask(kept, items, ctx)
        items, scores = items[keep], scores[keep]
    notes: dict[int, list[str]] = {}
    for rule in rules:
        if isinstance(rule, Boost | Bury):
            hit = _matches(rule, items, ctx)
            # multiply on the side that moves the item the right way even for negative scores
            scores = np.where(hit, np.where(scores >= 0, scores * rule.factor, scores / rule.factor), scores)
            if hit.any():
                for item in items[hit].tolist():
                    notes.setdefault(item, []).append(_label(rule))
    order = np.argsort(-scores, kind="stable")
    items, scores = items[order], scores[order]

    pin_items = []
    placed: set[int] = set()
    for pin in sorted(pins, key=lambda r: (not r.context.strip(), r.position)):
        if pin.item_id not in ctx.items:
            continue  # an unknown pin (item deleted) is skipped, not an error at serving time
        col = ctx.items.index_of(pin.item_id)
        # a pinned item must pass every filter too: filters never leak
        if col not in placed and all(_keep_mask(r, np.array([col]), ctx)[0] for r in filters):
            pin_items.append((pin, col))
            placed.add(col)
    pin_items.sort(key=lambda pc: pc[0].position)
    pinned_cols = {col for _, col in pin_items}
    rest = ~np.isin(items, list(pinned_cols)) if pinned_cols else np.ones(len(items), dtype=bool)
    items, scores = items[rest], scores[rest]
    if k is not None:
        items, scores = items[: max(k - len(pin_items), 0)], scores[: max(k - len(pin_items), 0)]
    out_items, out_scores = items.tolist(), scores.tolist()
    for pin, col in pin_items:
        at = min(pin.position - 1, len(out_items))
        out_items.insert(at, col)
        out_scores.insert(at, float("nan"))  # a pinned slot has no relevance score
        notes.setdefault(col, []).append(_label(pin))
    if k is not None:
        out_items, out_scores = out_items[:k], out_scores[:k]
    return Ranked(
        items=np.asarray(out_items, dtype=np.int64),
        scores=np.asarray(out_scores, dtype=np.float64),
        notes=tuple(tuple(notes.get(i, ())) for i in out_items),
    )
