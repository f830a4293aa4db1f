"""Progress stays visible while an import runs: rows done and the time left, shown mid-transaction."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from dashboard.models import ImportBatch, ImportStatus
from dashboard.selectors.imports import import_progress
from dashboard.services import import_run, import_validate, import_write
from dashboard.services.imports import import_start, import_upload
from tests.factories import CatalogFactory


def test_the_bar_follows_the_rows_and_estimates_the_time_left(db):
    started = timezone.now() - dt.timedelta(seconds=10)
    batch = ImportBatch(catalog=CatalogFactory(), kind="events", status=ImportStatus.RUNNING, rows_total=1000,
                        started_at=started, phase="importing", rows_done=250)
    progress = import_progress(batch=batch)
    assert progress["percent"] == 25.0 and 28 <= progress["eta_s"] <= 31 and 24 <= progress["rows_per_s"] <= 26
    batch.rows_done = 750
    assert import_progress(batch=batch)["percent"] == 75.0


@pytest.mark.django_db(transaction=True)
def test_rows_written_show_while_the_write_transaction_is_open(monkeypatch):
    if not import_write.use_copy():
        pytest.skip("progress during the write pass needs PostgreSQL")
    monkeypatch.setattr(import_validate, "CHUNK_ROWS", 2)  # read and write two rows at a time
    seen = []
    real = import_run._side_progress
    observer = connections.create_connection(DEFAULT_DB_ALIAS)  # like the web request polling the progress

    def spy(batch):
        side, update = real(batch)

        def record(done):
            update(done)
            with observer.cursor() as cursor:
                cursor.execute("SELECT rows_done FROM dashboard_importbatch WHERE id = %s", [batch.pk])
                seen.append(cursor.fetchone()[0])  # visible before the write transaction commits

        return side, record

    monkeypatch.setattr(import_run, "_side_progress", spy)
    data = b"product,title,timestamp\n" + b"".join(f"P{i},Item {i},2011-01-0{i + 1}\n".encode() for i in range(5))
    batch = import_upload(catalog=CatalogFactory(), kind="events", file=SimpleUploadedFile("e.csv", data))
    batch = import_start(batch=batch, mapping={"product": "product", "title": "title", "timestamp": "timestamp"},
                         run_inline=True, unknown_products="create")
    observer.close()
    assert batch.status == ImportStatus.SUCCEEDED
    assert seen and seen[0] == 2
    batch.refresh_from_db()
    assert (batch.rows_done, batch.rows_imported) == (5, 5)
