"""Product and shopper insights for the pages (and, later, the API): related items and inferred interests.

Related items come from the active version's bundle (:mod:`mlcore.serving.related`); a shopper's profile is
built from their events in the database, so it is current even between trainings
(:mod:`mlcore.serving.profile`), with the bundle's text embeddings for its vector when there is a version.
Both return plain, JSON-ready dicts with a ``state`` and, when there is nothing to show, a ``message``
that says what to do.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from dashboard.models import Catalog, ModelVersion, Product, Shopper
from dashboard.selectors.fusion import fusion_config_default
from dashboard.selectors.products import catalog_prices, products_by_external_id
from dashboard.selectors.shoppers import shopper_events_recent
from dashboard.services.fusion import FusionConfigError
from dashboard.services.serving import ServingError, active_bundle, reason, serve
from mlcore.serving.bundle import Bundle
from mlcore.serving.profile import ShopperProfile, build_profile
from mlcore.serving.related import Reason, RelatedItem, UnknownItemError, complementary_items, similar_items
from mlcore.serving.requests import RecommendRequest

RELATED_K = 8
SHOPPER_RECOMMENDATIONS = 10
HISTORY_LIMIT = 1000


def product_related(*, catalog: Catalog, product: Product, k: int = RELATED_K) -> dict[str, Any]:
    """``{"state": "ok" | "no_version" | "unknown_product", "message", "version", "similar": [...],
    "complementary": [...]}``; each item: ``item_id, title, product`` (``pk, external_id, title, category_path,
    price, currency, image_url, in_stock``), ``score, reason, reasons, more_reasons, sources`` (each source's
    weighted part) and ``cross_category``."""
    try:
        version, bundle = active_bundle(catalog)
    except ServingError as exc:
        return {"state": "no_version", "message": str(exc), "version": None, "similar": [], "complementary": []}
    try:
        # A few spare items in case some were deleted from the catalog since training.
        similar = similar_items(bundle, product.external_id, 2 * k)
        complementary = complementary_items(bundle, product.external_id, 2 * k)
    except UnknownItemError:
        message = _("This product is newer than model version %(number)s, so it has no related items yet: "
                    "train and promote a new version to include it.") % {"number": version.number}
        return {"state": "unknown_product", "message": message, "version": version.number,
                "similar": [], "complementary": []}
    known = products_by_external_id(catalog=catalog, ids={r.item_id for r in similar + complementary})
    return {"state": "ok", "message": "", "version": version.number,
            "similar": _items(catalog, similar, known, k), "complementary": _items(catalog, complementary, known, k)}


def _items(catalog: Catalog, related: list[RelatedItem], known: dict[str, Product], k: int) -> list[dict[str, Any]]:
    """Items still in the catalog (a product deleted since training is left out), at most ``k``."""
    return [_item(catalog, r, known[r.item_id]) for r in related if r.item_id in known][:k]


def _item(catalog: Catalog, r: RelatedItem, p: Product) -> dict[str, Any]:
    reasons = [reason_text(x) for x in r.reasons]
    product = {"pk": p.pk, "external_id": p.external_id, "title": p.title, "category_path": p.category_path,
               "price": float(p.price) if p.price is not None else None,
               "currency": p.currency or catalog.default_currency, "image_url": p.image_url, "image_file": p.image_file,
               "in_stock": p.in_stock}
    return {
        "item_id": r.item_id, "title": p.title, "product": product, "score": round(r.score, 4),
        "reason": reasons[0] if reasons else "", "reasons": reasons, "more_reasons": " · ".join(reasons[1:]),
        "sources": {name: round(v, 4) for name, v in r.sources.items()}, "cross_category": r.cross_category,
    }


def reason_text(r: Reason) -> str:
    """A reason in the operator's language."""
    n, label = r.count or 0, r.label
    if r.code == "similar_text":
        return _("Similar description")
    if r.code == "co_shoppers":
        return ngettext("Bought by the same shopper (%(n)s)", "Bought by the same shoppers (%(n)s)", n) % {"n": n}
    if r.code == "similar_shoppers":
        return _("Liked by similar shoppers")
    if r.code == "bought_together":
        if not n:
            return _("Often bought together")
        return ngettext("Often bought together (%(n)s order)", "Often bought together (%(n)s orders)", n) % {"n": n}
    if r.code == "complements":
        return _("Goes with this product")
    if r.code == "same_brand":
        return _("Same brand: %(brand)s") % {"brand": label}
    if r.code == "same_category":
        return _("Same category: %(category)s") % {"category": label}
    if r.code == "shared_attribute":
        return _("Shares %(attribute)s") % {"attribute": label}
    if r.code == "shared_term":
        return _("Also a “%(term)s” item") % {"term": label}
    return _("Related: %(relation)s") % {"relation": label or r.code}


