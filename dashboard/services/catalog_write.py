"""Products changed through the API (``PUT``/``PATCH``/``DELETE …/products``), with the importer's checks and writer.

Each batch is checked like rows of an uploaded products file
(:func:`dashboard.services.import_validate.plan_from_frame`) and written in ONE transaction by
:func:`dashboard.services.import_write.write_plan`. Whole batch or nothing: one invalid product and
nothing changes (:class:`ProductsInputError` names every problem as ``products.<index>.<field>``).

- ``PUT`` (``partial=False``) creates or fully replaces each product: a field left out gets its
  default (empty text, no price, in stock, the catalog's currency, no attributes).
- ``PATCH`` (``partial=True``) changes only the fields each product gives (``attributes`` are
  merged key by key); the products must exist.
- New products join the search index on a worker after the commit (a web process never
  encodes products itself).
- Deleting a product deletes its events too.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import transaction

from dashboard.models import Catalog, Product
from dashboard.services.import_validate import BatchInputError, Plan, json_text, plan_from_frame
from dashboard.services.import_write import write_plan
from dashboard.services.search_index import index_catch_up_later
from mlcore.data.readers import ROW
from mlcore.data.validate import PRODUCT_FIELDS

MAX_PRODUCTS = 1000  # per request
FIELDS = tuple(spec.name for spec in PRODUCT_FIELDS)  # the API's names are the importer's
ATTRIBUTES = "attributes"


class ProductsInputError(BatchInputError):
    """The batch is invalid and nothing changed; ``errors`` is ``{"products.<index>.<field>": [messages]}``
    (``products`` alone for the batch as a whole)."""


@dataclass(frozen=True)
class UpsertResult:
    created: int
    updated: int



def _check_batch(size: int) -> None:
    if size > MAX_PRODUCTS:
        raise ProductsInputError({"products": [f"at most {MAX_PRODUCTS} products per request (this one has "
                                               f"{size}); split the batch"]})


def _plan(catalog: Catalog, products: Sequence[Mapping[str, Any]], indices: list[int], fields: Sequence[str],
          attributes: str | None, errors: dict[str, list[str]]) -> Plan:
    """The plan of ``products[i] for i in indices``, all giving ``fields``; problems go to ``errors``.

    ``attributes``: ``"replace"`` or ``"merge"`` the stored ones with the given ones, or ``None`` (keep them).
    """
    rows = [products[i] for i in indices]
    frame = pd.DataFrame({f: [json_text(p.get(f)) for p in rows] for f in fields}, index=pd.RangeIndex(len(rows)),
                         dtype="str")
    carry: tuple[str, ...] = ()
    if attributes is not None:
        frame[ATTRIBUTES] = pd.Series([dict(p.get(ATTRIBUTES) or {}) for p in rows], dtype=object)
        carry = (ATTRIBUTES,)
    frame[ROW] = indices
    plan = plan_from_frame(catalog=catalog, kind="products", frame=frame, mapping={f: f for f in fields}, carry=carry)
    plan.replace_attributes = attributes == "replace"
    for e in plan.errors:
        errors.setdefault(f"products.{e.row}.{e.column or e.field}", []).append(e.problem)
    return plan


def _precheck(products: Sequence[Mapping[str, Any]], errors: dict[str, list[str]]) -> list[int]:
    """Indices of the products to validate: the first of each id, with a dict (or nothing) as attributes."""
    first: dict[str, int] = {}
    keep = []
    for index, product in enumerate(products):
        pid = json_text(product.get("id")).strip()
        attributes = product.get(ATTRIBUTES)
        if attributes is not None and not isinstance(attributes, dict):
            errors[f"products.{index}.{ATTRIBUTES}"] = ["expected an object of names and values, like "
                                                         "{\"colour\": \"red\"}"]
        if pid and pid in first:
            errors[f"products.{index}.id"] = [f"duplicate product id “{pid}”: it is also products.{first[pid]}; "
                                              "send each product once"]
            continue
        first.setdefault(pid, index)
        keep.append(index)
    return keep


def products_upsert(*, catalog: Catalog, products: Sequence[Mapping[str, Any]], partial: bool) -> UpsertResult:
    """Create or change ``products`` (dicts with the fields of a products file, plus ``attributes``).

    See the module docstring for ``partial``. Raises :class:`ProductsInputError` (nothing changed).
    """
    _check_batch(len(products))
    errors: dict[str, list[str]] = {}
    keep = _precheck(products, errors)
    # PATCH: products giving the same fields are written together (the writer overwrites what a plan maps).
    groups: dict[tuple[tuple[str, ...], str | None], list[int]] = {}
    for index in keep:
        if partial:
            given = tuple(f for f in FIELDS if f == "id" or f in products[index])
            key = (given, "merge" if ATTRIBUTES in products[index] else None)
        else:
            key = (FIELDS, "replace")
        groups.setdefault(key, []).append(index)
    plans = [_plan(catalog, products, indices, fields, attributes, errors)
             for (fields, attributes), indices in groups.items()]
    if partial:
        _check_exist(catalog, products, keep, errors)
    if errors:
        raise ProductsInputError(errors)
    created = updated = 0
    with transaction.atomic():
        for plan in plans:
            counts = write_plan(plan=plan, catalog=catalog, batch=None)
            created += counts.products_created
            updated += counts.products_updated
        if created:
            index_catch_up_later(catalog_id=catalog.pk)
    return UpsertResult(created=created, updated=updated)


def _check_exist(catalog: Catalog, products: Sequence[Mapping[str, Any]], keep: list[int],
                 errors: dict[str, list[str]]) -> None:
    ids = {i: json_text(products[i].get("id")).strip() for i in keep}
    known = set(Product.objects.filter(catalog=catalog, external_id__in=[p for p in ids.values() if p])
                .values_list("external_id", flat=True))
    for index, pid in ids.items():
        if pid and pid not in known:
            errors.setdefault(f"products.{index}.id", []).append(
                f"product “{pid}” is not in the catalog; PATCH only changes existing products: create it with PUT")


def products_delete(*, catalog: Catalog, ids: Sequence[str]) -> int:
    """Delete the products of ``catalog`` with these external ids, and all their events; returns how many
    products were deleted (ids not in the catalog are skipped)."""
    _check_batch(len(ids))
    with transaction.atomic():
        _total, per_model = Product.objects.filter(catalog=catalog, external_id__in=list(ids)).delete()
    return per_model.get(Product._meta.label, 0)

