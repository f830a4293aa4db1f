"""Events sent by a storefront (``POST /api/v1/catalogs/<slug>/events``), through the importer's checks and writer.

A batch is one in-memory table checked by :func:`dashboard.services.import_validate.plan_from_frame`
(the same field rules as an uploaded file) and written by
:func:`dashboard.services.import_write.write_plan` (PostgreSQL: ``COPY`` and ``ON CONFLICT DO NOTHING``).

- Whole batch or nothing: one invalid event and nothing is stored (:class:`EventsInputError`
  names every problem as ``events.<index>.<field>``); otherwise all events are stored in ONE
  transaction.
- Idempotent by ``event_id``: an event whose id is already stored (or repeats in the batch) is
  counted as a duplicate, not stored again; two identical batches sent at once still store each
  event once (the unique constraint decides). Events without an ``event_id`` cannot be told
  apart from a resend, so every copy is stored: storefronts should send ids.
- Shoppers are created on first sight. An event for a product the catalog lacks is rejected
  (create the product first with ``PUT …/products``) unless the event gives its ``title``
  (and optionally ``price``), as an import row may; new products then join the search index
  on a worker.
- ``request_id`` (the served list the event came from) is stored in ``Event.request_id``.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import transaction
from django.utils import timezone

from dashboard.models import Catalog, Event
from dashboard.services.import_validate import BatchInputError, json_text, plan_from_frame
from dashboard.services.import_write import write_plan
from dashboard.services.search_index import index_catch_up_later
from mlcore.data.readers import ROW
from mlcore.data.validate import RowError

log = logging.getLogger(__name__)
# API field → importer field
FIELDS = {"type": "type", "shopper_id": "shopper", "product_id": "product", "session_id": "session",
          "timestamp": "timestamp", "quantity": "quantity", "value": "value", "query": "query",
          "event_id": "event_id", "title": "title", "price": "price"}
API_NAMES = {field: name for name, field in FIELDS.items()}
REQUEST_ID_MAX = Event._meta.get_field("request_id").max_length or 64
UNKNOWN_PRODUCT = ("product “{product}” is not in the catalog; create it first with PUT …/products, or give the "
                   "event a title so that it creates the product")


class EventsInputError(BatchInputError):
    """Some events are invalid and nothing was stored; ``errors`` is ``{"events.<index>.<field>": [messages]}``."""


@dataclass(frozen=True)
class IngestResult:
    stored: int
    duplicates: int
    products_created: int



def events_frame(events: Sequence[Mapping[str, Any]]) -> tuple[pd.DataFrame, dict[str, str]]:
    """The importer's text table for ``events`` (``_row`` is the index in the batch) and its mapping
    ``{API field: importer field}`` for the fields any event gives; a missing ``timestamp`` is now."""
    present = [name for name in FIELDS if any(e.get(name) not in (None, "") for e in events)]
    columns: dict[str, list[str]] = {name: [json_text(e.get(name)) for e in events] for name in present}
    if "timestamp" not in columns:
        present.append("timestamp")
        columns["timestamp"] = [""] * len(events)
    if "" in columns["timestamp"]:
        now = timezone.now().isoformat()
        columns["timestamp"] = [t or now for t in columns["timestamp"]]
    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(events)), dtype="str")
    frame["request_id"] = pd.Series([json_text(e.get("request_id")) for e in events], dtype="str")
    frame[ROW] = frame.index.to_numpy()
    return frame, {name: FIELDS[name] for name in present}


def _error_key(error: RowError) -> str:
    return f"events.{error.row}.{error.column or API_NAMES.get(error.field, error.field)}"


def events_ingest(*, catalog: Catalog, events: Sequence[Mapping[str, Any]], token_id: int | None = None
                  ) -> IngestResult:
    """Check and store ``events`` (dicts with the API's field names) for ``catalog``; see the module docstring.

    Raises :class:`EventsInputError` (nothing stored) when any event is invalid.
    """
    if not events:
        return IngestResult(stored=0, duplicates=0, products_created=0)
    frame, mapping = events_frame(events)
    errors: dict[str, list[str]] = {}
    for index in frame.index[frame["request_id"].str.len() > REQUEST_ID_MAX]:
        errors[f"events.{index}.request_id"] = [f"at most {REQUEST_ID_MAX} characters: send the request_id the "
                                                "API returned with the list"]
    plan = plan_from_frame(catalog=catalog, kind="events", frame=frame, mapping=mapping, carry=("request_id",),
                           unknown_product=UNKNOWN_PRODUCT)
    for error in plan.errors:
        errors.setdefault(_error_key(error), []).append(error.problem)
    if errors:
        raise EventsInputError(errors)
    with transaction.atomic():
        counts = write_plan(plan=plan, catalog=catalog, batch=None)
        if counts.products_created:
            index_catch_up_later(catalog_id=catalog.pk)
    log.debug("token %s stored %d event(s) for %s", token_id, counts.rows_imported, catalog.slug)
    return IngestResult(stored=counts.rows_imported, duplicates=plan.duplicates + counts.duplicates,
                        products_created=counts.products_created)