# -- shoppers -----------------------------------------------------------------------------------------
BANDS = {"budget": gettext_lazy("budget"), "mid": gettext_lazy("mid-range"), "premium": gettext_lazy("premium")}


def shopper_profile(*, catalog: Catalog, shopper: Shopper) -> dict[str, Any]:
    """``{"state": "ok" | "no_history", "message", "profile": ShopperProfile.to_dict() plus ``percent`` on each
    share and ``band_label``, "version", "known_to_model", "fusion_config"}`` from the shopper's latest events."""
    version, bundle = _bundle_or_none(catalog)
    config = fusion_config_default(catalog=catalog) if version is not None else None
    base = {"version": version.number if version else None, "fusion_config": config.pk if config else None,
            "known_to_model": bool(bundle is not None and shopper.external_id in bundle.users)}
    rows = shopper_events_recent(shopper=shopper, limit=HISTORY_LIMIT)
    if not rows:
        return {**base, "state": "no_history", "profile": None,
                "message": _("No events for this shopper yet, so there is nothing to infer interests from.")}
    frame = pd.DataFrame(rows, columns=["item_id", "event_type", "timestamp", "query", "title", "category", "brand",
                                        "price"])
    history = frame[["item_id", "event_type", "timestamp", "query"]]
    products = frame.loc[frame["item_id"].notna(), ["item_id", "title", "category", "brand", "price"]]
    products = products.assign(price=pd.to_numeric(products["price"], errors="coerce"))
    vectors = _text_vectors(bundle)
    if bundle is not None and "price" in bundle.products.columns:
        prices: Any = bundle.products["price"].to_numpy()
    else:
        prices = catalog_prices(catalog=catalog)
    profile = build_profile(history, products, vectors, bundle.items if bundle is not None else None,
                            catalog_prices=prices)
    return {**base, "state": "ok", "message": "", "profile": _profile_dict(profile)}


def product_lookalikes(*, catalog: Catalog, product: Product, k: int = RELATED_K) -> dict[str, Any]:
    """Products whose pictures look like this one's (the active version's ``image`` signal).

    ``{"state": "ok" | "no_image_signal" | "no_picture", "message", "items": [{"product", "score"}]}``.
    """
    _version, bundle = _bundle_or_none(catalog)
    image = bundle.models.get("image") if bundle is not None else None
    if image is None or bundle is None:
        return {"state": "no_image_signal", "items": [], "message": _(
            "The active version has no image signal: fetch product pictures and train with the image signal.")}
    index = bundle.items.index([product.external_id])[0]
    if index < 0 or not image.has_image[index]:  # type: ignore[attr-defined]
        return {"state": "no_picture", "items": [], "message": _(
            "This product had no usable picture when the active version was trained.")}
    top, sims = image.similar_items(np.array([index]), k=2 * k)  # type: ignore[attr-defined]
    ids = [bundle.items.ids[i] for i in top[0] if i >= 0]
    known = products_by_external_id(catalog=catalog, ids=ids)
    items = [{"product": known[item], "score": round(float(score), 4)}
             for item, score in zip(ids, sims[0], strict=False) if item in known][:k]
    return {"state": "ok", "message": "", "items": items}


