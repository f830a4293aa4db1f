"""Reads about events: the catalog's event log."""
from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from dashboard.models import Catalog, Event, EventType


def event_list(*, catalog: Catalog, type: str = "", oldest_first: bool = False, since: dt.datetime | None = None,
               until: dt.datetime | None = None, shopper: str = "", product: str = "") -> QuerySet[Event]:
    """The catalog's events, newest first (or oldest first), with shopper and product loaded; optionally of one
    type, from ``since`` (inclusive) to ``until`` (exclusive), of one shopper or one product (external ids)."""
    qs = catalog.events.select_related("shopper", "product")
    if type in EventType.values:
        qs = qs.filter(type=type)
    if since is not None:
        qs = qs.filter(timestamp__gte=since)
    if until is not None:
        qs = qs.filter(timestamp__lt=until)
    if shopper:
        qs = qs.filter(shopper__external_id=shopper)
    if product:
        qs = qs.filter(product__external_id=product)
    return qs.order_by("timestamp", "id") if oldest_first else qs.order_by("-timestamp", "-id")
