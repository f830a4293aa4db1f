"""What the storefront API serves: recommendations, related items, search and profiles, as response bodies.

Each function ranks through the same path the dashboard uses (:func:`dashboard.services.serving.serve` for
recommendations — the fusion preview calls it too —, :mod:`mlcore.serving.related` for related items,
:func:`dashboard.services.search.search` for search), turns the ranking into item cards read from the
database, and logs the served list as an impression (request id, shopper or session, surface, items in
order, model version, fusion config). Nothing here ever answers with a server error for a shopper or a
product the model does not know: it serves a simpler list and says why in ``fallback``:

- ``"popular"``: a shopper or guest the model knows nothing about — the most popular items;
- ``"session"``: a guest ranked from the items they just viewed;
- ``"no_model"``: the catalog has no active model version — the most popular products by recent events;
- ``"warming_up"``: this process is still loading the active version (it never makes a request wait) —
  the same popular products;
- ``"new_product"``: a product newer than the model — its text neighbours in the search index once a worker
  has encoded it (seconds after it is created), else popular items of its category;
- ``"no_index"``: a search before the first trained index — products whose title holds every query word.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError

from dashboard.models import Catalog, Event, Product, Shopper
from dashboard.services import serving
from dashboard.services.experiments.assignment import Arm, arm_for
from dashboard.services.impressions import impression_log
from dashboard.services.insights import reason_text
from dashboard.services.insights import shopper_profile as profile_of
from dashboard.services.online_state_serving import Ranked, live_request, with_new_products
from dashboard.services.search import SearchInputError, SearchUnavailable, search, search_settings_ensure
from mlcore.fusion import Explanation
from mlcore.serving.related import Reason, UnknownItemError, complementary_items, similar_items
from mlcore.serving.requests import RecommendRequest

POPULAR_DAYS = 90  # the no-model fallback counts events this far back
RELATED_SPARE = 5  # related items asked for beyond the page, in case some were deleted since training


@dataclass(frozen=True)
class _Page:
    """One served list's request: where it is shown, which page, to whom, and the request id it is logged under."""

    catalog: Catalog
    surface: str
    n: int
    offset: int
    request_id: str
    token_id: int | None
    shopper: str = ""
    session: str = ""
    arm: Arm | None = None  # the experiment variant that serves this list

    def body(self, items: list[dict[str, Any]], *, model_version: int | None, fusion_config: str = "",
             fallback: str | None = None) -> dict[str, Any]:
        """The response body of the served list; the list is logged as an impression."""
        impression_log(catalog_id=self.catalog.pk, request_id=self.request_id, surface=self.surface,
                       items=[it["item_id"] for it in items], shopper_id=self.shopper, session_id=self.session,
                       model_version=model_version, fusion_config=fusion_config, fallback=fallback or "",
                       variant=self.arm.label if self.arm else "", token_id=self.token_id)
        return {"request_id": self.request_id, "model_version": model_version, "fusion_config": fusion_config,
                "variant": self.arm.label if self.arm else None, "fallback": fallback, "surface": self.surface, "n": self.n, "offset": self.offset,
                "items": items}

    def unranked(self, ids: Sequence[str], *, fallback: str, model_version: int | None = None) -> dict[str, Any]:
        """The body of a fallback list: ``ids`` (this page's), with no scores or reasons."""
        return self.body(cards(self.catalog, [(i, None, "", None) for i in ids], self.offset),
                         model_version=model_version, fallback=fallback)


def cards(catalog: Catalog, ranked: Sequence[tuple[str, float | None, str, dict[str, Any] | None]],
          offset: int = 0) -> list[dict[str, Any]]:
    """Item cards for ``(item id, score, reason, explanation or None)``, best first; products gone from the
    catalog since training are left out (one query)."""
    rows = Product.objects.filter(catalog=catalog, external_id__in=[r[0] for r in ranked]).values_list(
        "external_id", "title", "price", "currency", "image_url", "category_path", "in_stock")
    products = {row[0]: row for row in rows}  # plain tuples: no model instances, no attribute JSON
    out: list[dict[str, Any]] = []
    for item_id, score, reason, explanation in ranked:
        p = products.get(item_id)
        if p is None:
            continue
        _id, title, price, currency, image_url, category, in_stock = p
        card = _card(offset + len(out) + 1, item_id, title, price, currency or catalog.default_currency, image_url,
                     category, in_stock, score, reason)
        if explanation is not None:
            card["explanation"] = explanation
        out.append(card)
    return out


