"""Trending now: products ranked by time-decayed interaction counts, overall or within a category.

An event of weight ``w`` (the catalog's event weights) at time ``t`` counts ``w × 2 ** (−(now − t) / h)``
now, ``h`` the catalog's half-life (:attr:`~dashboard.models.OnlineState.trending_half_life_hours`).
The store keeps ``w × 2 ** ((t − t0) / h)`` for a fixed ``t0`` (so adding an event never touches the
others and the order never changes with time) and :func:`trending` multiplies by
``2 ** (−(now − t0) / h)`` when it reads. A new half-life rescales nothing: the state is rebuilt from the
stored events (:func:`half_life_set`).
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from dashboard.models import Catalog, OnlineState
from dashboard.services import online_state
from dashboard.services.online_state_apply import categories_of
from dashboard.services.online_state_store import StoreDown
from mlcore.serving.bundle import Bundle

MAX_TRENDING = 1000  # the deepest a trending list goes (offset + n)


class TrendingInputError(ValueError):
    """A half-life that is not a positive number of hours; the message says the fix."""


def trending(catalog: Catalog, *, n: int = 10, offset: int = 0, category: str = "") -> list[tuple[str, float]]:
    """``[(product id, score now)]``, best first, from ``offset``; ``category`` (a path or one of its top
    levels, e.g. ``"Home"`` or ``"Home > Kitchen"``) narrows it. Empty when nothing is trending or the store
    is down."""
    st = online_state.store()
    if st.name == "memory":
        online_state.refresh_soon(catalog.pk)
    prefix = online_state.prefix_of(catalog)
    path = categories_of(category)
    key = f"trend:c:{path[-1]}" if path else "trend"
    try:
        raw_t0 = st.get(prefix, "t0")
        top = st.top(prefix, key, min(offset + n, MAX_TRENDING)) if raw_t0 else []
    except StoreDown as exc:
        online_state._read_failed("trending", exc)
        return []
    if not top:
        return []
    half_life_s = online_state.settings_of(catalog).trending_half_life_hours * 3600.0
    factor = 2.0 ** (-(time.time() - float(raw_t0 or 0)) / half_life_s)
    return [(item, score * factor) for item, score in top[offset:offset + n] if score > 0]


def trending_row(catalog: Catalog, bundle: Bundle, *, depth: int = 500) -> np.ndarray | None:
    """(n_items,) float32: each bundle item's trending score now (0 for items not in the top ``depth``);
    None when nothing is trending."""
    found = trending(catalog, n=depth)
    if not found:
        return None
    cols = bundle.items.index([item for item, _score in found])
    row = np.zeros(len(bundle.items), dtype=np.float32)
    known = cols >= 0
    row[cols[known]] = np.asarray([score for _item, score in found], dtype=np.float32)[known]
    return row if row.any() else None


def half_life_set(catalog: Catalog, hours: Any) -> OnlineState:
    """Set the catalog's trending half-life and rebuild its online state from the stored events (the
    rebuild needs the store; :class:`StoreDown` otherwise, with nothing changed)."""
    try:
        value = float(hours)
    except (TypeError, ValueError):
        raise TrendingInputError(_("The half-life must be a number of hours, e.g. 6.")) from None
    if not value > 0.01 or value > 24 * 365:
        raise TrendingInputError(_("The half-life must be between 0.01 and 8760 hours."))
    online_state.store().ping()
    row = online_state.settings_of(catalog, fresh=True)
    row.trending_half_life_hours = value
    row.save(update_fields=["trending_half_life_hours"])
    online_state.settings_forget()
    online_state.rebuild(catalog)
    return row


def trending_body(*, catalog: Catalog, n: int, offset: int, category: str, request_id: str,
                  token_id: int | None = None) -> dict[str, Any]:
    """The response body of ``GET …/trending`` (logged as an impression of surface ``trending``)."""
    from dashboard.services.storefront import _Page, cards

    page = _Page(catalog, "trending", n, offset, request_id, token_id)
    found = trending(catalog, n=n, offset=offset, category=category)
    half_life = online_state.settings_of(catalog).trending_half_life_hours
    reason = _("Trending now (half-life %(h)s h)") % {"h": f"{half_life:g}"}
    items = cards(catalog, [(item, score, reason, None) for item, score in found], offset)
    body = page.body(items, model_version=None, fallback=None if items else "nothing_trending")
    return {**body, "category": category, "half_life_hours": half_life}
