"""Reads about events: the catalog's event log."""
from __future__ import annotations

from django.db.models import QuerySet

from dashboard.models import Catalog, Event, EventType


def event_list(*, catalog: Catalog, type: str = "", oldest_first: bool = False) -> QuerySet[Event]:
    """The catalog's events, newest first (or oldest first), optionally of one type, with shopper and product
    loaded."""
    qs = catalog.events.select_related("shopper", "product")
    if type in EventType.values:
        qs = qs.filter(type=type)
    return qs.order_by("timestamp", "id") if oldest_first else qs.order_by("-timestamp", "-id")
