"""Reads about catalogs: what is in one, and its events per day."""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, Min
from django.db.models.functions import TruncDate
from django.utils import timezone

from dashboard.models import Catalog, ImportBatch, Product


@dataclass(frozen=True)
class DailyCount:
    """Events of one type on one day (the operator's time zone)."""

    day: dt.date
    type: str
    count: int


def catalog_summary(*, catalog: Catalog) -> dict[str, Any]:
    """Counts, the date range of its events and its last import, as shown on the overview."""
    span = catalog.events.aggregate(first=Min("timestamp"), last=Max("timestamp"))
    return {
        "product_count": catalog.products.count(),
        "shopper_count": catalog.shoppers.count(),
        "event_count": catalog.events.count(),
        "first_event_at": span["first"],
        "last_event_at": span["last"],
        "last_import": ImportBatch.objects.filter(catalog=catalog).order_by("-created_at").first(),
    }


def events_per_day(*, catalog: Catalog, fingerprint: Hashable = None) -> list[DailyCount]:
    """Event counts per (day, type), days in the current time zone, oldest day first.

    Grouping a large catalog's events takes a while; pass a ``fingerprint`` that changes whenever its events do
    (e.g. their count and latest time, from ``catalog_summary``) to reuse the last answer from the cache.
    """
    tz = timezone.get_current_timezone()
    digest = hashlib.sha1(repr((catalog.created_at, fingerprint)).encode()).hexdigest()
    key = f"events-per-day:{catalog.pk}:{tz}:{digest}"
    if fingerprint is not None and (cached := cache.get(key)) is not None:
        return list(cached)
    rows = (
        catalog.events.annotate(day=TruncDate("timestamp", tzinfo=tz))
        .values("day", "type")
        .annotate(n=Count("id"))
        .order_by("day", "type")
    )
    daily = [DailyCount(day=row["day"], type=row["type"], count=row["n"]) for row in rows]
    if fingerprint is not None:
        cache.set(key, daily, timeout=24 * 3600)
    return daily


def top_products(*, catalog: Catalog, limit: int = 8, fingerprint: Hashable = None) -> list[tuple[Product, int]]:
    """The ``limit`` products with the most events, busiest first, as (product, event count).

    The counting is cached like ``events_per_day`` (same ``fingerprint``); the products are read fresh.
    """
    digest = hashlib.sha1(repr((catalog.created_at, fingerprint, limit)).encode()).hexdigest()
    key = f"top-products:{catalog.pk}:{digest}"
    counts: list[tuple[int, int]] | None = cache.get(key) if fingerprint is not None else None
    if counts is None:
        counts = list(
            catalog.events.filter(product__isnull=False)
            .values_list("product_id")
            .annotate(n=Count("id"))
            .order_by("-n", "product_id")[:limit]
        )
        if fingerprint is not None:
            cache.set(key, counts, timeout=24 * 3600)
    products = catalog.products.in_bulk([pk for pk, _ in counts])
    return [(products[pk], n) for pk, n in counts if pk in products]
