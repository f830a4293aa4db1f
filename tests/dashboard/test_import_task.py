"""A real Celery worker process runs a queued import to success, with progress saved on the batch."""
from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboard.models import ImportStatus, Product
from dashboard.selectors.imports import import_progress
from dashboard.services.imports import import_start, import_upload
from tests.factories import CatalogFactory


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_a_queued_import_to_success(celery_worker_process, settings):
    settings.IMPORT_SYNC_MAX_ROWS = 10  # 3,000 rows: too many to run inside the request
    catalog = CatalogFactory()
    data = "id,title,price\n" + "".join(f"P{i},Product {i},{i % 50}.99\n" for i in range(3000))
    batch = import_upload(catalog=catalog, kind="products", file=SimpleUploadedFile("big.csv", data.encode()))
    batch = import_start(batch=batch, mapping={"id": "id", "title": "title", "price": "price"})
    assert batch.status == ImportStatus.QUEUED
    deadline = time.time() + 60
    while time.time() < deadline:
        batch.refresh_from_db()
        if batch.is_finished:
            break
        time.sleep(0.3)
    assert batch.status == ImportStatus.SUCCEEDED, batch.error_message
    progress = import_progress(batch=batch)
    assert (progress["rows_done"], progress["rows_total"], progress["percent"]) == (3000, 3000, 100.0)
    assert progress["rows_per_s"] > 0 and batch.started_at <= batch.finished_at
    assert Product.objects.filter(catalog=catalog).count() == 3000
