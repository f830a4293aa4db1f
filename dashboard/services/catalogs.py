"""Writes to catalogs."""
from __future__ import annotations

from dashboard.models import Catalog


def catalog_create(*, name: str, slug: str, description: str = "", default_currency: str = "GBP") -> Catalog:
    return Catalog.objects.create(
        name=name, slug=slug, description=description, default_currency=default_currency
    )