def picture_title_check(*, catalog: Catalog, limit: int = 50) -> dict[str, Any]:
    """Products whose picture and title agree least (CLIP cosine, lowest first): pictures to check.

    ``{"state": "ok" | "no_image_signal", "message", "items": [{"product", "agreement"}], "median"}``.
    """
    _version, bundle = _bundle_or_none(catalog)
    image = bundle.models.get("image") if bundle is not None else None
    if image is None or bundle is None:
        return {"state": "no_image_signal", "items": [], "median": None, "message": _(
            "The active version has no image signal, so pictures and titles cannot be compared yet.")}
    agreement = np.asarray(image.title_agreement)  # type: ignore[attr-defined]
    pictured = np.flatnonzero(np.isfinite(agreement))
    order = pictured[np.argsort(agreement[pictured], kind="stable")][: 2 * limit]
    known = products_by_external_id(catalog=catalog, ids=[bundle.items.ids[i] for i in order])
    items = [{"product": known[bundle.items.ids[i]], "agreement": round(float(agreement[i]), 4)}
             for i in order if bundle.items.ids[i] in known][:limit]
    median = float(np.median(agreement[pictured])) if len(pictured) else None
    return {"state": "ok", "message": "", "items": items, "median": median}


def shopper_recommendations(*, catalog: Catalog, shopper: Shopper,
                            n: int = SHOPPER_RECOMMENDATIONS) -> dict[str, Any]:
    """What the storefront would show this shopper now: the catalog's default fusion config through the one
    serving path, with each item's product and reason. ``{"state": "ok" | "unavailable", "message", "items",
    "config", "version", "fallback"}``; ``message`` says what to do when there is nothing to show."""
    try:
        served = serve(catalog=catalog, request=RecommendRequest(shopper=shopper.external_id, n=n))
    except ServingError:
        return {"state": "unavailable", "items": [], "message": _(
            "No active model version yet: train and promote one to see this shopper's recommendations.")}
    except FusionConfigError as exc:
        return {"state": "unavailable", "items": [], "message": _(
            "The default fusion config cannot be applied: %(error)s") % {"error": exc}}
    known = products_by_external_id(catalog=catalog, ids=[str(e.extra["item_id"]) for e in served.items])
    items = [{"product": known[str(e.extra["item_id"])], "reason": reason(e),
              "contributions": [{"signal": c.signal, "value": c.value} for c in e.contributions]}
             for e in served.items if str(e.extra["item_id"]) in known]
    return {"state": "ok", "message": "", "items": items, "config": served.config_name,
            "version": served.version.number, "fallback": served.fallback}


def _bundle_or_none(catalog: Catalog) -> tuple[ModelVersion | None, Bundle | None]:
    try:
        return active_bundle(catalog)
    except ServingError:
        return None, None


def _text_vectors(bundle: Bundle | None) -> np.ndarray | None:
    text = bundle.models.get("text") if bundle is not None else None
    return np.asarray(text.item_embeddings) if text is not None else None  # type: ignore[attr-defined]


def _profile_dict(profile: ShopperProfile) -> dict[str, Any]:
    """The profile's dict with datetimes (not ISO strings), share percents and the price band's label."""
    out = profile.to_dict()
    for holder, key in ((out, "first_seen"), (out, "last_seen"), (out["intent"], "start"), (out["intent"], "end")):
        holder[key] = parse_datetime(holder[key]) if holder[key] else None
    for group in (out["categories"], out["brands"], out["intent"]["categories"]):
        for share in group:
            share["percent"] = round(100 * share["share"], 1)
    if out["price"]:
        out["price"]["band_label"] = str(BANDS.get(out["price"]["band"], out["price"]["band"]))
        if out["price"]["percentile"] is not None:
            out["price"]["percentile_percent"] = round(100 * out["price"]["percentile"])
    return out
