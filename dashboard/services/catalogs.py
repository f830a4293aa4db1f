"""Writes to catalogs."""
from __future__ import annotations

from typing import Any

from django.db import transaction

from dashboard.models import Catalog
from dashboard.services.audit import audit


def catalog_create(*, name: str, slug: str, description: str = "", default_currency: str = "GBP",
                   event_weights: dict[str, float] | None = None) -> Catalog:
    return Catalog.objects.create(
        name=name, slug=slug, description=description, default_currency=default_currency,
        event_weights=event_weights or {},
    )


EDITABLE = ("name", "slug", "description", "default_currency", "event_weights")


def catalog_update(*, catalog: Catalog, actor: Any, **fields: Any) -> Catalog:
    """Change the catalog's settings (``EDITABLE``), audited with the fields that changed.

    ``event_weights`` take effect from the next training job (a job keeps the table it started with).
    """
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not a catalog setting: {', '.join(sorted(unknown))}")
    changed = {name: value for name, value in fields.items() if getattr(catalog, name) != value}
    if not changed:
        return catalog
    with transaction.atomic():
        for name, value in changed.items():
            setattr(catalog, name, value)
        catalog.save(update_fields=[*changed, "updated_at"])
        audit(actor=actor, action="catalog.update", catalog=catalog, target=f"catalog {catalog.slug}",
              detail={name: value for name, value in changed.items() if name != "description"})
    return catalog
