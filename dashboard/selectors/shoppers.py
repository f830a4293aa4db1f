"""Reads about shoppers: the list with activity counts, and one shopper's history."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from dashboard.models import Catalog, Event, Shopper

SORTS = {
    "id": ("external_id",),
    "-events": ("-event_count", "external_id"),
    "-last_seen": ("-last_seen", "external_id"),
}


def shopper_list(*, catalog: Catalog, q: str = "", sort: str = "id") -> QuerySet[Shopper]:
    """Shoppers whose id contains ``q``, ordered by ``sort``; sorting by activity annotates ``event_count`` and
    ``last_seen`` (latest event time) over all shoppers, which is slow on large catalogs, so only then."""
    qs = catalog.shoppers.all()
    if q:
        qs = qs.filter(external_id__icontains=q)
    if sort in ("-events", "-last_seen"):
        qs = qs.annotate(event_count=Count("events"), last_seen=Max("events__timestamp"))
    return qs.order_by(*SORTS.get(sort, SORTS["id"]))


def with_activity(shoppers: Iterable[Shopper]) -> list[Shopper]:
    """The same shoppers with ``event_count`` and ``last_seen`` set, in one query (for one page)."""
    shoppers = list(shoppers)
    missing = [s.pk for s in shoppers if not hasattr(s, "event_count")]
    if missing:
        rows = (
            Event.objects.filter(shopper_id__in=missing).values("shopper_id")
            .annotate(n=Count("id"), last=Max("timestamp")).values_list("shopper_id", "n", "last")
        )
        activity = {pk: (n, last) for pk, n, last in rows}
        for shopper in shoppers:
            if not hasattr(shopper, "event_count"):
                shopper.event_count, shopper.last_seen = activity.get(shopper.pk, (0, None))  # type: ignore[attr-defined]
    return shoppers


def shopper_history(*, shopper: Shopper) -> QuerySet[Event]:
    """The shopper's events, newest first, with their products loaded."""
    return shopper.events.select_related("product").order_by("-timestamp", "-id")


def group_by_day(events: Iterable[Event]) -> list[tuple[dt.date, list[Event]]]:
    """Consecutive events grouped by their day in the current time zone, keeping their order."""
    days: list[tuple[dt.date, list[Event]]] = []
    for event in events:
        day = timezone.localdate(event.timestamp)
        if days and days[-1][0] == day:
            days[-1][1].append(event)
        else:
            days.append((day, [event]))
    return days


def shopper_events_recent(*, shopper: Shopper, limit: int = 1000) -> list[tuple[Any, ...]]:
    """The shopper's latest ``limit`` events with their products' facts, in one query: rows of
    ``(product external id or None, type, timestamp, query, title, category_path, brand, price)``."""
    rows = shopper.events.order_by("-timestamp", "-id").values_list(
        "product__external_id", "type", "timestamp", "query",
        "product__title", "product__category_path", "product__brand", "product__price")[:limit]
    return list(rows)