def _card(position: int, item_id: str, title: str, price: Any, currency: str, image_url: str, category: str,
          in_stock: bool | None, score: float | None, reason: str) -> dict[str, Any]:
    """One item of a served list, in the API's shape."""
    return {"position": position, "item_id": item_id, "title": title,
            "price": float(price) if price is not None else None, "currency": currency, "image_url": image_url,
            "category": category, "in_stock": in_stock,
            "score": round(score, 6) if score is not None and math.isfinite(score) else None, "reason": reason}


def _explanation(e: Explanation) -> dict[str, Any]:
    return {"contributions": [{"signal": c.signal, "normalized": round(c.normalized, 6), "weight": c.weight,
                               "value": round(c.value, 6)} for c in e.contributions],
            "rules": list(e.rules), "path": e.path}


def _popular_page(page: _Page, *, category: str = "", exclude: Sequence[str] = ()) -> list[str]:
    """The page's slice of the most popular products (see :func:`_popular_ids`)."""
    return _popular_ids(page.catalog, page.offset + page.n, category=category, exclude=exclude)[page.offset:]


def _popular_ids(catalog: Catalog, k: int, *, category: str = "", exclude: Sequence[str] = ()) -> list[str]:
    since = timezone.now() - dt.timedelta(days=POPULAR_DAYS)
    rows = Event.objects.filter(catalog=catalog, product__isnull=False, timestamp__gte=since)
    if category:
        rows = rows.filter(product__category_path__startswith=category)
    if exclude:
        rows = rows.exclude(product__external_id__in=list(exclude))
    ranked = (rows.values("product__external_id").annotate(n=Count("id")).order_by("-n", "product__external_id")
              .values_list("product__external_id", flat=True)[:k])
    ids = list(ranked)
    if len(ids) < k:  # a quiet catalog: fill with the newest products
        more = Product.objects.filter(catalog=catalog).exclude(external_id__in=[*ids, *exclude])
        if category:
            more = more.filter(category_path__startswith=category)
        ids += list(more.order_by("-created_at", "external_id").values_list("external_id", flat=True)[:k - len(ids)])
    return ids


