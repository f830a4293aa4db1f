"""Row-level validation of product and event tables, and the CSV error report.

:func:`validate_chunk` takes a text frame from :mod:`mlcore.data.readers` and a column
mapping ``{file column: field name}`` and returns a typed clean frame (one column per
mapped field plus ``_row``) and a list of :class:`RowError` for the rejected rows.
Naive timestamps are read as UTC; slash dates are read day-first (UK style,
``01/12/2010`` is 1 December) unless only month-first makes sense.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Literal

import numpy as np
import pandas as pd

from mlcore.data.events import EVENT_TYPES, normalise_type, unknown_type_problem
from mlcore.data.readers import ROW

FieldKind = Literal["text", "decimal", "int", "bool", "datetime", "choice", "url"]


@dataclass(frozen=True)
class FieldSpec:
    """One target field: how to parse it and what to tell the operator when it is wrong."""

    name: str
    kind: FieldKind = "text"
    required: bool = False
    max_length: int | None = None
    example: str = ""
    minimum: float | None = None
    maximum: float | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowError:
    """What is wrong with one value: ``row`` as numbered in the file, the target ``field``."""

    row: int
    field: str
    column: str
    value: str
    problem: str

    @property
    def message(self) -> str:
        where = f"row {self.row}, column “{self.column}”" if self.column else f"row {self.row}"
        return f"{where} ({self.field}): {self.problem}"


PRODUCT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id", required=True, max_length=200, example="85123A",
              aliases=("id", "productid", "sku", "stockcode", "itemid", "externalid", "product")),
    FieldSpec("title", required=True, max_length=500, example="White hanging heart T-light holder",
              aliases=("title", "name", "productname", "producttitle")),
    FieldSpec("description", aliases=("description", "desc", "details", "longdescription")),
    FieldSpec("category", max_length=500, example="Home > Candles",
              aliases=("category", "categorypath", "categories", "categoryname")),
    FieldSpec("brand", max_length=200, aliases=("brand", "manufacturer", "maker", "vendor")),
    FieldSpec("price", "decimal", example="2.55", minimum=0, maximum=9_999_999_999.99,
              aliases=("price", "unitprice", "listprice", "saleprice")),
    FieldSpec("currency", max_length=3, example="GBP", aliases=("currency", "currencycode")),
    FieldSpec("image_url", "url", max_length=1000, example="https://shop.example/img/1.jpg",
              aliases=("imageurl", "image", "img", "imagelink", "picture")),
    FieldSpec("in_stock", "bool", example="true", aliases=("instock", "stock", "available", "availability")),
)

EVENT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("type", "choice", example="purchase", aliases=("type", "eventtype", "event", "action")),
    FieldSpec("shopper", max_length=200, example="17850",
              aliases=("shopper", "shopperid", "user", "userid", "customer", "customerid", "visitorid")),
    FieldSpec("product", max_length=200, example="85123A",
              aliases=("product", "productid", "item", "itemid", "stockcode", "sku")),
    FieldSpec("title", max_length=500, example="White hanging heart T-light holder",
              aliases=("title", "description", "productname", "name")),
    FieldSpec("price", "decimal", example="2.55", minimum=0, maximum=9_999_999_999.99,
              aliases=("price", "unitprice")),
    FieldSpec("query", max_length=500, example="red mug", aliases=("query", "searchquery", "q", "searchterm")),
    FieldSpec("quantity", "int", example="6", minimum=-2_000_000_000, maximum=2_000_000_000,
              aliases=("quantity", "qty", "count")),
    FieldSpec("value", "decimal", example="15.30", minimum=-999_999_999_999.99, maximum=999_999_999_999.99,
              aliases=("value", "revenue", "amount", "total")),
    FieldSpec("timestamp", "datetime", required=True, example="2010-12-01 08:26:00",
              aliases=("timestamp", "time", "date", "datetime", "invoicedate", "eventtime", "ts", "createdat")),
    FieldSpec("session", max_length=200, example="536365",
              aliases=("session", "sessionid", "invoiceno", "invoice", "orderid", "order")),
    FieldSpec("event_id", max_length=200, example="evt-0001", aliases=("eventid", "eventuuid", "uuid")),
)

FIELDS: Mapping[str, tuple[FieldSpec, ...]] = {"products": PRODUCT_FIELDS, "events": EVENT_FIELDS}

_TRUE = {"1", "1.0", "true", "yes", "y", "t", "in stock", "instock", "available"}
_FALSE = {"0", "0.0", "false", "no", "n", "f", "out of stock", "outofstock", "unavailable"}
_DATE_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
                 "%m/%d/%Y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%Y/%m/%d %H:%M:%S",
                 "%Y/%m/%d %H:%M", "%Y/%m/%d", "%d %b %Y %H:%M:%S", "%d %b %Y %H:%M", "%d %b %Y",
                 "%a, %d %b %Y %H:%M:%S %z")
_EXPECTED: Mapping[str, str] = {
    "decimal": "expected a plain number like {example} (no currency sign or thousands separator)",
    "int": "expected a whole number like {example}",
    "bool": "expected true/false, yes/no or 1/0",
    "datetime": "expected a date and time like {example} (ISO 8601, DD/MM/YYYY HH:MM or Unix seconds)",
    "url": "expected a web address starting with http:// or https://",
}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _word_runs(name: str) -> set[str]:
    """Every run of consecutive words of a column name, joined: "InvoiceDate" → {invoice, date, invoicedate};
    a similar name must match whole words ("Country" holds no "count")."""
    words = [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)]
    return {"".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)}


def suggest_mapping(columns: Iterable[str], kind: str, saved: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{column: field}`` guessed from a saved mapping, then exact and similar names.

    >>> suggest_mapping(["StockCode", "Description", "InvoiceDate", "Country"], "events")
    {'StockCode': 'product', 'Description': 'title', 'InvoiceDate': 'timestamp'}
    """
    specs = FIELDS[kind]
    taken: set[str] = set()
    out: dict[str, str] = {}
    columns = list(columns)
    for column in columns:  # the saved mapping wins
        field = (saved or {}).get(column)
        if field and field in {s.name for s in specs} and field not in taken:
            out[column] = field
            taken.add(field)
    for exact in (True, False):
        for column in columns:
            if column in out:
                continue
            n, runs = _norm(column), _word_runs(column)
            for spec in specs:
                if spec.name in taken:
                    continue
                names = (_norm(spec.name), *spec.aliases)
                if (n in names) if exact else any(a and len(a) > 3 and a in runs for a in names):
                    out[column] = spec.name
                    taken.add(spec.name)
                    break
    return {c: out[c] for c in columns if c in out}


