"""Every bad input of an import gets a clear message, and all-or-nothing leaves the database unchanged."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboard.models import Event, ImportStatus, Product
from dashboard.services.imports import ImportInputError, import_start, import_upload
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
MAP = {"id": "id", "title": "title", "price": "price"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def stored(catalog):
    """One product already in the catalog: all-or-nothing must leave it exactly as it is."""
    return ProductFactory(catalog=catalog, external_id="A1", title="Stored mug", price=1)


def snapshot(catalog):
    return list(Product.objects.filter(catalog=catalog).values_list("external_id", "title", "price")), \
        Event.objects.count()


def all_or_nothing(catalog, name, data, mapping=MAP, kind="products"):
    before = snapshot(catalog)
    batch = import_upload(catalog=catalog, kind=kind, file=SimpleUploadedFile(name, data), policy="all_or_nothing")
    batch = import_start(batch=batch, mapping=mapping, run_inline=True)
    assert batch.status == ImportStatus.FAILED
    assert "nothing was imported" in batch.error_message
    assert snapshot(catalog) == before
    return batch


def upload_error(catalog, name, data, kind="products"):
    with pytest.raises(ImportInputError) as info:
        import_upload(catalog=catalog, kind=kind, file=SimpleUploadedFile(name, data))
    return str(info.value)


def test_it_rejects_a_latin1_file_with_a_fix(catalog, stored):
    message = upload_error(catalog, "p.csv", "id,title,price\nA1,Café,2\n".encode("latin-1"))
    assert "not valid UTF-8" in message and "Save it as UTF-8" in message
    assert snapshot(catalog)[0] == [("A1", "Stored mug", stored.price)]


def test_it_rejects_a_utf16_file(catalog):
    assert "UTF-16" in upload_error(catalog, "p.csv", "id,title,price\nA1,Mug,2\n".encode("utf-16"))


def test_an_encoding_error_deep_in_the_file_fails_the_batch_and_writes_nothing(catalog, stored):
    rows = "".join(f"B{i},Mug {i},2\n" for i in range(3000)).encode() + "B9,Caf\xe9,2\n".encode("latin-1")
    batch = import_upload(catalog=catalog, kind="products", file=SimpleUploadedFile("p.csv", b"id,title,price\n" + rows))
    before = snapshot(catalog)
    batch = import_start(batch=batch, mapping=MAP, run_inline=True)
    assert batch.status == ImportStatus.FAILED and "not valid UTF-8" in batch.error_message
    assert snapshot(catalog) == before


def test_it_rejects_a_missing_required_column(catalog, stored):
    batch = import_upload(catalog=catalog, kind="products", file=SimpleUploadedFile("p.csv", b"id,price\nA1,2\n"))
    with pytest.raises(ImportInputError, match="required field.*“title”.*columns are: id, price"):
        import_start(batch=batch, mapping={"id": "id", "price": "price"})
    assert batch.status == ImportStatus.DRAFT
    assert snapshot(catalog)[0] == [("A1", "Stored mug", stored.price)]


def test_it_rejects_a_non_numeric_price(catalog, stored):
    batch = all_or_nothing(catalog, "p.csv", b"id,title,price\nA1,New mug,2\nA2,Plate,two\n")
    [error] = batch.errors
    assert (error["row"], error["field"], error["value"]) == (3, "price", "two")
    assert "expected a plain number" in error["problem"]


def test_valid_rows_policy_imports_the_rest_and_reports_the_bad_row(catalog, stored):
    batch = import_upload(catalog=catalog, kind="products",
                          file=SimpleUploadedFile("p.csv", b"id,title,price\nA1,New mug,2\nA2,Plate,two\n"))
    batch = import_start(batch=batch, mapping=MAP, run_inline=True)
    assert (batch.status, batch.rows_imported, batch.rows_rejected) == (ImportStatus.PARTIAL, 1, 1)
    assert Product.objects.get(external_id="A1").title == "New mug"
    assert batch.error_report.read().decode().splitlines()[1].startswith("3,price,price,two,")


def test_it_rejects_an_unparseable_date(catalog, stored):
    data = b"product,timestamp\nA1,2011-01-01 10:00\nA1,31st of Smarch\n"
    batch = all_or_nothing(catalog, "e.csv", data, {"product": "product", "timestamp": "timestamp"}, kind="events")
    assert batch.errors[0]["row"] == 3 and "expected a date and time" in batch.errors[0]["problem"]


def test_it_rejects_a_duplicate_id_within_a_file_naming_the_first_row(catalog, stored):
    batch = all_or_nothing(catalog, "p.csv", b"id,title,price\nA7,Mug,2\nA8,Cup,2\nA7,Mug 2,3\n")
    [error] = batch.errors
    assert error["row"] == 4 and "already appears in row 2" in error["problem"]


def test_it_rejects_a_zero_byte_file(catalog):
    assert "empty (0 bytes)" in upload_error(catalog, "p.csv", b"")


def test_it_rejects_an_empty_gzip_and_a_header_only_file(catalog):
    import gzip

    assert "is empty" in upload_error(catalog, "p.csv.gz", gzip.compress(b""))
    assert "header row but no data rows" in upload_error(catalog, "p.csv", b"id,title,price\n")


def test_it_rejects_a_file_over_the_size_limit(catalog, settings):
    settings.IMPORT_MAX_MB = 1
    message = upload_error(catalog, "p.csv", b"id,title\n" + b"A1,Mug\n" * 200_000)
    assert "the limit is 1 MB" in message and "IMPORT_MAX_MB" in message


def test_it_rejects_an_unsupported_file_type(catalog):
    assert "not a supported file type" in upload_error(catalog, "p.xlsx", b"PK\x03\x04")


def test_html_in_titles_is_stored_as_plain_text(catalog):
    title = '<script>alert("x")</script><b>Mug</b>'
    batch = import_upload(catalog=catalog, kind="products",
                          file=SimpleUploadedFile("p.csv", f'id,title\nA1,"{title.replace(chr(34), 2 * chr(34))}"\n'.encode()))
    import_start(batch=batch, mapping={"id": "id", "title": "title"}, run_inline=True)
    assert Product.objects.get(external_id="A1").title == title
