"""The validate phase of an import: read, check rows, resolve references. Writes nothing but progress.

Produces :class:`Plan` s: the clean rows to write and every row error. An import's file is
read in bounded chunks (:func:`iter_plans`, limits from :func:`import_limits`), one plan per
chunk, so memory stays one chunk whatever the file's size; the writer writes each plan before
the next chunk is read (later chunks see the products and events earlier ones wrote).
An events row whose product is not in the catalog is rejected (``unknown_products="reject"``,
the default) or creates a placeholder product titled from the row (or with its id) (``"create"``).
Events whose event id repeats (in the file, or already stored for the catalog) are
dropped and counted as duplicates, not errors; with ``natural_key`` an event without an id
gets one derived from (shopper, product, timestamp, type), so a re-imported export stores
each event once.

:func:`iter_plans` reads a file; :func:`plan_from_frame` runs the same checks on rows
already in memory (the storefront API's batches).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from django.conf import settings

from dashboard.models import Catalog, Event, Product
from mlcore.data.read_limits import LimitError, ReadLimits
from mlcore.data.readers import ROW, iter_chunks
from mlcore.data.validate import RowError, first_occurrence_errors, validate_chunk

CHUNK_ROWS = 50_000
LOOKUP_CHUNK = 5_000
NATURAL_KEY_PREFIX = "nk:"
LIMIT_SETTINGS = {"bytes": "IMPORT_MAX_DECOMPRESSED_MB", "line": "IMPORT_MAX_LINE_KB", "columns": "IMPORT_MAX_COLUMNS",
                  "rows": "IMPORT_MAX_ROWS"}


def import_limits() -> ReadLimits:
    """The limits every upload and import is read within (settings ``IMPORT_MAX_*``)."""
    return ReadLimits(max_bytes=int(getattr(settings, "IMPORT_MAX_DECOMPRESSED_MB", 1024)) * 1024 * 1024,
                      max_line_bytes=int(getattr(settings, "IMPORT_MAX_LINE_KB", 1024)) * 1024,
                      max_columns=int(getattr(settings, "IMPORT_MAX_COLUMNS", 1000)),
                      max_rows=int(getattr(settings, "IMPORT_MAX_ROWS", 10_000_000)))


def limit_message(exc: LimitError) -> str:
    """The reader's message plus the setting an administrator may raise."""
    setting = LIMIT_SETTINGS.get(exc.limit)
    return f"{exc} (An administrator can raise {setting}.)" if setting else str(exc)


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


def iter_plans(*, catalog: Catalog, kind: str, path: Path, name: str, mapping: Mapping[str, str],
               limits: ReadLimits | None = None, natural_key: bool = False,
               unknown_products: str = "reject") -> Iterator[Plan]:
    """One validated, resolved plan per chunk of ``path`` (``rows_read``: rows of that chunk).

    Raises :class:`mlcore.data.readers.ReadError` (:class:`LimitError` for a crossed limit) when the
    file as a whole is unreadable, at the chunk where it shows.
    """
    seen_products: set[str] = set()
    for chunk in iter_chunks(path, name=name, chunk_rows=CHUNK_ROWS, limits=limits):
        extra = [c for c in chunk.columns if c != ROW and c not in mapping] if kind == "products" else []
        rows, errors = validate_chunk(chunk, kind=kind, mapping=mapping, attribute_columns=extra)
        plan = Plan(kind=kind, rows=rows, mapped=frozenset(mapping.values()), errors=errors, rows_read=len(chunk))
        if kind == "products":
            _check_products(plan, seen_products)
            plan.errors.sort(key=lambda e: (e.row, e.field))
        else:
            if natural_key:
                _natural_ids(plan)
            _resolve_events(plan, catalog, policy=unknown_products)
            if natural_key:
                _drop_stored_without_ids(plan, catalog)
            plan.errors.sort(key=lambda e: (e.row, e.field))
        yield plan


