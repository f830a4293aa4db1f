"""Serving: a process-wide cache of loaded bundles, and the one path every recommendation list takes.

The cache is keyed by (version id, artifact path), so promoting another version
is picked up on the next call without a restart. :func:`serve` is what the fusion
preview and the storefront API both call; all ranking (fusion, rules, MMR,
explanations, guests' session rankings, the popularity fallback) happens in
:func:`mlcore.serving.recommend.recommend`.

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
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard.models import Catalog, Event, EventType, Fallback, FusionConfig, ModelVersion, Product
from dashboard.selectors.fusion import fusion_config_default
from dashboard.selectors.training import active_version
from dashboard.services.fusion import FusionConfigError, FusionSettings, config_settings, parse_settings
from dashboard.services.online_state_serving import live_signals
from mlcore.fusion import (
    ExcludeBought,
    ExcludeRecent,
    Explanation,
    Rule,
    hashed_text_vectors,
    truthy,
)
from mlcore.serving.bundle import Bundle, load_bundle
from mlcore.serving.recommend import recommend
from mlcore.serving.requests import RecommendRequest

log = logging.getLogger(__name__)
_CACHE: dict[tuple[int, str], Bundle] = {}
_VECTORS: dict[tuple[int, str], np.ndarray] = {}
_LOCK = threading.Lock()
_STATE: dict[tuple[int, str], tuple[float, Any]] = {}
STATE_TTL_S = 2.0
BOUGHT_LIMIT = 5000  # a shopper's most recent purchases that the exclude-bought rule reads from the database
RECENT_LIMIT = 5000  # a shopper's most recent events that the exclude-recent rule reads from the database
STOCK_COLUMN = "in_stock"
STOCK_IN_LIST_MAX = 2000


class ServingError(LookupError):
    """Nothing to serve (no active version, or its artifacts are gone); the message says what to do."""


class Warming(ServingError):
    """The active version is still loading in this process (a request that must not wait gets a fallback)."""


@dataclass(frozen=True)
class Served:
    """A ranked list and what served it."""

    version: ModelVersion
    config_name: str
    items: list[Explanation]
    fallback: str | None


def bundle_for(version: ModelVersion) -> Bundle:
    """The loaded bundle of ``version`` (loaded once per process; older versions' bundles dropped)."""
    key = (version.pk, version.artifact_path)
    with _LOCK:
        bundle = _CACHE.get(key)
        if bundle is None:
            try:
                bundle = load_bundle(version.artifact_path)
            except FileNotFoundError:  # the message names no server path: pages show it to every role
                log.warning("version %s: artifacts missing from %s", version.pk, version.artifact_path)
                raise ServingError(f"version {version.number}'s artifacts are missing; roll back to an earlier "
                                   "version or train a new one") from None
            except Exception as exc:  # truncated or damaged files: whatever the reader raised
                log.warning("version %s: artifacts at %s unreadable: %r", version.pk, version.artifact_path, exc)
                raise ServingError(f"version {version.number}'s artifacts are damaged and cannot be read; roll back "
                                   "to an earlier version or train a new one") from None
            for old in [k for k in _CACHE if k[0] == version.pk or k not in _in_use()]:
                _CACHE.pop(old, None)
                _VECTORS.pop(old, None)
            _CACHE[key] = bundle
        return bundle


def _in_use() -> set[tuple[int, str]]:
    """The bundles worth keeping: active versions and those a running experiment serves."""
    from dashboard.services.experiments.assignment import experiment_version_keys

    return set(ModelVersion.objects.filter(state="active").values_list("pk", "artifact_path")) | experiment_version_keys()


def clear_cache() -> None:
    from dashboard.services.experiments.assignment import cache_clear as experiments_cache_clear

    with _LOCK:
        _CACHE.clear()
        _VECTORS.clear()
    state_cache_clear()
    experiments_cache_clear()


def state_cache_clear(**_signal_kwargs: Any) -> None:
    """Forget the cached active versions and default configs (on any save of either, in this process)."""
    _STATE.clear()


def _state(catalog: Catalog, what: str, *, fresh: bool = True) -> Any:
    """The catalog's active version (``what="version"``) or default fusion config (``"config"``). ``fresh=False``
    (the storefront API) reads it at most every :data:`STATE_TTL_S` seconds per process: a promotion or a
    config saved here is served at once, one made in another process within that time (a query fewer each)."""
    now = time.monotonic()
    key = (catalog.pk, what)
    found = _STATE.get(key)
    if fresh or found is None or found[0] < now:
        value = active_version(catalog=catalog) if what == "version" else fusion_config_default(catalog=catalog)
        found = _STATE[key] = (now + STATE_TTL_S, value)
    return found[1]


def active_bundle(catalog: Catalog, *, wait: bool = True) -> tuple[ModelVersion, Bundle]:
    """The active version and its loaded bundle. ``wait=False`` (the storefront API) raises :class:`Warming`
    (and starts the load in the background) when this process has not loaded it yet, and may serve a
    version promoted in another process up to :data:`STATE_TTL_S` seconds late."""
    version: ModelVersion | None = _state(catalog, "version", fresh=wait)
    if version is None:
        raise ServingError(_("This catalog has no active model version yet: train one and promote it."))
    return version_bundle(version, wait=wait)


def version_bundle(version: ModelVersion, *, wait: bool = True) -> tuple[ModelVersion, Bundle]:
    """``version`` (e.g. an experiment variant's, not the active one) and its loaded bundle; ``wait=False``
    as in :func:`active_bundle`."""
    if not wait and (version.pk, version.artifact_path) not in _CACHE:
        warm_in_background(version)
        raise Warming(_("Version %(n)s is still loading in this process.") % {"n": version.number})
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


def serve(*, catalog: Catalog, request: RecommendRequest, config: FusionConfig | Mapping[str, Any] | None = None,
          wait: bool = True, version: ModelVersion | None = None) -> Served:
    """The one path every recommendation list takes (the fusion preview and the storefront API alike).

    ``config``: a saved fusion config, an unsaved settings dict (the preview's editor), or None for the
    catalog's default config (the bundle's own fusion and no rules when the catalog has none). Rules act
    on current stock, on purchases made after training and on the shopper's recent events (see the module
    doc). ``wait=False`` (the API): when this process has not loaded the active version yet, start loading
    it in the background and raise :class:`Warming` instead of waiting. Raises :class:`ServingError` with
    nothing to serve, :class:`FusionConfigError` for invalid settings, ValueError for an unknown filter column.
    ``version``: serve this model version instead of the active one (an experiment's variant).
    """
    version, bundle = active_bundle(catalog, wait=wait) if version is None else version_bundle(version, wait=wait)
    if config is None:
        config = _state(catalog, "config", fresh=wait)
    name = config.name if isinstance(config, FusionConfig) else str((config or {}).get("name", ""))
    raw = config_settings(config) if isinstance(config, FusionConfig) else dict(config or {})
    if not raw:
        raw = {"weights": bundle.fusion.weights, "normalization": bundle.fusion.normalization,
               "mode": bundle.fusion.mode}
    settings = parse_settings(raw, signals=list(bundle.models))
    _check_columns(settings, list(dict.fromkeys([*bundle.products.columns, STOCK_COLUMN])))
    products = current_products(catalog_id=catalog.pk, bundle=bundle, settings=settings)
    bought: list[str] = []
    recent: list[str] = []
    if request.shopper is not None:
        bought = purchased_item_ids(catalog_id=catalog.pk, shopper_external_id=request.shopper, rules=settings.rules)
        recent = recent_item_ids(catalog_id=catalog.pk, shopper_external_id=request.shopper, rules=settings.rules)
    vectors = _item_vectors(version, bundle) if settings.diversity is not None else None
    live = live_signals(catalog, bundle, request, settings.fusion.weights)  # the online state's co-occurrence, trending
    response = recommend(bundle, request, fusion=settings.fusion, rules=settings.rules, mmr_lambda=settings.diversity,
                         item_vectors=vectors, candidates=settings.pool_size, extra_seen=bought, products=products,
                         recent_seen=recent, popular=settings.fallback != Fallback.NONE, live=live)
    return Served(version=version, config_name=name, items=list(response.items), fallback=response.fallback)


def reason(e: Explanation) -> str:
    """One line on why an item is in a list, in the operator's language."""
    if e.path:
        return str(e.path)
    if not e.contributions:
        return _("Popular with other shoppers (no history for this shopper yet).")
    top = max(e.contributions, key=lambda c: c.value)
    return _("Mostly from the %(signal)s signal.") % {"signal": top.signal}


def _check_columns(settings: FusionSettings, columns: list[str]) -> None:
    for n, rule in enumerate(settings.rules, start=1):
        column = getattr(rule, "column", None)
        if column is not None and column not in columns:
            raise FusionConfigError(_("rule %(n)s (%(kind)s): the product column %(column)r does not exist; "
                                      "use one of %(columns)s") % {"n": n, "kind": rule.kind, "column": column,
                                                                   "columns": ", ".join(columns)})


# -- warming: loads happen in the background, never inside a storefront request ----------------------

_WARMING: set[tuple[int, str]] = set()


def is_warm(version: ModelVersion) -> bool:
    """Whether this process holds ``version``'s bundle (and its search index, when it has one)."""
    from dashboard.services.search_index import index_is_loaded

    key = (version.pk, version.artifact_path)
    return key in _CACHE and index_is_loaded(version)


def warm(version: ModelVersion) -> None:
    """Load ``version``'s bundle, item vectors and search index into this process (a web process's start-up
    and readiness probe call it in a background thread, so no request waits for a load)."""
    from dashboard.services.search_index import SearchUnavailable, index_for

    bundle = bundle_for(version)
    _item_vectors(version, bundle)
    try:
        index_for(version)
    except SearchUnavailable:
        pass


def warm_in_background(version: ModelVersion) -> None:
    """:func:`warm` in a daemon thread, unless one is already loading ``version`` in this process."""
    key = (version.pk, version.artifact_path)
    with _LOCK:
        if key in _WARMING:
            return
        _WARMING.add(key)

    def run() -> None:
        try:
            warm(version)
        except Exception:
            log.exception("loading version %s failed", version.pk)
        finally:
            with _LOCK:
                _WARMING.discard(key)
            connection.close()

    threading.Thread(target=run, name=f"serving-warm-{version.pk}", daemon=True).start()


def warm_active_in_background() -> None:
    """Start loading every active version in a daemon thread (called once when a web process starts)."""

    def run() -> None:
        try:
            for version in ModelVersion.objects.filter(state="active"):
                warm(version)
        except Exception:  # a broken version must not stop the process from starting
            log.exception("warming the active model versions failed")
        finally:
            connection.close()

    threading.Thread(target=run, name="serving-warm", daemon=True).start()
