"""The write phase of an import: one call inside the caller's transaction.

PostgreSQL: the rows are streamed with ``COPY`` (psycopg 3) into a temporary table and
moved with one ``INSERT … SELECT … ON CONFLICT`` per table. Other databases (SQLite,
the embedded default): ``bulk_create`` / ``bulk_update`` in batches.
Products upsert by external id and only overwrite the fields the file maps;
attributes are merged into the stored ones (replaced when the plan says so).
Events carry an optional ``request_id`` column (the served list they came from).
"""
from __future__ import annotations

import dataclasses
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from django.db import connection
from django.db.models import CharField
from django.db.models.constants import OnConflict
from django.utils import timezone

from dashboard.models import Catalog, Event, ImportBatch, Product, Shopper
from dashboard.services.import_validate import LOOKUP_CHUNK, Plan
from dashboard.services.online_state import events_stored

BATCH = 2_000
# file field → Product column
PRODUCT_COLUMNS = {"title": "title", "description": "description", "category": "category_path", "brand": "brand",
                   "price": "price", "currency": "currency", "image_url": "image_url", "in_stock": "in_stock"}


@dataclass
class WriteCounts:
    rows_imported: int = 0
    duplicates: int = 0
    products_created: int = 0
    products_updated: int = 0
    shoppers_created: int = 0
    created_ids: list[str] = dataclasses.field(default_factory=list)  # ids of the products created

    def add(self, other: WriteCounts) -> None:
        """Add ``other``'s counts (one more chunk of the same import)."""
        self.rows_imported += other.rows_imported
        self.duplicates += other.duplicates
        self.products_created += other.products_created
        self.products_updated += other.products_updated
        self.shoppers_created += other.shoppers_created
        self.created_ids += other.created_ids


def write_plan(*, plan: Plan, catalog: Catalog, batch: ImportBatch | None,
               on_progress: Callable[[int], None] | None = None) -> WriteCounts:
    """Write ``plan`` for ``catalog``; call inside ``transaction.atomic()``.

    ``batch`` is the import the events come from (``None``: sent through the API).
    ``on_progress(rows_written)`` is called while events stream in (PostgreSQL path).
    """
    fast = use_copy()
    if plan.kind == "products":
        return (_pg_products if fast else _products)(plan.rows, plan.mapped, catalog,
                                                     replace_attributes=plan.replace_attributes)
    counts = WriteCounts()
    if plan.new_products is not None and len(plan.new_products):
        fields = frozenset(f for f in ("title", "price") if f in plan.new_products)
        created = (_pg_products if fast else _products)(plan.new_products, fields, catalog, insert_only=True)
        counts.products_created = created.products_created
        counts.created_ids = created.created_ids
    if fast:
        _pg_events(plan.rows, catalog, batch, counts, on_progress=on_progress)
    else:
        _events(plan.rows, catalog, batch, counts)
    if counts.rows_imported:
        events_stored(catalog_id=catalog.pk)  # the online state applies them once the caller's transaction commits
    return counts


def use_copy() -> bool:
    """Whether the PostgreSQL COPY path applies (tests switch it off to cover the generic path)."""
    return connection.vendor == "postgresql"


def _decimal(value: float) -> Decimal | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else Decimal(f"{value:.2f}")


# --- generic (SQLite) path -------------------------------------------------------------------------------------------

def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i:i + LOOKUP_CHUNK] for i in range(0, len(values), LOOKUP_CHUNK)]


def _product_values(row: dict, mapped: frozenset[str]) -> dict:
    values = {}
    for field, column in PRODUCT_COLUMNS.items():
        if field in mapped:
            value = row[field]
            if field == "price":
                value = _decimal(value)
            elif field == "in_stock":
                value = True if value is pd.NA or value is None else bool(value)
            values[column] = value
    return values