def _filters(params: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """The request's own filters: ``filter=column:value`` pairs and ``category`` values."""
    filters = dict(params.get("filter") or {})
    if params.get("category"):
        filters["category"] = tuple(params["category"])
    return filters


def request_of(params: Mapping[str, Any]) -> RecommendRequest:
    """The engine's request from validated API parameters."""
    filters = _filters(params)
    return RecommendRequest(shopper=params.get("shopper") or None, recent_items=tuple(params.get("recent") or ()),
                            context_item=params.get("context_item") or None, n=int(params.get("n", 10)),
                            offset=int(params.get("offset", 0)), filters=filters,
                            exclude=tuple(params.get("exclude") or ()), context=params.get("page") or "")


def recommendations(*, catalog: Catalog, params: Mapping[str, Any], request_id: str,
                    token_id: int | None = None) -> dict[str, Any]:
    """The recommendations body for validated :class:`~dashboard.api.serializers.RecommendationParams`."""
    req = live_request(catalog, request_of(params), session=params.get("session") or None)  # the online state
    explain = bool(params.get("explain"))
    arm = arm_for(catalog, "recommendations", shopper=req.shopper or "", session=params.get("session") or "")
    page = _Page(catalog, params.get("surface") or "recommendations", req.n, req.offset, request_id, token_id,
                 req.shopper or "", params.get("session") or "", arm)
    try:
        served = serving.serve(catalog=catalog, request=req, wait=False, config=arm.fusion_config if arm else None,
                               version=arm.model_version if arm else None)
    except serving.ServingError as exc:
        return page.unranked(_popular_page(page, exclude=req.exclude),
                             fallback="warming_up" if isinstance(exc, serving.Warming) else "no_model")
    except ValueError as exc:  # a filter on a column the model's products do not have
        raise ValidationError({"filter": [str(exc)]}) from None
    ranked = [(str(e.extra["item_id"]), e.score, serving.reason(e), _explanation(e) if explain else None)
              for e in served.items]
    return page.body(cards(catalog, ranked, req.offset), model_version=served.version.number,
                   fusion_config=served.config_name, fallback=served.fallback)


def related(*, catalog: Catalog, product_id: str, kind: str, n: int, offset: int, request_id: str,
            token_id: int | None = None, shopper: str = "", session: str = "") -> dict[str, Any]:
    """Similar (``kind="similar"``) or complementary items of a product; 404 for a product not in the catalog."""
    product = Product.objects.filter(catalog=catalog, external_id=product_id).first()
    if product is None:
        raise NotFound(f"no product {product_id!r} in catalog {catalog.slug!r}; create it with PUT products first")
    arm = arm_for(catalog, kind, shopper=shopper, session=session)  # an experiment's variant may serve another version
    page = _Page(catalog, kind, n, offset, request_id, token_id, shopper, session, arm)
    try:
        if arm is not None and arm.model_version is not None:
            version, bundle = serving.version_bundle(arm.model_version, wait=False)
        else:
            version, bundle = serving.active_bundle(catalog, wait=False)
    except serving.ServingError as exc:
        return page.unranked(_popular_page(page, category=product.category_path, exclude=[product_id]),
                             fallback="warming_up" if isinstance(exc, serving.Warming) else "no_model")
    find = similar_items if kind == "similar" else complementary_items
    text = reason_text(Reason("similar_text"))  # products newer than the model join by their text
    try:
        found = find(bundle, product_id, offset + n + RELATED_SPARE)
    except UnknownItemError:
        new = with_new_products(version, bundle, product_id, [], k=offset + n, reason=text) if kind == "similar" else []
        if not new:
            return page.unranked(_popular_page(page, category=product.category_path, exclude=[product_id]),
                                 model_version=version.number, fallback="new_product")
        return page.body(cards(catalog, new[offset:], offset)[:n], model_version=version.number, fallback="new_product")
    ranked: list[Ranked] = [(r.item_id, r.score, reason_text(r.reasons[0]) if r.reasons else "", None) for r in found]
    if kind == "similar":  # products added since training, by their text (the search index's vectors)
        ranked = with_new_products(version, bundle, product_id, ranked, k=offset + n + RELATED_SPARE, reason=text)
    items = cards(catalog, ranked)[offset:offset + n]
    for position, card in enumerate(items, start=offset + 1):
        card["position"] = position
    return page.body(items, model_version=version.number)


def search_results(*, catalog: Catalog, params: Mapping[str, Any], request_id: str,
                   token_id: int | None = None) -> dict[str, Any]:
    """The search body: the parsed query, did-you-mean and a page of results (400 for a bad query/settings)."""
    chosen = None
    if params.get("settings"):
        chosen = next((s for s in search_settings_ensure(catalog=catalog) if s.name == params["settings"]), None)
        if chosen is None:
            raise ValidationError({"settings": [f"no search settings called {params['settings']!r}; omit it for "
                                                "the catalog's default"]})
    n, offset = int(params.get("n", 10)), int(params.get("offset", 0))
    arm = None if chosen is not None else arm_for(catalog, "search", shopper=params.get("shopper") or "",
                                                      session=params.get("session") or "")
    if arm is not None:  # a search experiment's variant names its settings (named settings in the request win)
        chosen = arm.search_settings
    page = _Page(catalog, "search", n, offset, request_id, token_id, params.get("shopper") or "",
                 params.get("session") or "", arm)
    try:
        result = search(catalog=catalog, query=params["q"], k=n, offset=offset, settings=chosen,
                        shopper=params.get("shopper") or None, filters=_filters(params),
                        exclude=tuple(params.get("exclude") or ()))
    except SearchInputError as exc:
        raise ValidationError({"q": [str(exc)]}) from None
    except SearchUnavailable:  # no trained index yet: products whose title holds every word of the query
        titled = Product.objects.filter(catalog=catalog)
        for word in str(params["q"]).split()[:10]:
            titled = titled.filter(title__icontains=word)
        ids = list(titled.order_by("title", "external_id").values_list("external_id", flat=True)[offset:offset + n])
        body = page.unranked(ids, fallback="no_index")
        return {**body, "query": {"text": params["q"]}, "suggestion": None, "settings": ""}
    items = [_card(h["rank"], h["item_id"], h["title"], h["price"], h["currency"], h["image_url"], h["category"],
                   h["in_stock"], h["score"], "; ".join(h["reasons"]))
             for h in result["hits"] if h["product_pk"] is not None]  # read with the hits: no second query
    body = page.body(items, model_version=result["version"],
                   fusion_config=result["settings"].get("fusion_config", ""))
    return {**body, "query": result["query"], "suggestion": result["suggestion"],
            "settings": result["settings"]["name"]}


def shopper_profile(*, catalog: Catalog, shopper_id: str) -> dict[str, Any]:
    """A shopper's inferred interests; 404 for a shopper the catalog has never seen."""
    shopper = Shopper.objects.filter(catalog=catalog, external_id=shopper_id).first()
    if shopper is None:
        raise NotFound(f"no shopper {shopper_id!r} in catalog {catalog.slug!r}; send their events first")
    out = profile_of(catalog=catalog, shopper=shopper)
    profile = out.get("profile")
    return {"shopper_id": shopper_id, "state": out["state"], "model_version": out["version"],
            "known_to_model": out["known_to_model"], "profile": _jsonable(profile) if profile else None}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
