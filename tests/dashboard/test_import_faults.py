"""Faults caused for real, by processes these tests start themselves (never the shared services): a worker
process killed mid-import, and a broker that is down while an import is queued."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from dashboard.models import Event, ImportBatch, ImportStatus
from dashboard.services.imports import import_run, import_upload, imports_reap
from tests.factories import CatalogFactory, ProductFactory

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import django, sys
django.setup()
from dashboard.models import ImportBatch
from dashboard.services import import_validate
from dashboard.services.imports import import_run
import_validate.CHUNK_ROWS = 200  # many small chunks: the import is still writing when it is killed
import_run(batch=ImportBatch.objects.get(pk=int(sys.argv[1])))
"""


def _env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env.setdefault("DJANGO_SETTINGS_MODULE", "recsite.settings")
    return env


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_import_leaves_nothing_and_the_retry_stores_each_row_once(settings, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("a second process needs the PostgreSQL test database")
    settings.IMPORT_MAX_ATTEMPTS = 2
    catalog = CatalogFactory()
    ProductFactory(catalog=catalog, external_id="P1")
    rows = 20_000
    data = "shopper,product,timestamp\n" + "".join(f"u{i % 300},P1,2011-01-01T00:00:{i % 60:02d}\n"
                                                   for i in range(rows))
    batch = import_upload(catalog=catalog, kind="events", file=SimpleUploadedFile("e.csv", data.encode()))
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.QUEUED, mapping={"shopper": "shopper", "product": "product", "timestamp": "timestamp"})
    # the child reads the upload where this process stored it (the same VAR_DIR, MEDIA_ROOT untouched)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(batch.pk)], cwd=ROOT, env=_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        batch.refresh_from_db()
        if batch.rows_done > 0 or child.poll() is not None:
            break
        time.sleep(0.05)
    assert child.poll() is None, child.stdout.read().decode()[-2000:] if child.stdout else ""
    child.send_signal(signal.SIGKILL)  # the worker dies mid-write: OOM killer, machine gone
    child.wait(timeout=10)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.RUNNING and batch.attempts == 1
    assert Event.objects.filter(catalog=catalog).count() == 0  # its transaction died with it
    sent: list[int] = []  # the reaper's message stays here: a suite's worker must not run the retry beside us
    monkeypatch.setattr("dashboard.services.jobs.current_app.send_task", lambda *a, **kw: sent.append(kw["args"][0]))
    outcome = imports_reap(stale_after_s=0)
    assert sent == [batch.pk]
    assert outcome["requeued"] == [batch.pk]
    batch = import_run(batch=batch)  # the retry (attempt 2 of 2)
    assert batch.status == ImportStatus.SUCCEEDED and batch.attempts == 2
    assert Event.objects.filter(catalog=catalog).count() == rows


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis(port: int, folder: Path) -> subprocess.Popen:
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


@pytest.mark.django_db(transaction=True)
def test_a_broker_down_while_queueing_gives_no_500_and_the_import_is_sent_once_it_is_back(
        client, settings, monkeypatch, tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server to start a broker of its own")
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMPORT_SYNC_MAX_ROWS = 1  # queued for a worker
    port = _free_port()
    broker = _redis(port, tmp_path)
    app = Celery("fault", set_as_current=False)  # the site's app stays the current one for later tests
    # the write/read URLs: the CELERY_BROKER_URL variable would win over broker_url
    app.conf.broker_write_url = app.conf.broker_read_url = f"redis://127.0.0.1:{port}/0"
    app.conf.broker_connection_timeout = settings.CELERY_BROKER_CONNECTION_TIMEOUT
    app.conf.task_publish_retry_policy = settings.CELERY_TASK_PUBLISH_RETRY_POLICY
    monkeypatch.setattr("dashboard.services.jobs.current_app", app)
    catalog = CatalogFactory()
    ProductFactory(catalog=catalog, external_id="P1")
    batch = import_upload(catalog=catalog, kind="events", file=SimpleUploadedFile(
        "e.csv", b"product,timestamp\nP1,2011-01-01\nP1,2011-01-02\nP1,2011-01-03\n"))
    broker.kill()
    broker.wait()
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "x"))
    began = time.monotonic()
    response = client.post(reverse("dashboard:import_start", kwargs={"catalog": catalog.slug, "pk": batch.pk}),
                           {"col-0": "product", "col-1": "timestamp"})
    assert response.status_code == 302 and time.monotonic() - began < 10, "the request fails over fast"
    batch.refresh_from_db()
    assert batch.status == ImportStatus.QUEUED and batch.dispatched_at is None  # committed, not stranded
    broker = _redis(port, tmp_path)
    try:
        assert imports_reap(stale_after_s=60)["dispatched"] == []  # within the grace period
        settings.JOB_DISPATCH_GRACE_S = 0
        assert imports_reap(stale_after_s=60)["dispatched"] == [batch.pk]
        import redis

        assert redis.Redis(port=port).llen("cpu") == 1  # the message is on the queue
    finally:
        broker.kill()
        broker.wait()
    batch.refresh_from_db()
    assert batch.dispatched_at is not None
    assert import_run(batch=batch).status == ImportStatus.SUCCEEDED  # what the worker will do with it
