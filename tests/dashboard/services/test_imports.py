"""The import service: happy paths, upserts, mappings, duplicates and crash safety."""
from __future__ import annotations

import gzip
import io
import json

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from dashboard.models import ColumnMapping, Event, ImportStatus, Product, Shopper
from dashboard.services import import_write
from dashboard.services.imports import import_start, import_upload
from tests.factories import EventFactory, ProductFactory

pytestmark = pytest.mark.django_db

PRODUCTS_CSV = (
    "sku,name,price,colour,category\n"
    "A1,Red mug,2.50,red,Kitchen > Mugs\n"
    "A2,Blue plate,3.00,blue,Kitchen > Plates\n"
)
PRODUCT_MAP = {"sku": "id", "name": "title", "price": "price", "category": "category"}
RETAIL_CSV = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom\n"
    "536366,71053,WHITE METAL LANTERN,2,2010-12-01 09:00:00,3.39,,United Kingdom\n"
    "C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-1,2010-12-01 09:41:00,2.55,17850,United Kingdom\n"
)
RETAIL_MAP = {"InvoiceNo": "session", "StockCode": "product", "Description": "title", "Quantity": "quantity",
              "InvoiceDate": "timestamp", "UnitPrice": "price", "CustomerID": "shopper"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(params=["copy", "bulk_create"])
def both_writers(request, monkeypatch):
    """Run the test through the PostgreSQL COPY path and through the generic (SQLite) path."""
    if request.param == "bulk_create":
        monkeypatch.setattr(import_write, "use_copy", lambda: False)
    elif not import_write.use_copy():
        pytest.skip("the COPY path needs PostgreSQL")
    return request.param


def run_import(catalog, kind, name, data, mapping, policy="valid_rows", **options):
    batch = import_upload(catalog=catalog, kind=kind, file=SimpleUploadedFile(name, data), policy=policy)
    return import_start(batch=batch, mapping=mapping, run_inline=True, **options)


def test_it_imports_products_from_csv_with_attributes(catalog, both_writers):
    batch = run_import(catalog, "products", "p.csv", PRODUCTS_CSV.encode(), PRODUCT_MAP)
    assert batch.status == ImportStatus.SUCCEEDED
    assert (batch.rows_total, batch.rows_imported, batch.products_created, batch.rows_rejected) == (2, 2, 2, 0)
    mug = Product.objects.get(catalog=catalog, external_id="A1")
    assert (mug.title, str(mug.price), mug.category_path, mug.currency) == ("Red mug", "2.50", "Kitchen > Mugs", "GBP")
    assert mug.attributes == {"colour": "red"}


@pytest.mark.parametrize("name", ["p.jsonl", "p.jsonl.gz", "p.parquet", "p.csv.gz"])
def test_it_imports_jsonl_parquet_and_gzip(catalog, name):
    frame = pd.read_csv(io.StringIO(PRODUCTS_CSV), dtype=str)
    if ".jsonl" in name:
        data = "".join(json.dumps(r) + "\n" for r in frame.to_dict("records")).encode()
    elif ".parquet" in name:
        buffer = io.BytesIO()
        frame.to_parquet(buffer)
        data = buffer.getvalue()
    else:
        data = PRODUCTS_CSV.encode()
    if name.endswith(".gz"):
        data = gzip.compress(data)
    batch = run_import(catalog, "products", name, data, PRODUCT_MAP)
    assert batch.status == ImportStatus.SUCCEEDED, batch.error_message
    assert sorted(catalog.products.values_list("external_id", flat=True)) == ["A1", "A2"]


def test_it_upserts_products_by_external_id_and_keeps_unmapped_fields(catalog, both_writers):
    ProductFactory(catalog=catalog, external_id="A1", title="Old mug", price=9, description="Keep me",
                   attributes={"material": "clay"})
    batch = run_import(catalog, "products", "p.csv", PRODUCTS_CSV.encode(), PRODUCT_MAP)
    assert (batch.products_created, batch.products_updated) == (1, 1)
    mug = Product.objects.get(catalog=catalog, external_id="A1")
    assert (mug.title, str(mug.price), mug.description) == ("Red mug", "2.50", "Keep me")
    assert mug.attributes == {"material": "clay", "colour": "red"}
    assert catalog.products.count() == 2


def test_it_saves_the_mapping_and_offers_it_next_time(catalog):
    from dashboard.selectors.imports import import_mapping_form

    run_import(catalog, "products", "p.csv", PRODUCTS_CSV.encode(), PRODUCT_MAP)
    assert ColumnMapping.objects.get(catalog=catalog, kind="products").mapping == PRODUCT_MAP
    again = import_upload(catalog=catalog, kind="products", file=SimpleUploadedFile("p2.csv", PRODUCTS_CSV.encode()))
    assert import_mapping_form(batch=again)["suggested"] == PRODUCT_MAP


def test_it_imports_online_retail_events_creating_products_shoppers_returns_and_anonymous_rows(catalog, both_writers):
    batch = run_import(catalog, "events", "retail.csv", RETAIL_CSV.encode(), RETAIL_MAP, unknown_products="create")
    assert batch.status == ImportStatus.SUCCEEDED, batch.error_message
    assert (batch.rows_imported, batch.products_created, batch.shoppers_created) == (4, 2, 1)
    assert sorted(batch.created_products) == ["71053", "85123A"]
    events = Event.objects.filter(catalog=catalog).order_by("timestamp")
    assert [e.type for e in events] == ["purchase", "purchase", "purchase", "return"]
    anonymous = events.get(shopper__isnull=True)
    assert anonymous.session_id == "536366"
    ret = events.get(type="return")
    assert (ret.quantity, str(ret.value), ret.session_id) == (1, "2.55", "C536379")
    assert Product.objects.get(catalog=catalog, external_id="85123A").title == "WHITE HANGING HEART T-LIGHT HOLDER"
    assert all(e.batch_id == batch.pk for e in events)


def test_events_for_unknown_products_without_a_title_ask_to_import_products_first(catalog):
    mapping = {k: v for k, v in RETAIL_MAP.items() if v != "title"}
    ProductFactory(catalog=catalog, external_id="71053")
    batch = run_import(catalog, "events", "retail.csv", RETAIL_CSV.encode(), mapping)
    assert (batch.rows_imported, batch.rows_rejected) == (2, 2)
    assert "import the products file first" in batch.errors[0]["problem"]
    assert not Product.objects.filter(catalog=catalog, external_id="85123A").exists()


def test_duplicate_event_ids_are_dropped_and_counted_not_reported(catalog, both_writers):
    EventFactory(catalog=catalog, event_id="e1", product=ProductFactory(catalog=catalog, external_id="A1"))
    csv = "event_id,product,timestamp,shopper\ne1,A1,2011-01-01,u1\ne2,A1,2011-01-02,u1\ne2,A1,2011-01-02,u1\n"
    batch = run_import(catalog, "events", "e.csv", csv.encode(),
                       {"event_id": "event_id", "product": "product", "timestamp": "timestamp", "shopper": "shopper"})
    assert (batch.rows_imported, batch.rows_duplicate, batch.rows_rejected) == (1, 2, 0)
    again = run_import(catalog, "events", "e.csv", csv.encode(), ColumnMapping.objects.get(kind="events").mapping,
                       allow_same_file=True)
    assert (again.rows_imported, again.rows_duplicate) == (0, 3)
    assert Event.objects.filter(catalog=catalog).count() == 2
    assert Shopper.objects.filter(catalog=catalog).count() == 2  # u1 and the factory's shopper


def test_a_crash_while_writing_leaves_nothing_half_written(catalog, monkeypatch):
    real = import_write._pg_events if import_write.connection.vendor == "postgresql" else import_write._events

    def crash(rows, catalog, batch, counts, **kwargs):
        real(rows, catalog, batch, counts, **kwargs)  # events and shoppers are written, then the worker dies
        raise RuntimeError("disk full")

    monkeypatch.setattr(import_write, "_pg_events", crash)
    monkeypatch.setattr(import_write, "_events", crash)
    batch = run_import(catalog, "events", "retail.csv", RETAIL_CSV.encode(), RETAIL_MAP, unknown_products="create")
    assert batch.status == ImportStatus.FAILED
    assert "Nothing was imported" in batch.error_message and "disk full" in batch.error_message
    assert (Event.objects.count(), Product.objects.count(), Shopper.objects.count()) == (0, 0, 0)


def test_the_management_command_imports_with_a_mapping(catalog, tmp_path, capsys):
    path = tmp_path / "retail.csv.gz"
    path.write_bytes(gzip.compress(RETAIL_CSV.encode()))
    call_command("import_file", str(path), "--catalog", catalog.slug, "--kind", "events",
                 "--map", ",".join(f"{k}={v}" for k, v in RETAIL_MAP.items()), "--unknown-products", "create")
    assert "succeeded" in capsys.readouterr().out
    assert Event.objects.filter(catalog=catalog).count() == 4


def test_the_management_command_explains_a_missing_required_column(catalog, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(PRODUCTS_CSV)
    with pytest.raises(CommandError, match="required field.*“title”.*sku, name, price"):
        call_command("import_file", str(path), "--catalog", catalog.slug, "--kind", "products", "--map", "sku=id")
    assert Product.objects.count() == 0


def test_placeholder_products_take_a_rows_title_or_their_id_and_are_listed(catalog, both_writers):
    csv = "sku,title,when,user\nA1,,2011-01-01,u1\nA1,Mug,2011-01-02,u2\nB2,,2011-01-02,u2\n"
    batch = run_import(catalog, "events", "e.csv", csv.encode(),
                       {"sku": "product", "title": "title", "when": "timestamp", "user": "shopper"},
                       unknown_products="create")
    assert (batch.status, batch.rows_imported, batch.products_created, batch.shoppers_created) == (
        ImportStatus.SUCCEEDED, 3, 2, 2)
    assert sorted(batch.created_products) == ["A1", "B2"]
    titles = dict(Product.objects.filter(catalog=catalog).values_list("external_id", "title"))
    assert titles == {"A1": "Mug", "B2": "B2"}
    assert Product.objects.get(catalog=catalog, external_id="A1").price is None


def test_an_events_row_with_an_unknown_product_is_rejected_by_default_even_with_a_title(catalog, both_writers):
    ProductFactory(catalog=catalog, external_id="71053")
    batch = run_import(catalog, "events", "retail.csv", RETAIL_CSV.encode(), RETAIL_MAP)
    assert (batch.status, batch.rows_imported, batch.rows_rejected, batch.products_created) == (
        ImportStatus.PARTIAL, 2, 2, 0)
    assert str(batch.get_status_display()) == "finished with rejected rows"
    assert "“85123A” is not in the catalog" in batch.errors[0]["problem"]
    assert not Product.objects.filter(catalog=catalog, external_id="85123A").exists()


def test_an_event_value_too_large_to_store_is_a_row_error(catalog):
    ProductFactory(catalog=catalog, external_id="A1")
    csv = "sku,when,qty,price\nA1,2011-01-01,2000000000,9999\nA1,2011-01-01,1,2\n"
    batch = run_import(catalog, "events", "e.csv", csv.encode(),
                       {"sku": "product", "when": "timestamp", "qty": "quantity", "price": "price"})
    assert (batch.status, batch.rows_imported, batch.rows_rejected) == (ImportStatus.PARTIAL, 1, 1)
    assert "too large to store" in batch.errors[0]["problem"]
