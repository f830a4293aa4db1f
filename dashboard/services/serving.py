"""Serving: a process-wide cache of loaded bundles and the per-shopper preview.

The cache is keyed by (version id, artifact path), so promoting another version
is picked up on the next call without a restart. All ranking (fusion, rules,
MMR, explanations) happens in :mod:`mlcore` — :meth:`Bundle.recommend` for known
shoppers; for a shopper the bundle has never seen, the fallback ranks items by
how many shoppers have them and runs the same :func:`mlcore.fusion.apply_rules`.

Rules see the database as it is now, not as it was at training: the in-stock rule
reads each product's current ``in_stock`` flag, and the exclude-bought rule also
drops what the shopper bought after the bundle's training window (its test window
and everything imported since the snapshot are not in the bundle's ``seen``). The
exclude-recent rule reads the shopper's events of its types within its window (views
and clicks by default; impressions will count once the storefront API logs them).
The page context (e.g. ``"category:Home > Kitchen"``) decides which pins apply.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard.models import Catalog, Event, EventType, Fallback, FusionConfig, ModelVersion, Product
from dashboard.selectors.training import active_version
from dashboard.services.fusion import FusionConfigError, FusionSettings, config_settings, parse_settings
from mlcore.fusion import (
    ExcludeBought,
    ExcludeRecent,
    Explanation,
    Rule,
    RuleContext,
    apply_rules,
    hashed_text_vectors,
    truthy,
)
from mlcore.training.artifacts import Bundle, load_bundle

_CACHE: dict[tuple[int, str], Bundle] = {}
_VECTORS: dict[tuple[int, str], np.ndarray] = {}
_LOCK = threading.Lock()
HISTORY = 10
BOUGHT_LIMIT = 5000  # a shopper's most recent purchases that the exclude-bought rule reads from the database
RECENT_LIMIT = 5000  # a shopper's most recent events that the exclude-recent rule reads from the database
STOCK_COLUMN = "in_stock"
STOCK_IN_LIST_MAX = 2000


class ServingError(LookupError):
    """Nothing to serve (no active version, or its artifacts are gone); the message says what to do."""


def bundle_for(version: ModelVersion) -> Bundle:
    """The loaded bundle of ``version`` (loaded once per process; older versions' bundles dropped)."""
    key = (version.pk, version.artifact_path)
    with _LOCK:
        bundle = _CACHE.get(key)
        if bundle is None:
            try:
                bundle = load_bundle(version.artifact_path)
            except FileNotFoundError as exc:
                raise ServingError(f"version {version.number}'s artifacts are missing ({exc}); retrain") from None
            for old in [k for k in _CACHE if k[0] == version.pk or k not in _in_use()]:
                _CACHE.pop(old, None)
                _VECTORS.pop(old, None)
            _CACHE[key] = bundle
        return bundle


def _in_use() -> set[tuple[int, str]]:
    return set(ModelVersion.objects.filter(state="active").values_list("pk", "artifact_path"))


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
        _VECTORS.clear()


def active_bundle(catalog: Catalog) -> tuple[ModelVersion, Bundle]:
    version = active_version(catalog=catalog)
    if version is None:
        raise ServingError(_("This catalog has no active model version yet: train one and promote it."))
    return version, bundle_for(version)


def _item_vectors(version: ModelVersion, bundle: Bundle) -> np.ndarray:
    key = (version.pk, version.artifact_path)
    if key not in _VECTORS:
        p = bundle.products
        category = p["category"].astype(str) if "category" in p.columns else ""
        texts = (p["title"].astype(str) + " " + category).tolist()
        _VECTORS[key] = hashed_text_vectors(texts)
    return _VECTORS[key]


def current_products(*, catalog_id: int, bundle: Bundle, settings: FusionSettings) -> pd.DataFrame | None:
    """The bundle's product table with ``in_stock`` as the database says now (None: no rule reads that column).

    Only products whose flag may differ are read: those out of stock now, and those the bundle
    has out of stock. Products gone from the database keep the bundle's flag (in stock when the
    bundle has no such column).
    """
    if not any(getattr(r, "column", None) == STOCK_COLUMN for r in settings.rules):
        return None
    products = bundle.products
    ids = np.asarray(bundle.items.ids, dtype=object)
    was = truthy(products[STOCK_COLUMN]) if STOCK_COLUMN in products.columns else np.ones(len(ids), dtype=bool)
    rows = Product.objects.filter(catalog_id=catalog_id)
    was_out = ids[~was].tolist()
    if len(was_out) <= STOCK_IN_LIST_MAX:  # else reading every flag is cheaper than a huge IN list
        rows = rows.filter(Q(in_stock=False) | Q(external_id__in=was_out))
    changed = dict(rows.values_list("external_id", "in_stock"))
    now = was.copy()
    if changed:
        cols = bundle.items.index(list(changed))
        known = cols >= 0
        now[cols[known]] = np.fromiter(changed.values(), dtype=bool, count=len(changed))[known]
    return products.assign(**{STOCK_COLUMN: now})


def purchased_item_ids(*, catalog_id: int, shopper_external_id: str, rules: Sequence[Rule]) -> list[str]:
    """Item ids the shopper bought, from the database (empty when no exclude-bought rule needs them).

    The bundle's ``seen`` ends at its training window, so the database is the full record;
    items that are in ``seen`` already change nothing.
    """
    if not any(isinstance(r, ExcludeBought) for r in rules):
        return []
    rows = (Event.objects.filter(catalog_id=catalog_id, shopper__external_id=shopper_external_id,
                                 type=EventType.PURCHASE, product__isnull=False)
            .order_by("-timestamp").values_list("product__external_id", flat=True)[:BOUGHT_LIMIT])
    return list(dict.fromkeys(rows))


def recent_item_ids(*, catalog_id: int, shopper_external_id: str, rules: Sequence[Rule],
                    now: dt.datetime | None = None) -> list[str]:
    """Item ids the shopper had events with lately, per exclude-recent rule (its types, its last ``days`` days).

    Empty when no such rule is set. One query for all such rules (their windows OR-ed), newest first.
    """
    recent_rules = [r for r in rules if isinstance(r, ExcludeRecent)]
    if not recent_rules:
        return []
    now = now or timezone.now()
    window = Q()
    for rule in recent_rules:
        window |= Q(type__in=list(rule.types), timestamp__gte=now - dt.timedelta(days=rule.days))
    rows = (Event.objects.filter(window, catalog_id=catalog_id, shopper__external_id=shopper_external_id,
                                 product__isnull=False)
            .order_by("-timestamp").values_list("product__external_id", flat=True)[:RECENT_LIMIT])
    return list(dict.fromkeys(rows))


def _cols(bundle: Bundle, ids: list[str] | None) -> frozenset[int]:
    cols = bundle.items.index(ids or [])
    return frozenset(cols[cols >= 0].tolist())


def _fallback(bundle: Bundle, settings: FusionSettings, k: int, *, products: pd.DataFrame | None = None,
              bought: list[str] | None = None, recent: list[str] | None = None,
              context: str = "") -> list[Explanation]:
    if settings.fallback == Fallback.NONE:
        return []
    popularity = np.asarray(bundle.seen.sum(axis=0)).ravel().astype(np.float64)
    order = np.argsort(-popularity, kind="stable")[: max(settings.pool_size, k)]
    ctx = RuleContext(products=bundle.products if products is None else products, items=bundle.items,
                      bought=_cols(bundle, bought), recent=_cols(bundle, recent), context=context)
    ranked = apply_rules(order, popularity[order], list(settings.rules), ctx, k=k)
    return [Explanation(item=int(i), score=float(s), contributions=(), rules=tuple(n),
                        extra={"item_id": bundle.items.ids[int(i)]})
            for i, s, n in zip(ranked.items, ranked.scores, ranked.notes, strict=True)]


def recommend(*, version: ModelVersion, bundle: Bundle, shopper_external_id: str | None,
              settings: FusionSettings, k: int = 20, context: str = "") -> tuple[list[Explanation], bool]:
    """(explanations best first, whether the fallback was used) — the path preview and API share.

    Rules act on current stock, on purchases made after training and on the shopper's recent
    events (see the module doc); ``context`` is the page shown, for pins limited to one.
    """
    products = current_products(catalog_id=version.catalog_id, bundle=bundle, settings=settings)
    bought: list[str] = []
    recent: list[str] = []
    if shopper_external_id is not None:
        bought = purchased_item_ids(catalog_id=version.catalog_id, shopper_external_id=shopper_external_id,
                                    rules=settings.rules)
        recent = recent_item_ids(catalog_id=version.catalog_id, shopper_external_id=shopper_external_id,
                                 rules=settings.rules)
    if shopper_external_id is None or shopper_external_id not in bundle.users:
        return _fallback(bundle, settings, k, products=products, bought=bought, recent=recent, context=context), True
    vectors = _item_vectors(version, bundle) if settings.diversity is not None else None
    recs = bundle.recommend(shopper_external_id, k, rules=settings.rules, fusion=settings.fusion,
                            mmr_lambda=settings.diversity, item_vectors=vectors, candidates=settings.pool_size,
                            extra_seen=bought, products=products, recent=recent, context=context)
    return recs, False


def _reason(e: Explanation) -> str:
    if e.path:
        return str(e.path)
    if not e.contributions:
        return _("Popular with other shoppers (no history for this shopper yet).")
    top = max(e.contributions, key=lambda c: c.value)
    return _("Mostly from the %(signal)s signal.") % {"signal": top.signal}


def _history(catalog: Catalog, shopper_external_id: str | None) -> list[dict[str, Any]]:
    if not shopper_external_id:
        return []
    rows = (Event.objects.filter(catalog=catalog, shopper__external_id=shopper_external_id, product__isnull=False)
            .select_related("product").order_by("-timestamp", "-pk")[:HISTORY])
    out = []
    for e in rows:
        product = e.product
        assert product is not None
        out.append({"item_id": product.external_id, "title": product.title, "type": e.type,
                    "timestamp": e.timestamp.isoformat(), "image_url": product.image_url})
    return out


def _items(catalog: Catalog, recs: list[Explanation]) -> list[dict[str, Any]]:
    ids = [str(e.extra["item_id"]) for e in recs]
    products = {p.external_id: p for p in Product.objects.filter(catalog=catalog, external_id__in=ids)}
    out = []
    for rank, e in enumerate(recs, start=1):
        p = products.get(str(e.extra["item_id"]))
        score = e.score if np.isfinite(e.score) else None
        out.append({
            "rank": rank, "item_id": e.extra["item_id"], "product_pk": p.pk if p else None,
            "title": p.title if p else str(e.extra.get("title", e.extra["item_id"])),
            "price": str(p.price) if p and p.price is not None else None,
            "image_url": p.image_url if p else "", "category": p.category_path if p else "",
            "score": score, "rules": list(e.rules), "reason": _reason(e),
            "contributions": [{"signal": c.signal, "normalized": c.normalized, "weight": c.weight, "value": c.value}
                              for c in e.contributions],
        })
    return out


def _check_columns(settings: FusionSettings, columns: list[str]) -> None:
    for n, rule in enumerate(settings.rules, start=1):
        column = getattr(rule, "column", None)
        if column is not None and column not in columns:
            raise FusionConfigError(_("rule %(n)s (%(kind)s): the product column %(column)r does not exist; "
                                      "use one of %(columns)s") % {"n": n, "kind": rule.kind, "column": column,
                                                                   "columns": ", ".join(columns)})


def preview_for_shopper(*, catalog: Catalog, shopper_external_id: str | None,
                        config: FusionConfig | Mapping[str, Any], k: int = 20, context: str = "") -> dict[str, Any]:
    """The shopper's recent history and top-``k`` under ``config`` (a saved config or an unsaved settings dict),
    as shown on the page ``context`` (e.g. "category:Home > Kitchen"; empty: no particular page).

    Returns ``{"shopper", "new_shopper", "version", "context", "history": [...], "items": [{rank, item_id, title, price,
    image_url, score, contributions: [{signal, normalized, weight, value}], rules, reason}]}``.
    Raises :class:`FusionConfigError` for invalid settings and :class:`ServingError` with nothing to serve.
    """
    version, bundle = active_bundle(catalog)
    raw = config_settings(config) if isinstance(config, FusionConfig) else config
    settings = parse_settings(raw, signals=list(bundle.models))
    _check_columns(settings, list(dict.fromkeys([*bundle.products.columns, STOCK_COLUMN])))
    sid = shopper_external_id or None
    context = context.strip()
    recs, fallback = recommend(version=version, bundle=bundle, shopper_external_id=sid, settings=settings, k=k,
                               context=context)
    return {"shopper": sid, "new_shopper": fallback, "version": version.number, "context": context,
            "history": _history(catalog, sid), "items": _items(catalog, recs)}


def mark_changes(saved: list[dict[str, Any]], edited: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``edited`` items with ``change``: "new", or the places moved up (> 0) / down (< 0) versus ``saved``."""
    before = {it["item_id"]: it["rank"] for it in saved}
    return [{**it, "change": "new" if it["item_id"] not in before else before[it["item_id"]] - it["rank"]}
            for it in edited]


def preview_compare(*, catalog: Catalog, shopper_external_id: str | None, saved: FusionConfig | Mapping[str, Any],
                    edited: Mapping[str, Any], k: int = 20, context: str = "") -> dict[str, Any]:
    """Both lists for one shopper on one page: ``{"saved": preview, "edited": preview with "change" per item}``."""
    a = preview_for_shopper(catalog=catalog, shopper_external_id=shopper_external_id, config=saved, k=k,
                            context=context)
    b = preview_for_shopper(catalog=catalog, shopper_external_id=shopper_external_id, config=edited, k=k,
                            context=context)
    b["items"] = mark_changes(a["items"], b["items"])
    return {"saved": a, "edited": b}


def random_active_shopper(*, catalog: Catalog) -> str | None:
    """A shopper the active bundle knows, picked at random (None when there is no active version)."""
    try:
        _, bundle = active_bundle(catalog)
    except ServingError:
        return None
    if not len(bundle.users):
        return None
    return str(bundle.users.ids[int(np.random.default_rng().integers(len(bundle.users)))])
