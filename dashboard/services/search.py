"""Search: a catalog's named search settings, and queries against the active version's index.

Each :class:`SearchSettings` changes how the one trained index is queried (mode, fusion, weights,
brand/colour boost, synonyms), which business rules apply (a fusion config's rules — the same
rules as recommendations; none linked: the catalog's default fusion config) and how much the
shopper's profile re-ranks the results.

Personalisation: a shopper's profile is the unit-length mean of the index's dense vectors of the
products in their last :data:`PROFILE_EVENTS` events, weighted by what they did (the shopper profile's
:data:`~mlcore.serving.profile.EVENT_WEIGHTS`: purchase 8 > add to cart 4 > click 2 > view 1; returns and
searches, weight <= 0, are left out), computed by :func:`mlcore.serving.profile.profile_vector`. The engine adds
``profile_weight × cosine(profile, product)`` to each candidate's score.
"""
from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils.translation import gettext as _

from dashboard.models import Catalog, Event, FusionConfig, Product, SearchFusion, SearchMode, SearchSettings
from dashboard.services.fusion import FusionConfigError, config_settings, parse_settings
from dashboard.services.search_index import LoadedIndex, SearchUnavailable, active_index
from dashboard.services.serving import purchased_item_ids, recent_item_ids
from mlcore.fusion import InStock, Rule
from mlcore.search.engine import SearchConfig, SearchEngine
from mlcore.serving.profile import EVENT_WEIGHTS, profile_vector

__all__ = ["SearchInputError", "SearchUnavailable", "search", "search_compare", "search_settings_ensure",
           "search_settings_save", "shopper_profile"]

PROFILE_EVENTS = 50
PROFILE_TYPES = [t for t, w in EVENT_WEIGHTS.items() if w > 0]  # the events a profile vector is made of
MAX_WEIGHT = 10.0
MAX_K = 100
MAX_QUERY = 500
FIELDS = ("name", "mode", "fusion", "lexical_weight", "dense_weight", "profile_weight", "boost", "synonyms",
          "fusion_config", "is_default")
DEFAULTS: tuple[dict[str, Any], ...] = (
    {"name": "Hybrid", "mode": SearchMode.HYBRID_QU, "fusion": SearchFusion.WEIGHTED, "lexical_weight": 1.0,
     "dense_weight": 0.5, "profile_weight": 0.0, "boost": 1.2, "is_default": True},
    {"name": "Keywords only", "mode": SearchMode.BM25, "fusion": SearchFusion.WEIGHTED, "lexical_weight": 1.0,
     "dense_weight": 0.0, "profile_weight": 0.0, "boost": 1.0, "is_default": False},
)


class SearchInputError(ValueError):
    """A query or a setting is invalid; the message names the field and the fix."""


# -- settings ---------------------------------------------------------------------------------

