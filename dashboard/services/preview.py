"""The fusion preview: a shopper's recent history and the list :func:`~dashboard.services.serving.serve` gives
them under a saved or an edited fusion config — the very list the storefront API serves — with each item's
contributions, rules and reason, and the rank changes between two configs."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from dashboard.models import Catalog, Event, FusionConfig, Product
from dashboard.services.serving import ServingError, active_bundle, reason, serve
from mlcore.fusion import Explanation
from mlcore.serving.requests import RecommendRequest

HISTORY = 10


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
            "score": score, "rules": list(e.rules), "reason": reason(e),
            "contributions": [{"signal": c.signal, "normalized": c.normalized, "weight": c.weight, "value": c.value}
                              for c in e.contributions],
        })
    return out


def preview_for_shopper(*, catalog: Catalog, shopper_external_id: str | None,
                        config: FusionConfig | Mapping[str, Any] | None, k: int = 20,
                        context: str = "") -> dict[str, Any]:
    """The shopper's recent history and top-``k`` under ``config`` (a saved config, an unsaved settings dict, or
    None for the catalog's default — what the storefront API serves),
    as shown on the page ``context`` (e.g. "category:Home > Kitchen"; empty: no particular page).

    Returns ``{"shopper", "new_shopper", "version", "context", "history": [...], "items": [{rank, item_id, title, price,
    image_url, score, contributions: [{signal, normalized, weight, value}], rules, reason}]}``.
    Raises :class:`FusionConfigError` for invalid settings and :class:`ServingError` with nothing to serve.
    """
    sid = shopper_external_id or None
    context = context.strip()
    served = serve(catalog=catalog, request=RecommendRequest(shopper=sid, n=k, context=context), config=config)
    return {"shopper": sid, "new_shopper": served.fallback is not None, "version": served.version.number,
            "context": context, "history": _history(catalog, sid), "items": _items(catalog, served.items)}


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