def _products(rows: pd.DataFrame, mapped: frozenset[str], catalog: Catalog, insert_only: bool = False,
              replace_attributes: bool = False) -> WriteCounts:
    counts = WriteCounts()
    records = rows.to_dict("records")
    existing: dict[str, Product] = {}
    for ids in _chunks([r["id"] for r in records]):
        existing.update((p.external_id, p) for p in Product.objects.filter(catalog=catalog, external_id__in=ids))
    new: list[Product] = []
    changed: list[Product] = []
    for r in records:
        values = _product_values(r, mapped)
        attributes = r.get("attributes") or {}
        product = existing.get(r["id"])
        if product is None:
            values.setdefault("currency", "")
            values["currency"] = values["currency"] or catalog.default_currency
            new.append(Product(catalog=catalog, external_id=r["id"], attributes=attributes, **values))
        elif not insert_only:
            if "currency" in values:  # as the COPY path: an empty currency is the catalog's
                values["currency"] = values["currency"] or catalog.default_currency
            for column, value in values.items():
                setattr(product, column, value)
            product.attributes = attributes if replace_attributes else {**product.attributes, **attributes}
            changed.append(product)
    Product.objects.bulk_create(new, batch_size=BATCH)
    if changed:
        now = timezone.now()
        for product in changed:
            product.updated_at = now
        fields = [PRODUCT_COLUMNS[f] for f in PRODUCT_COLUMNS if f in mapped] + ["attributes", "updated_at"]
        Product.objects.bulk_update(changed, fields, batch_size=500)
    counts.products_created, counts.products_updated = len(new), len(changed)
    counts.created_ids = [p.external_id for p in new]
    counts.rows_imported = len(new) + len(changed)
    return counts


def _request_ids(rows: pd.DataFrame) -> pd.Series:
    return rows["request_id"] if "request_id" in rows else pd.Series("", index=rows.index, dtype="str")


def _events(rows: pd.DataFrame, catalog: Catalog, batch: ImportBatch | None, counts: WriteCounts) -> None:
    shopper_ids = [s for s in rows["shopper"].unique().tolist() if s]
    shoppers: dict[str, int] = {}
    for ids in _chunks(shopper_ids):
        shoppers.update(Shopper.objects.filter(catalog=catalog, external_id__in=ids).values_list("external_id", "pk"))
    missing = [Shopper(catalog=catalog, external_id=s) for s in shopper_ids if s not in shoppers]
    Shopper.objects.bulk_create(missing, batch_size=BATCH, ignore_conflicts=True)  # one created meanwhile is kept
    counts.shoppers_created = len(missing)
    for ids in _chunks([s.external_id for s in missing]):
        shoppers.update(Shopper.objects.filter(catalog=catalog, external_id__in=ids).values_list("external_id", "pk"))
    products: dict[str, int] = {}
    for ids in _chunks([p for p in rows["product"].unique().tolist() if p]):
        products.update(Product.objects.filter(catalog=catalog, external_id__in=ids).values_list("external_id", "pk"))
    # One executemany instead of bulk_create: building 10⁵ model instances costs more than the insert.
    ops = connection.ops
    columns = ["catalog_id", "type", "shopper_id", "product_id", "query", "quantity", "value", "timestamp",
               "session_id", "event_id", "request_id", "batch_id"]
    cols = ["type", "shopper", "product", "query", "quantity", "value", "timestamp", "session", "event_id"]
    batch_id = batch.pk if batch is not None else None
    values = [
        (catalog.pk, t, shoppers.get(s), products.get(p), q, int(n),
         ops.adapt_decimalfield_value(_decimal(v), 14, 2), ops.adapt_datetimefield_value(ts.to_pydatetime()),
         sess, eid or None, rid, batch_id)
        for (t, s, p, q, n, v, ts, sess, eid), rid in zip(rows[cols].itertuples(index=False, name=None),
                                                          _request_ids(rows), strict=True)
    ]
    # An event id stored meanwhile (the same batch sent twice at once) is skipped, as ON CONFLICT does on PostgreSQL.
    sql = (f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} {Event._meta.db_table} "
           f"({', '.join(ops.quote_name(c) for c in columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
           f"{' ON CONFLICT DO NOTHING' if connection.vendor == 'postgresql' else ''}")
    inserted = 0
    with connection.cursor() as cursor:
        for start in range(0, len(values), BATCH):
            cursor.executemany(sql, values[start:start + BATCH])
            inserted += max(cursor.rowcount, 0)
    counts.rows_imported = inserted
    counts.duplicates += len(values) - inserted


