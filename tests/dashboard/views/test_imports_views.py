"""Import pages: upload → map → run → progress → error report, with roles enforced and output escaped."""
from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dashboard.models import ImportBatch, ImportStatus, Product
from dashboard.services.imports import import_start, import_upload

pytestmark = pytest.mark.django_db
XSS = '<script>alert("x")</script>'
BAD_CSV = f'sku,name,price\nA1,"{XSS.replace(chr(34), 2 * chr(34))}",2\nA2,Plate,=1+2\n'.encode()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def url(name, catalog, **kwargs):
    return reverse(f"dashboard:{name}", kwargs={"catalog": catalog.slug, **kwargs})


def upload(client, catalog, data=BAD_CSV, name="p.csv", kind="products"):
    return client.post(url("import_new", catalog),
                       {"kind": kind, "policy": "valid_rows", "file": SimpleUploadedFile(name, data)})


def imported_batch(catalog):
    batch = import_upload(catalog=catalog, kind="products", file=SimpleUploadedFile("p.csv", BAD_CSV))
    return import_start(batch=batch, mapping={"sku": "id", "name": "title", "price": "price"}, run_inline=True)


def test_the_upload_shows_the_columns_with_suggested_fields_then_runs(merch_client, catalog):
    response = upload(merch_client, catalog)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == url("import_detail", catalog, pk=batch.pk)
    page = merch_client.get(response["Location"]).content.decode()
    assert 'name="col-0" data-column="sku"' in page and '<option value="id" selected>' in page
    assert '<option value="title" selected>' in page  # "name" is similar to "title"
    response = merch_client.post(url("import_start", catalog, pk=batch.pk),
                                 {"col-0": "id", "col-1": "title", "col-2": "price", "policy": "valid_rows"})
    batch.refresh_from_db()
    assert (batch.status, batch.rows_imported, batch.rows_rejected) == (ImportStatus.PARTIAL, 1, 1)
    page = merch_client.get(response["Location"]).content.decode()
    assert "finished with rejected rows" in page
    assert "rows imported" in page and url("import_errors_csv", catalog, pk=batch.pk) in page


def test_a_mapping_without_a_required_field_is_explained_on_the_page(merch_client, catalog):
    upload(merch_client, catalog)
    batch = ImportBatch.objects.get()
    response = merch_client.post(url("import_start", catalog, pk=batch.pk), {"col-0": "id"}, follow=True)
    assert "required field(s) “title”" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DRAFT and Product.objects.count() == 0


def test_an_unreadable_upload_is_explained_on_the_form(merch_client, catalog, settings):
    response = upload(merch_client, catalog, data=b"")
    assert "empty (0 bytes)" in response.content.decode()
    settings.IMPORT_MAX_MB = 0
    response = upload(merch_client, catalog, data=b"id,title\nA1,Mug\n")
    assert "the limit is 0 MB" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_analysts_see_imports_but_cannot_upload_or_start(analyst_client, catalog):
    batch = imported_batch(catalog)
    assert analyst_client.get(url("imports", catalog)).status_code == 200
    assert analyst_client.get(url("import_detail", catalog, pk=batch.pk)).status_code == 200
    assert analyst_client.get(url("import_errors_csv", catalog, pk=batch.pk)).status_code == 200
    assert analyst_client.get(url("import_new", catalog)).status_code == 403
    assert upload(analyst_client, catalog).status_code == 403
    assert analyst_client.post(url("import_start", catalog, pk=batch.pk), {}).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, catalog):
    response = client.get(url("imports", catalog))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_history_lists_batches_with_counts_and_report_links(analyst_client, catalog):
    batch = imported_batch(catalog)
    page = analyst_client.get(url("imports", catalog)).content.decode()
    assert "p.csv" in page and url("import_errors_csv", catalog, pk=batch.pk) in page


def test_the_history_has_a_helpful_empty_state(merch_client, catalog):
    page = merch_client.get(url("imports", catalog)).content.decode()
    assert "No imports yet" in page and url("import_new", catalog) in page


def test_the_progress_endpoint_reports_rows_rate_and_counts(analyst_client, catalog):
    batch = imported_batch(catalog)
    data = analyst_client.get(url("import_progress", catalog, pk=batch.pk)).json()
    assert data["finished"] and data["status"] == "partial" and data["percent"] == 100.0
    assert (data["rows_total"], data["rows_done"], data["rows_imported"], data["rows_rejected"]) == (2, 2, 1, 1)
    assert data["has_report"] is True


def test_the_error_report_neutralises_formula_values(analyst_client, catalog):
    batch = imported_batch(catalog)
    response = analyst_client.get(url("import_errors_csv", catalog, pk=batch.pk))
    assert response["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["row"], r["field"], r["value"]) for r in rows] == [("3", "price", "'=1+2")]


def test_script_titles_are_rendered_escaped(analyst_client, catalog):
    imported_batch(catalog)
    assert Product.objects.get(external_id="A1").title == XSS
    page = analyst_client.get(reverse("dashboard:products", kwargs={"catalog": catalog.slug})).content.decode()
    assert "&lt;script&gt;alert(" in page and XSS not in page


def test_rejected_values_are_rendered_escaped(analyst_client, catalog):
    batch = import_upload(catalog=catalog, kind="products",
                          file=SimpleUploadedFile("p.csv", f"id,title,price\nA1,Mug,{XSS}\n".encode()))
    batch = import_start(batch=batch, mapping={"id": "id", "title": "title", "price": "price"}, run_inline=True)
    page = analyst_client.get(url("import_detail", catalog, pk=batch.pk)).content.decode()
    assert "&lt;script&gt;" in page and XSS not in page


def test_large_files_are_queued_for_the_worker_after_commit(merch_client, catalog, settings, monkeypatch,
                                                            django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr("dashboard.services.jobs.current_app.send_task",
                        lambda name, args, **options: sent.append((name, args)))
    settings.IMPORT_SYNC_MAX_ROWS = 1
    upload(merch_client, catalog)
    batch = ImportBatch.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        merch_client.post(url("import_start", catalog, pk=batch.pk), {"col-0": "id", "col-1": "title"})
    batch.refresh_from_db()
    assert batch.status == ImportStatus.QUEUED and sent == [("dashboard.import_run", [batch.pk])]