def missing_required(mapping: Mapping[str, str], kind: str) -> list[str]:
    """Required fields that no column is mapped to."""
    mapped = set(mapping.values())
    return [s.name for s in FIELDS[kind] if s.required and s.name not in mapped]


def parse_timestamps(raw: pd.Series) -> pd.Series:
    """Text → ``datetime64[ns, UTC]``; NaT where nothing fits (see the module docstring)."""
    parsed = pd.to_datetime(raw, format="ISO8601", utc=True, errors="coerce")
    todo = parsed.isna() & (raw != "")
    if todo.any():
        numbers = pd.to_numeric(raw[todo], errors="coerce")
        epoch = numbers[(numbers > 1e8) & (numbers < 1e13)]
        if len(epoch):
            seconds = epoch.where(epoch < 1e11, epoch / 1000)
            parsed[epoch.index] = pd.to_datetime(seconds, unit="s", utc=True)
        for fmt in _DATE_FORMATS:
            todo = parsed.isna() & (raw != "")
            if not todo.any():
                break
            attempt = pd.to_datetime(raw[todo], format=fmt, utc=True, errors="coerce")
            parsed[attempt.index] = parsed[attempt.index].where(attempt.isna(), attempt)
    # a time beyond what a nanosecond timestamp holds (before 1677 or after 2262) is no event's time
    lo, hi = pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC")
    parsed = parsed.where(parsed.isna() | ((parsed >= lo) & (parsed <= hi)))
    return parsed.astype("datetime64[ns, UTC]")  # one unit whichever format matched