# --- PostgreSQL fast path --------------------------------------------------------------------------------------------

def _copy(cursor, table: str, frame: pd.DataFrame, on_progress: Callable[[int], None] | None = None,
          chunk_rows: int = 50_000) -> None:
    """Stream ``frame`` into ``table`` with COPY … (FORMAT csv): values quoted, so only missing ones become NULL."""
    options = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
    with cursor.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv)") as copy:
        for start in range(0, len(frame), chunk_rows):
            part = frame.iloc[start:start + chunk_rows]
            buffer = io.BytesIO()
            pa_csv.write_csv(pa.Table.from_pandas(part, preserve_index=False), buffer, options)
            copy.write(buffer.getbuffer())
            if on_progress is not None:
                on_progress(start + len(part))


def _pg_products(rows: pd.DataFrame, mapped: frozenset[str], catalog: Catalog, insert_only: bool = False,
                 replace_attributes: bool = False) -> WriteCounts:
    counts = WriteCounts()
    table = "import_products_tmp"
    frame = pd.DataFrame({"external_id": rows["id"]})
    for field, column in PRODUCT_COLUMNS.items():
        if field in mapped:
            values = rows[field]
            frame[column] = values.astype("object").where(values.notna(), None) if field == "in_stock" else values
    has_attrs = "attributes" in rows
    if has_attrs:
        frame["attributes"] = [json.dumps(a, ensure_ascii=False) for a in rows["attributes"]]
    typed = {"price": "numeric", "in_stock": "boolean", "attributes": "jsonb"}
    defaults = {"title": "''", "description": "''", "category_path": "''", "brand": "''", "price": "NULL",
                "currency": "%(currency)s", "image_url": "''", "in_stock": "true", "attributes": "'{}'::jsonb"}
    # Text columns the file never fills (added to the model later) start empty, as Django's default would.
    defaults.update({str(f.column): "''" for f in Product._meta.concrete_fields
                     if isinstance(f, CharField) and not f.null and f.column not in defaults
                     and f.column != "external_id"})
    with connection.cursor() as c:
        raw = c.cursor
        raw.execute(f"DROP TABLE IF EXISTS {table}")
        raw.execute(f"CREATE TEMP TABLE {table} ("
                    + ", ".join(f"{col} {typed.get(col, 'text')}" for col in frame.columns) + ")")
        _copy(raw, table, frame)
        present = set(frame.columns)
        select = ", ".join(
            (f"COALESCE(NULLIF(t.{col}, ''), {default})" if col == "currency" else f"COALESCE(t.{col}, {default})")
            if col in present else default
            for col, default in defaults.items())
        updates = [f"{col} = EXCLUDED.{col}" for col in present - {"external_id", "attributes"}]
        if has_attrs:
            updates.append("attributes = EXCLUDED.attributes" if replace_attributes
                           else "attributes = dashboard_product.attributes || EXCLUDED.attributes")
        conflict = "DO NOTHING" if insert_only else "DO UPDATE SET " + ", ".join([*updates, "updated_at = now()"])
        raw.execute(
            f"INSERT INTO dashboard_product (catalog_id, external_id, {', '.join(defaults)}, created_at, updated_at) "
            f"SELECT %(catalog)s, t.external_id, {select}, now(), now() FROM {table} t "
            f"ON CONFLICT (catalog_id, external_id) {conflict} RETURNING (xmax = 0), external_id",
            {"catalog": catalog.pk, "currency": catalog.default_currency},
        )
        returned = raw.fetchall()
        created = [row[0] for row in returned]
        raw.execute(f"DROP TABLE {table}")
    counts.created_ids = [row[1] for row in returned if row[0]]
    counts.products_created = sum(created)
    counts.products_updated = len(created) - counts.products_created
    counts.rows_imported = len(created)
    return counts