def parse_synonyms(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``"sofa: couch, settee"`` lines as the engine's ``((term, (synonym, ...)), ...)``."""
    out = []
    for n, line in enumerate(str(text or "").splitlines(), start=1):
        if not line.strip():
            continue
        term, sep, rest = line.partition(":")
        synonyms = tuple(s.strip() for s in rest.split(",") if s.strip())
        if not sep or not term.strip() or not synonyms:
            raise SearchInputError(_("synonyms, line %(n)d (“%(line)s”): write one term per line as "
                                     "“term: synonym, synonym”.") % {"n": n, "line": line.strip()[:80]})
        out.append((term.strip(), synonyms))
    return tuple(out)


def _float(values: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    raw = values.get(key, default)
    try:
        value = float(default if raw in ("", None) else raw)
    except (TypeError, ValueError):
        raise SearchInputError(_("%(field)s: “%(value)s” is not a number.") % {"field": key, "value": raw}) from None
    if not (math.isfinite(value) and low <= value <= high):
        raise SearchInputError(_("%(field)s: must be between %(low)g and %(high)g, got %(value)g.")
                               % {"field": key, "low": low, "high": high, "value": value})
    return value


def clean_settings(catalog: Catalog, values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a settings form (or dict) into model field values; :class:`SearchInputError` names the field."""
    name = str(values.get("name") or "").strip()
    if not name:
        raise SearchInputError(_("name: give the settings a name."))
    mode, fusion = str(values.get("mode") or SearchMode.HYBRID_QU), str(values.get("fusion") or SearchFusion.WEIGHTED)
    if mode not in SearchMode.values:
        raise SearchInputError(_("mode: “%(v)s” is unknown; use one of %(all)s.")
                               % {"v": mode, "all": ", ".join(SearchMode.values)})
    if fusion not in SearchFusion.values:
        raise SearchInputError(_("fusion: “%(v)s” is unknown; use one of %(all)s.")
                               % {"v": fusion, "all": ", ".join(SearchFusion.values)})
    config = values.get("fusion_config")
    if config not in ("", None) and not isinstance(config, FusionConfig):
        try:
            config = FusionConfig.objects.get(catalog=catalog, pk=int(config))
        except (TypeError, ValueError, FusionConfig.DoesNotExist):
            raise SearchInputError(_("fusion_config: no fusion config %(v)s in this catalog; pick one from the "
                                     "list or leave it empty for the default.") % {"v": config}) from None
    synonyms = str(values.get("synonyms") or "").strip()
    parse_synonyms(synonyms)
    out = {
        "name": name[:200], "mode": mode, "fusion": fusion,
        "lexical_weight": _float(values, "lexical_weight", 1.0, 0.0, MAX_WEIGHT),
        "dense_weight": _float(values, "dense_weight", 0.5, 0.0, MAX_WEIGHT),
        "profile_weight": _float(values, "profile_weight", 0.0, 0.0, MAX_WEIGHT),
        "boost": _float(values, "boost", 1.2, 1.0, 5.0),
        "synonyms": synonyms, "fusion_config": config or None, "is_default": bool(values.get("is_default")),
    }
    if mode != SearchMode.BM25 and mode != SearchMode.DENSE and not (out["lexical_weight"] or out["dense_weight"]):
        raise SearchInputError(_("weights: a hybrid mode needs a keyword or a meaning weight above 0."))
    return out


def search_settings_ensure(*, catalog: Catalog) -> list[SearchSettings]:
    """The catalog's settings, default first; the first call creates "Hybrid" and "Keywords only"."""
    with transaction.atomic():
        if not SearchSettings.objects.filter(catalog=catalog).exists():
            for values in DEFAULTS:
                SearchSettings.objects.get_or_create(catalog=catalog, name=values["name"], defaults=values)
    return list(SearchSettings.objects.filter(catalog=catalog).select_related("fusion_config"))


@transaction.atomic
def search_settings_save(*, catalog: Catalog, values: Mapping[str, Any], by: Any = None,
                         settings: SearchSettings | None = None) -> SearchSettings:
    """Create (``settings`` None) or update search settings from a form's ``values``."""
    search_settings_ensure(catalog=catalog)
    clean = clean_settings(catalog, values)
    clash = SearchSettings.objects.filter(catalog=catalog, name=clean["name"])
    if settings is not None:
        clash = clash.exclude(pk=settings.pk)
    if clash.exists():
        raise SearchInputError(_("name: settings called “%(name)s” already exist; choose another name.")
                               % {"name": clean["name"]})
    if settings is not None and settings.is_default and not clean["is_default"]:
        clean["is_default"] = True  # there is always one default; make another the default instead
    if clean["is_default"]:
        others = SearchSettings.objects.filter(catalog=catalog, is_default=True)
        (others.exclude(pk=settings.pk) if settings is not None else others).update(is_default=False)
    if settings is None:
        settings = SearchSettings(catalog=catalog)
    for key, value in clean.items():
        setattr(settings, key, value)
    settings.updated_by = by if getattr(by, "pk", None) else None
    settings.save()
    return settings


def settings_values(settings: SearchSettings) -> dict[str, Any]:
    return {f: getattr(settings, f) for f in FIELDS}


def engine_config(base: SearchConfig, values: Mapping[str, Any]) -> SearchConfig:
    """The index's own config (fields, columns) with the settings' query-time choices."""
    return dataclasses.replace(
        base, mode=values["mode"], fusion=values["fusion"], lexical_weight=float(values["lexical_weight"]),
        dense_weight=float(values["dense_weight"]), boost=float(values["boost"]),
        synonyms=parse_synonyms(values["synonyms"]))


def _rules(catalog: Catalog, config: FusionConfig | None) -> tuple[tuple[Rule, ...], str]:
    """The business rules of ``config`` (None: the catalog's default fusion config; none: no rules) and the
    name of the config they come from ("" for none)."""
    config = config or FusionConfig.objects.filter(catalog=catalog, is_default=True).first()
    if config is None:
        return (), ""
    try:
        return parse_settings(config_settings(config)).rules, config.name
    except FusionConfigError as exc:
        raise SearchInputError(_("fusion config “%(name)s”: %(error)s") % {"name": config.name, "error": exc}) from None


def _default_settings(catalog: Catalog) -> SearchSettings:
    """The catalog's default settings (one query once they exist; the first call creates them)."""
    found = SearchSettings.objects.filter(catalog=catalog, is_default=True).select_related("fusion_config").first()
    return found or search_settings_ensure(catalog=catalog)[0]


# -- personalisation ------------------------------------------------------------------------

def shopper_profile(*, catalog: Catalog, shopper_external_id: str, engine: SearchEngine) -> tuple[np.ndarray | None, int]:
    """(unit profile vector (d,) or None, number of recent events it is made of); see the module doc."""
    if engine.dense is None:
        return None, 0
    rows = list(Event.objects.filter(catalog=catalog, shopper__external_id=shopper_external_id,
                                     product__isnull=False, type__in=PROFILE_TYPES)
                .order_by("-timestamp", "-pk").values_list("product__external_id", "type")[:PROFILE_EVENTS])
    if not rows:
        return None, 0
    positions = pd.Index(engine.products["id"]).get_indexer([pid for pid, _t in rows])
    weights = np.array([EVENT_WEIGHTS[t] for _p, t in rows], dtype=np.float32)
    profile = profile_vector(positions, weights, engine.dense.vectors)
    return profile, int((positions >= 0).sum()) if profile is not None else 0


# -- querying ---------------------------------------------------------------------------------

def _engine_for(loaded: LoadedIndex, config: SearchConfig, catalog: Catalog, rules: Sequence[Rule]) -> SearchEngine:
    """A shallow copy of the loaded engine running ``config``; stock as the database says now."""
    engine = loaded.engine.with_config(config)
    if any(isinstance(r, InStock) and r.column == "in_stock" for r in rules) and "in_stock" in engine.products:
        out = set(Product.objects.filter(catalog=catalog, in_stock=False).values_list("external_id", flat=True))
        engine.products = engine.products.assign(in_stock=~engine.products["id"].isin(out))
    columns = set(engine.products.columns)
    for n, rule in enumerate(rules, start=1):
        column = getattr(rule, "column", None)
        if column is not None and column not in columns:
            raise SearchInputError(_("rule %(n)d (%(kind)s): the product column “%(column)s” is not in the search "
                                     "index; use one of %(columns)s.")
                                   % {"n": n, "kind": rule.kind, "column": column, "columns": ", ".join(sorted(columns))})
    return engine


def _query(text: str) -> str:
    text = str(text or "").strip()
    if not text:
        raise SearchInputError(_("query: type something to search for."))
    return text[:MAX_QUERY]


def search(*, catalog: Catalog, query: str, k: int = 10, settings: SearchSettings | Mapping[str, Any] | None = None,
           shopper: str | None = None, profile_weight: float | None = None, context: str = "", offset: int = 0,
           filters: Mapping[str, tuple[str, ...]] | None = None, exclude: Sequence[str] = ()) -> dict[str, Any]:
    """Run ``query`` with ``settings`` (saved, an unsaved dict, or None: the default) on the active index: the
    ``k`` results from ``offset`` (the dashboard's search page and the storefront API both call this).

    ``profile_weight`` overrides the settings' weight when given. The rules see the shopper's purchases and
    recent events from the database (exclude-bought / exclude-recent) and ``context`` (pins limited to a page).
    ``filters`` (column → values, any of) and ``exclude`` (product ids) are the request's own; an unknown filter
    column is a :class:`SearchInputError`. Returns ``{"version", "settings",
    "query" (the parsed query), "suggestion", "shopper", "took_ms", "hits": [{rank, item_id, product_pk,
    title, price, currency, image_url, category, score, signals, reasons}]}``. Raises
    :class:`SearchInputError` for bad input and :class:`SearchUnavailable` when there is no index.
    """
    text = _query(query)
    k = max(1, min(int(k), MAX_K))
    if settings is None:
        settings = _default_settings(catalog)
    values = settings_values(settings) if isinstance(settings, SearchSettings) else clean_settings(catalog, settings)
    weight = values["profile_weight"] if profile_weight is None else _float(
        {"profile_weight": profile_weight}, "profile_weight", 0.0, 0.0, MAX_WEIGHT)
    version, loaded = active_index(catalog)
    rules, rules_from = _rules(catalog, values["fusion_config"])
    bought = purchased_item_ids(catalog_id=catalog.pk, shopper_external_id=shopper, rules=rules) if shopper else []
    recent = recent_item_ids(catalog_id=catalog.pk, shopper_external_id=shopper, rules=rules) if shopper else []
    with loaded.lock:
        engine = _engine_for(loaded, engine_config(loaded.engine.config, values), catalog, rules)
        profile, history = (shopper_profile(catalog=catalog, shopper_external_id=shopper, engine=engine)
                            if shopper else (None, 0))
        started = time.perf_counter()
        try:
            result = engine.search(text, k=k, user_profile=profile,
                                   profile_weight=weight if profile is not None else 0.0, rules=rules, bought=bought,
                                   recent=recent, context=context, filters=filters, exclude=exclude, offset=offset)
        except ValueError as exc:  # a filter on a column the index does not have
            raise SearchInputError(_("filter: %(error)s") % {"error": exc}) from None
        took = (time.perf_counter() - started) * 1000
    return {
        "version": version.number, "took_ms": round(took, 1), "query": result.query.to_dict(),
        "suggestion": result.suggestion,
        "settings": {"name": values["name"], "mode": values["mode"], "fusion": values["fusion"],
                     "profile_weight": weight, "rules": len(rules), "fusion_config": rules_from},
        "shopper": {"id": shopper, "history": history, "personalised": profile is not None and weight > 0}
        if shopper else None,
        "hits": _hits(catalog, result.hits, offset),
    }



def _hits(catalog: Catalog, hits: Sequence[Any], offset: int = 0) -> list[dict[str, Any]]:
    products = {p.external_id: p for p in Product.objects.filter(catalog=catalog,
                                                                 external_id__in=[h.product_id for h in hits])}
    out = []
    for rank, h in enumerate(hits, start=offset + 1):
        p = products.get(h.product_id)
        out.append({
            "rank": rank, "item_id": h.product_id, "product_pk": p.pk if p else None,
            "title": p.title if p else h.product_id, "price": str(p.price) if p and p.price is not None else None,
            "currency": (p.currency or catalog.default_currency) if p else "", "image_url": p.image_url if p else "",
            "category": p.category_path if p else "", "in_stock": p.in_stock if p else None,
            "score": h.score if math.isfinite(h.score) else None,  # a pinned slot has no score
            "signals": {name: round(v, 4) for name, v in h.signals.items()}, "reasons": list(h.reasons),
        })
    return out


def search_compare(*, catalog: Catalog, query: str, a: SearchSettings, b: SearchSettings, k: int = 10,
                   shopper: str | None = None, profile_weight: float | None = None, context: str = "") -> dict[str, Any]:
    """Both settings on one query: ``{"a": result, "b": result}``; B's hits carry ``change`` versus A
    ("new", or places moved up (> 0) / down (< 0))."""
    ra = search(catalog=catalog, query=query, k=k, settings=a, shopper=shopper, profile_weight=profile_weight,
                context=context)
    rb = search(catalog=catalog, query=query, k=k, settings=b, shopper=shopper, profile_weight=profile_weight,
                context=context)
    before = {h["item_id"]: h["rank"] for h in ra["hits"]}
    for h in rb["hits"]:
        h["change"] = "new" if h["item_id"] not in before else before[h["item_id"]] - h["rank"]
    return {"a": ra, "b": rb}