def _convert(spec: FieldSpec, raw: pd.Series, event_types: Collection[str]) -> tuple[pd.Series, pd.Series]:
    """(typed values, mask of bad non-empty values) for one field."""
    empty = raw == ""
    values: pd.Series
    bad: pd.Series
    if spec.kind in ("decimal", "int"):
        values = pd.to_numeric(raw.where(~empty, None), errors="coerce").astype("float64")
        bad = values.isna() & ~empty
        if spec.kind == "int":
            bad |= values.notna() & (values != np.floor(values))
        lo = spec.minimum if spec.minimum is not None else -np.inf
        hi = spec.maximum if spec.maximum is not None else np.inf
        bad |= values.notna() & ((values < lo) | (values > hi))
        return (values.round(2) if spec.kind == "decimal" else values), bad
    if spec.kind == "bool":
        low = raw.str.lower()
        values = pd.Series(pd.NA, index=raw.index, dtype="boolean")
        values[low.isin(_TRUE)] = True
        values[low.isin(_FALSE)] = False
        return values, values.isna() & ~empty
    if spec.kind == "datetime":
        values = parse_timestamps(raw)
        return values, values.isna() & ~empty
    if spec.kind == "choice":
        # normalise_type, vectorised
        values = raw.str.lower().str.replace(r"[\s-]+", "_", regex=True).replace({"addtocart": "add_to_cart"})
        return values, ~values.isin(list(event_types)) & ~empty
    bad = raw.str.len() > spec.max_length if spec.max_length else pd.Series(False, index=raw.index)
    if spec.kind == "url":
        bad |= ~empty & ~raw.str.match(r"https?://\S+$")
    return raw, bad


def _problem(spec: FieldSpec, value: str, event_types: Collection[str], hint: str | None) -> str:
    if spec.kind in _EXPECTED:
        text = _EXPECTED[spec.kind].format(example=spec.example)
        if spec.kind in ("decimal", "int") and spec.minimum == 0 and value.strip().startswith("-"):
            text = f"expected 0 or more, like {spec.example}"
        return text
    if spec.kind == "choice":
        if hint:
            return unknown_type_problem(normalise_type(value), event_types, hint=hint)
        return "expected one of " + ", ".join(event_types)
    return f"too long: at most {spec.max_length} characters (this one has {len(value)}); shorten it"


def validate_chunk(frame: pd.DataFrame, *, kind: str, mapping: Mapping[str, str],
                   attribute_columns: Iterable[str] = (), event_types: Collection[str] = EVENT_TYPES,
                   type_hint: str | None = None) -> tuple[pd.DataFrame, list[RowError]]:
    """Typed clean rows and the errors of the rejected ones (see the module docstring).

    ``attribute_columns`` (products) are gathered into an ``attributes`` column of dicts.
    ``event_types``: the types an event may have (normalised: ``Add to cart`` is ``add_to_cart``);
    with ``type_hint`` (e.g. ``--event-weights``) an unknown type's problem says how to weigh it.
    """
    specs = {s.name: s for s in FIELDS[kind]}
    errors: list[RowError] = []
    rejected = pd.Series(False, index=frame.index)
    clean: dict[str, pd.Series] = {ROW: frame[ROW]}
    for column, field in mapping.items():
        spec = specs[field]
        raw = frame[column].astype("str").str.strip()  # Arrow-backed strings: vectorised in C
        values, bad = _convert(spec, raw, event_types)
        if spec.required:
            missing = raw == ""
            errors += [RowError(int(r), field, column, "", f"a value is required, e.g. {spec.example}")
                       for r in frame.loc[missing, ROW]]
            rejected |= missing
        if bad.any():
            errors += [RowError(int(r), field, column, str(v), _problem(spec, str(v), event_types, type_hint))
                       for r, v in zip(frame.loc[bad, ROW], raw[bad], strict=True)]
            rejected |= bad
        clean[field] = values
    attrs = [c for c in attribute_columns if c in frame.columns]
    if kind == "products":
        if attrs:
            records = frame[attrs].astype(object).to_dict("records")
            clean["attributes"] = pd.Series([{k: v for k, v in r.items() if v != ""} for r in records],
                                            index=frame.index, dtype=object)
    out = pd.DataFrame(clean)
    if kind == "events":
        out, more = _event_rules(out)
        errors += more
        rejected |= ~frame.index.isin(out.index)
    errors.sort(key=lambda e: e.row)
    return out[~rejected.reindex(out.index, fill_value=True)], errors