def _drop_stored_without_ids(plan: Plan, catalog: Catalog) -> None:
    """Drop (as duplicates) rows matching an event stored earlier without an id: same shopper, product,
    timestamp and type. Looks only at the chunk's time span and products."""
    rows = plan.rows
    natural = rows["event_id"].str.startswith(NATURAL_KEY_PREFIX)
    if not natural.any():
        return
    part = rows[natural]
    stored: set[tuple] = set()
    products = [p for p in part["product"].unique().tolist() if p]
    span = {"timestamp__gte": part["timestamp"].min().to_pydatetime(),
            "timestamp__lte": part["timestamp"].max().to_pydatetime()}
    for start in range(0, max(len(products), 1), LOOKUP_CHUNK):
        found = Event.objects.filter(catalog=catalog, event_id__isnull=True, **span)
        if products:
            found = found.filter(product__external_id__in=products[start:start + LOOKUP_CHUNK])
        else:
            found = found.filter(product__isnull=True)
        stored.update((s or "", p or "", pd.Timestamp(t).value, k) for s, p, t, k in found.values_list(
            "shopper__external_id", "product__external_id", "timestamp", "type"))
    if not stored:
        return
    keys = zip(part["shopper"], part["product"], part["timestamp"].astype("int64"), part["type"], strict=True)
    repeat = pd.Series([k in stored for k in keys], index=part.index)
    plan.duplicates += int(repeat.sum())
    plan.rows = rows.drop(index=repeat[repeat].index)


def _natural_ids(plan: Plan) -> None:
    """Events without an id get ``nk:<hash of shopper, product, timestamp, type>`` as their id."""
    rows = plan.rows
    missing = rows["event_id"] == ""
    if not missing.any():
        return
    part = rows.loc[missing]
    stamps = part["timestamp"].astype("int64").astype(str)
    keys = [NATURAL_KEY_PREFIX + hashlib.sha1("\x1f".join(k).encode(), usedforsecurity=False).hexdigest()[:32]
            for k in zip(part["shopper"], part["product"], stamps, part["type"], strict=True)]
    rows.loc[missing, "event_id"] = keys


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


def _check_products(plan: Plan, seen: set[str] | None = None) -> None:
    dup = first_occurrence_errors(plan.rows, "id", "product id")
    if seen is not None:
        earlier = plan.rows[plan.rows["id"].isin(seen)]
        dup += [RowError(int(r), "id", "", str(v), f"duplicate product id “{v}”: it already appears in an earlier "
                         "row; keep one row per product id") for r, v in zip(earlier[ROW], earlier["id"], strict=True)]
    plan.errors += dup
    plan.rows = _drop_rows(plan.rows, dup)
    if seen is not None:
        seen.update(plan.rows["id"])


def _resolve_events(plan: Plan, catalog: Catalog, unknown_product: str | None = None,
                    policy: str | None = None) -> None:
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
    if policy is not None:
        errors = _unknown_by_policy(plan, rows[unknown_mask], policy)
    elif unknown_mask.any():
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


def _unknown_by_policy(plan: Plan, unknown: pd.DataFrame, policy: str) -> list[RowError]:
    """An import's choice for events of unknown products: reject the rows, or plan placeholder products."""
    if not len(unknown):
        return []
    if policy == "create":
        firsts = unknown.sort_values("title", ascending=False, kind="stable") if "title" in unknown else unknown
        firsts = firsts.drop_duplicates("product", keep="first")
        new = pd.DataFrame({"id": firsts["product"].to_numpy()})
        titles = firsts["title"].to_numpy() if "title" in plan.mapped else firsts["product"].to_numpy()
        new["title"] = [t or p for t, p in zip(titles, firsts["product"], strict=True)]
        if "price" in plan.mapped and "price" in firsts:
            new["price"] = firsts["price"].to_numpy()
        plan.new_products = new
        return []
    return [RowError(int(r), "product", "", str(p), f"product “{p}” is not in the catalog; import the products file "
                     "first, or choose “create a placeholder product” for unknown products")
            for r, p in zip(unknown[ROW], unknown["product"], strict=True)]
