"""The validate phase of an import: read, check rows, resolve references. Writes nothing but progress.

Produces a :class:`Plan`: the clean rows to write and every row error. Events whose
product is not in the catalog create it from the row's title when a title column is
mapped; otherwise they are rejected with a message to import products first.
Events whose event id repeats (in the file, or already stored for the catalog) are
dropped and counted as duplicates, not errors.

:func:`build_plan` reads a file; :func:`plan_from_frame` runs the same checks on rows
already in memory (the storefront API's batches).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dashboard.models import Catalog, Event, Product
from mlcore.data.readers import ROW, iter_chunks
from mlcore.data.validate import RowError, first_occurrence_errors, validate_chunk

CHUNK_ROWS = 50_000
LOOKUP_CHUNK = 5_000


class BatchInputError(ValueError):
    """A batch sent to the API is invalid and nothing was stored; ``errors`` is ``{"<what>.<index>.<field>":
    [messages]}``, sorted by index (``<what>`` alone for the batch as a whole)."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = dict(sorted(errors.items(), key=lambda kv: _error_order(kv[0])))


def _error_order(key: str) -> tuple[int, str]:
    parts = key.split(".", 2)
    return (int(parts[1]), parts[2] if len(parts) > 2 else "") if len(parts) > 1 and parts[1].isdigit() else (-1, key)


def json_text(value: object) -> str:
    """A JSON value as the text an uploaded file would hold: ``None`` → "", booleans as true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class Plan:
    """What the write phase will do. ``rows`` are typed columns named after the target fields."""

    kind: str
    rows: pd.DataFrame
    mapped: frozenset[str]
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0
    duplicates: int = 0
    new_products: pd.DataFrame | None = None  # events only: id, title, price of products to create
    replace_attributes: bool = False  # products: the rows' attributes replace the stored ones (else merged)

    @property
    def rejected_rows(self) -> int:
        return len({e.row for e in self.errors})


def _existing(values: Iterable[str], lookup: Callable[[list[str]], Iterable[str | None]]) -> set[str | None]:
    values = list(values)
    found: set[str | None] = set()
    for start in range(0, len(values), LOOKUP_CHUNK):
        found.update(lookup(values[start:start + LOOKUP_CHUNK]))
    return found


def _drop_rows(frame: pd.DataFrame, errors: list[RowError]) -> pd.DataFrame:
    if not errors:
        return frame
    return frame[~frame[ROW].isin({e.row for e in errors})]


def build_plan(*, catalog: Catalog, kind: str, path: Path, name: str, mapping: Mapping[str, str],
               on_progress: Callable[[int], None] = lambda done: None) -> Plan:
    """Read ``path`` in chunks (reporting rows read), validate, and resolve ids against ``catalog``.

    Raises :class:`mlcore.data.readers.ReadError` when the file as a whole is unreadable.
    """
    clean: list[pd.DataFrame] = []
    errors: list[RowError] = []
    done = 0
    for chunk in iter_chunks(path, name=name, chunk_rows=CHUNK_ROWS):
        extra = [c for c in chunk.columns if c != ROW and c not in mapping] if kind == "products" else []
        rows, chunk_errors = validate_chunk(chunk, kind=kind, mapping=mapping, attribute_columns=extra)
        clean.append(rows)
        errors += chunk_errors
        done += len(chunk)
        on_progress(done)
    rows = pd.concat(clean, ignore_index=True) if clean else pd.DataFrame()
    plan = Plan(kind=kind, rows=rows, mapped=frozenset(mapping.values()), errors=errors, rows_read=done)
    return _resolve(plan, catalog)


def plan_from_frame(*, catalog: Catalog, kind: str, frame: pd.DataFrame, mapping: Mapping[str, str],
                    carry: Sequence[str] = (), unknown_product: str | None = None) -> Plan:
    """The plan of rows already in memory: ``frame`` holds text columns (``""`` when missing) and ``_row``.

    ``carry`` names columns the caller has checked itself; they are copied into the plan's rows
    as they are (events: ``request_id``; products: ``attributes`` as dicts). ``unknown_product``
    replaces the message for an event whose product is not in the catalog (``{product}`` is
    the product id).
    """
    rows, errors = validate_chunk(frame.drop(columns=list(carry)), kind=kind, mapping=mapping)
    for column in carry:
        rows[column] = frame.loc[rows.index, column]
    plan = Plan(kind=kind, rows=rows, mapped=frozenset(mapping.values()), errors=errors, rows_read=len(frame))
    return _resolve(plan, catalog, unknown_product)


def _resolve(plan: Plan, catalog: Catalog, unknown_product: str | None = None) -> Plan:
    if plan.kind == "products":
        _check_products(plan)
    else:
        _resolve_events(plan, catalog, unknown_product)
    plan.errors.sort(key=lambda e: (e.row, e.field))
    return plan


def _check_products(plan: Plan) -> None:
    dup = first_occurrence_errors(plan.rows, "id", "product id")
    plan.errors += dup
    plan.rows = _drop_rows(plan.rows, dup)


def _resolve_events(plan: Plan, catalog: Catalog, unknown_product: str | None = None) -> None:
    rows = plan.rows
    with_id = rows["event_id"] != ""
    if with_id.any():
        repeat = with_id & rows["event_id"].duplicated(keep="first")
        stored = _existing(rows.loc[with_id & ~repeat, "event_id"].unique(), lambda ids: Event.objects.filter(
            catalog=catalog, event_id__in=ids).values_list("event_id", flat=True))
        repeat |= rows["event_id"].isin(stored) & with_id
        plan.duplicates = int(repeat.sum())
        rows = rows[~repeat]
    product_ids = rows.loc[rows["product"] != "", "product"].unique()
    known = _existing(product_ids, lambda ids: Product.objects.filter(
        catalog=catalog, external_id__in=ids).values_list("external_id", flat=True))
    unknown_mask = (rows["product"] != "") & ~rows["product"].isin(known)
    errors: list[RowError] = []
    if unknown_mask.any():
        unknown = rows[unknown_mask]
        untitled = unknown
        if "title" in plan.mapped:
            titled = unknown[unknown["title"] != ""]
            firsts = titled.drop_duplicates("product", keep="first")
            cols = ["product", "title"] + (["price"] if "price" in unknown else [])
            plan.new_products = firsts[cols].rename(columns={"product": "id"}).reset_index(drop=True)
            untitled = unknown[~unknown["product"].isin(firsts["product"])]
        if unknown_product is not None:
            errors = [RowError(int(r), "product", "", str(p), unknown_product.format(product=p))
                      for r, p in zip(untitled[ROW], untitled["product"], strict=True)]
        elif "title" in plan.mapped:
            errors = [RowError(int(r), "product", "", str(p), f"product “{p}” is not in the catalog and no row of "
                               "this file gives its title; fill in the title or import the products file first")
                      for r, p in zip(untitled[ROW], untitled["product"], strict=True)]
        else:
            errors = [RowError(int(r), "product", "", str(p), f"product “{p}” is not in the catalog; import the "
                               "products file first, or map a title column so events can create products")
                      for r, p in zip(unknown[ROW], unknown["product"], strict=True)]
    plan.errors += errors
    plan.rows = _drop_rows(rows, errors)