def _pg_events(rows: pd.DataFrame, catalog: Catalog, batch: ImportBatch | None, counts: WriteCounts,
               on_progress: Callable[[int], None] | None = None) -> None:
    """Shoppers upserted through a temp table; events COPYed straight into the table (ids mapped in pandas).

    Rows with an event id go through a temp table and ``ON CONFLICT DO NOTHING`` instead, so an
    event that arrived since the validate phase is dropped as a duplicate rather than failing the batch.
    """
    with connection.cursor() as c:
        raw = c.cursor
        shoppers = _pg_shoppers(raw, rows["shopper"], catalog, counts)
        products: dict[str, int] = {}
        for ids in _chunks([p for p in rows["product"].unique().tolist() if p]):
            products.update(Product.objects.filter(catalog=catalog, external_id__in=ids)
                            .values_list("external_id", "pk"))
        frame = pd.DataFrame({
            "catalog_id": catalog.pk,
            "type": rows["type"],
            "shopper_id": rows["shopper"].map(shoppers).astype("Int64"),
            "product_id": rows["product"].map(products).astype("Int64"),
            "query": rows["query"],
            "quantity": rows["quantity"],
            "value": rows["value"],
            "timestamp": rows["timestamp"],
            "session_id": rows["session"],
            "event_id": rows["event_id"].where(rows["event_id"] != "", None),
            "request_id": _request_ids(rows),
            "batch_id": pd.Series(batch.pk if batch is not None else None, index=rows.index, dtype="Int64"),
        })
        with_id = frame["event_id"].notna()
        if not with_id.all():
            _copy(raw, "dashboard_event", frame[~with_id], on_progress)
        counts.rows_imported = int((~with_id).sum())
        if with_id.any():
            table = "import_events_tmp"
            raw.execute(f"DROP TABLE IF EXISTS {table}")
            columns = ", ".join(frame.columns)
            raw.execute(f"CREATE TEMP TABLE {table} AS SELECT {columns} FROM dashboard_event WITH NO DATA")
            _copy(raw, table, frame[with_id])
            raw.execute(f"INSERT INTO dashboard_event ({columns}) SELECT {columns} FROM {table} "
                        "ON CONFLICT (catalog_id, event_id) WHERE event_id IS NOT NULL DO NOTHING")
            counts.rows_imported += raw.rowcount
            counts.duplicates = int(with_id.sum()) - raw.rowcount
            raw.execute(f"DROP TABLE {table}")


def _pg_shoppers(raw, shopper_ids: pd.Series, catalog: Catalog, counts: WriteCounts) -> dict[str, int]:
    """Create the missing shoppers; returns ``{external id: pk}`` for every shopper in ``shopper_ids``."""
    table = "import_shoppers_tmp"
    unique = pd.DataFrame({"external_id": shopper_ids[shopper_ids != ""].unique()})
    raw.execute(f"DROP TABLE IF EXISTS {table}")
    raw.execute(f"CREATE TEMP TABLE {table} (external_id text)")
    _copy(raw, table, unique)
    params = {"catalog": catalog.pk}
    raw.execute("INSERT INTO dashboard_shopper (catalog_id, external_id, created_at) "
                f"SELECT %(catalog)s, external_id, now() FROM {table} "
                "ON CONFLICT (catalog_id, external_id) DO NOTHING", params)
    counts.shoppers_created = raw.rowcount
    raw.execute(f"SELECT s.external_id, s.id FROM dashboard_shopper s JOIN {table} t USING (external_id) "
                "WHERE s.catalog_id = %(catalog)s", params)
    found = dict(raw.fetchall())
    raw.execute(f"DROP TABLE {table}")
    return found
