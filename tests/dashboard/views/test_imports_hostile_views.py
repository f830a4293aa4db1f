"""Import pages under hostile or awkward files: wide files paginate, limits are explained, imports cancel."""
from __future__ import annotations

import gzip

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dashboard.models import ImportBatch, ImportStatus, Product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def url(name, catalog, **kwargs):
    return reverse(f"dashboard:{name}", kwargs={"catalog": catalog.slug, **kwargs})


def upload(client, catalog, data, name="p.csv", kind="products"):
    return client.post(url("import_new", catalog),
                       {"kind": kind, "policy": "valid_rows", "file": SimpleUploadedFile(name, data)})


def wide_csv(columns: int) -> bytes:
    return ("id,title," + ",".join(f"c{i}" for i in range(columns - 2)) + "\n"
            + "A1,Mug," + ",".join("1" for _ in range(columns - 2)) + "\n").encode()


def test_a_wide_file_is_mapped_page_by_page_and_choices_survive_paging(merch_client, catalog):
    upload(merch_client, catalog, wide_csv(300))
    batch = ImportBatch.objects.get()
    page = merch_client.get(url("import_detail", catalog, pk=batch.pk)).content.decode()
    assert page.count("data-column=") == 50 and "Columns 1–50 of 300" in page
    assert len(page) < 120_000  # one page of selects, not 300
    response = merch_client.post(url("import_start", catalog, pk=batch.pk),
                                 {"col-0": "id", "col-1": "title", "col-2": "brand", "goto": "3"})
    assert response["Location"].endswith("?cols=3")
    page = merch_client.get(response["Location"]).content.decode()
    assert "Columns 101–150 of 300" in page and 'name="col-2" value="brand"' in page  # carried as hidden input
    merch_client.post(url("import_start", catalog, pk=batch.pk),
                      {"col-0": "id", "col-1": "title", "col-2": "brand", "col-120": "category"})
    product = Product.objects.get(catalog=catalog, external_id="A1")
    assert (product.brand, product.category_path, len(product.attributes)) == ("1", "1", 300 - 4)


def test_files_over_a_limit_are_refused_at_upload_naming_the_limit_and_the_setting(merch_client, catalog, settings):
    settings.IMPORT_MAX_COLUMNS = 100
    response = upload(merch_client, catalog, wide_csv(2000))
    assert "2,000 columns; the limit is 100 columns" in response.content.decode()
    assert "IMPORT_MAX_COLUMNS" in response.content.decode()
    settings.IMPORT_MAX_LINE_KB = 64
    endless = gzip.compress(b"id,title\n" + b"x" * (8 << 20))
    response = upload(merch_client, catalog, endless, name="endless.csv.gz")
    assert "Line 2 of “endless.csv.gz” is longer than 0.1 MB per line" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_rows_over_the_limit_are_refused_at_start_and_by_the_worker_with_nothing_written(
        merch_client, catalog, settings):
    from dashboard.services.imports import import_run

    settings.IMPORT_MAX_ROWS = 300
    upload(merch_client, catalog, b"id,title\n" + b"".join(f"P{i},T\n".encode() for i in range(500)))
    batch = ImportBatch.objects.get()  # the preview read only the first rows: accepted
    response = merch_client.post(url("import_start", catalog, pk=batch.pk), {"col-0": "id", "col-1": "title"},
                                 follow=True)
    assert "more than 300 rows" in response.content.decode() and "IMPORT_MAX_ROWS" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DRAFT
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.QUEUED, mapping={"id": "id", "title": "title"})
    batch = import_run(batch=batch)  # a worker given it anyway checks the rows while it counts them
    assert batch.status == ImportStatus.FAILED and "more than 300 rows" in batch.error_message
    assert Product.objects.count() == 0


def test_a_queued_import_can_be_cancelled_from_its_page(merch_client, catalog, settings, monkeypatch):
    monkeypatch.setattr("dashboard.services.jobs.current_app.send_task", lambda *a, **k: None)
    settings.IMPORT_SYNC_MAX_ROWS = 1
    upload(merch_client, catalog, b"id,title\nA1,Mug\nA2,Plate\n")
    batch = ImportBatch.objects.get()
    merch_client.post(url("import_start", catalog, pk=batch.pk), {"col-0": "id", "col-1": "title"})
    page = merch_client.get(url("import_detail", catalog, pk=batch.pk)).content.decode()
    assert url("import_cancel", catalog, pk=batch.pk) in page
    merch_client.post(url("import_cancel", catalog, pk=batch.pk))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CANCELLED and batch.is_finished


def test_the_same_file_is_flagged_on_the_mapping_page(merch_client, catalog):
    data = b"id,title\nA1,Mug\n"
    upload(merch_client, catalog, data)
    first = ImportBatch.objects.get()
    merch_client.post(url("import_start", catalog, pk=first.pk), {"col-0": "id", "col-1": "title"})
    upload(merch_client, catalog, data, name="again.csv")
    again = ImportBatch.objects.exclude(pk=first.pk).get()
    page = merch_client.get(url("import_detail", catalog, pk=again.pk)).content.decode()
    assert f"already imported as import #{first.pk}" in page and 'name="allow_same_file"' in page
