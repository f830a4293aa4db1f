"""Reads about catalogs."""
from __future__ import annotations

from typing import Any

from dashboard.models import Catalog


def catalog_summary(*, catalog: Catalog) -> dict[str, Any]:
    """Counts shown on the catalog overview."""
    return {
        "product_count": catalog.products.count(),
        "shopper_count": catalog.shoppers.count(),
        "event_count": catalog.events.count(),
    }