def _event_rules(events: pd.DataFrame) -> tuple[pd.DataFrame, list[RowError]]:
    """Defaults and cross-field rules: type purchase, quantity 1, negative quantity → return."""
    n = len(events)
    if "type" not in events or n == 0:
        events["type"] = pd.Series("purchase", index=events.index, dtype="str")
    events["type"] = events["type"].where(events["type"] != "", "purchase")
    quantity = events["quantity"] if "quantity" in events else pd.Series(1.0, index=events.index)
    quantity = quantity.fillna(1.0)
    events.loc[quantity < 0, "type"] = "return"
    events["quantity"] = quantity.abs().astype("int64")
    for field in ("shopper", "product", "query", "session", "event_id", "title"):
        if field not in events:
            events[field] = ""
    if "value" not in events:
        price = events["price"] if "price" in events else pd.Series(np.nan, index=events.index)
        events["value"] = (price * events["quantity"]).round(2)
    errors: list[RowError] = []
    needs_product = (events["type"] != "search") & (events["product"] == "")
    needs_query = (events["type"] == "search") & (events["query"] == "")
    too_big = events["value"].abs() > 999_999_999_999.99
    errors += [RowError(int(r), "value", "", f"{v:.2f}", "price × quantity is too large to store (at most "
                        "999,999,999,999.99); check the quantity and price") for r, v in
               zip(events.loc[too_big, ROW], events.loc[too_big, "value"], strict=True)]
    errors += [RowError(int(r), "product", "", "", "a product id is required for this event type; map a "
                        "column to “product” or fill it in") for r in events.loc[needs_product, ROW]]
    errors += [RowError(int(r), "query", "", "", "a search event needs the search text; map a column to "
                        "“query” or fill it in") for r in events.loc[needs_query, ROW]]
    return events[~(needs_product | needs_query | too_big)], errors


def first_occurrence_errors(frame: pd.DataFrame, field: str, what: str) -> list[RowError]:
    """Errors for rows that repeat an earlier row's ``field`` value (naming that first row)."""
    values = frame[field]
    dup = values.duplicated(keep="first") & (values != "")
    if not dup.any():
        return []
    first_row = frame.loc[~values.duplicated(keep="first")].set_index(field)[ROW]
    return [RowError(int(r), field, "", str(v), f"duplicate {what} “{v}”: it already appears in row "
                     f"{int(first_row[v])}; keep one row per {what}")
            for r, v in zip(frame.loc[dup, ROW], values[dup], strict=True)]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> str:
    """A cell safe to open in a spreadsheet: a leading apostrophe defuses formulas.

    >>> neutralise("=HYPERLINK(1)"), neutralise("ok")
    ("'=HYPERLINK(1)", 'ok')
    """
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_error_report(errors: Iterable[RowError], stream: IO[str]) -> int:
    """Write ``errors`` as CSV (row, field, column, value, problem); returns the number written."""
    writer = csv.writer(stream)
    writer.writerow(["row", "field", "column", "value", "problem"])
    count = 0
    for e in errors:
        writer.writerow([e.row, neutralise(e.field), neutralise(e.column), neutralise(e.value), neutralise(e.problem)])
        count += 1
    return count
