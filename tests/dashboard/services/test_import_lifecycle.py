"""Imports follow the one job lifecycle: locked claim, attempt limit, reaper for running and queued work, cancel."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dashboard.models import Event, ImportBatch, ImportStatus
from dashboard.services import jobs
from dashboard.services.imports import import_cancel, import_run, import_start, import_upload, imports_reap
from tests.factories import CatalogFactory, ProductFactory

pytestmark = pytest.mark.django_db
CSV = b"product,timestamp\nP1,2011-01-01\nP1,2011-01-02\n"
MAP = {"product": "product", "timestamp": "timestamp"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sent(monkeypatch):
    messages: list[tuple[str, list]] = []
    monkeypatch.setattr("dashboard.services.jobs.current_app.send_task",
                        lambda name, args, **options: messages.append((name, args)))
    return messages


def queued_batch(django_capture_on_commit_callbacks):
    catalog = CatalogFactory()
    ProductFactory(catalog=catalog, external_id="P1")
    batch = import_upload(catalog=catalog, kind="events", file=SimpleUploadedFile("e.csv", CSV))
    with django_capture_on_commit_callbacks(execute=True):
        import_start(batch=batch, mapping=MAP, run_inline=False)
    return batch


def test_a_redelivered_message_of_a_running_import_does_nothing(sent, django_capture_on_commit_callbacks):
    batch = queued_batch(django_capture_on_commit_callbacks)
    assert sent == [("dashboard.import_run", [batch.pk])] and batch.status == ImportStatus.QUEUED
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.RUNNING, attempts=1)
    assert import_run(batch=batch).status == ImportStatus.RUNNING  # the late-acked copy: nothing run twice
    assert Event.objects.count() == 0


def test_a_crashing_import_is_retried_within_its_attempt_limit_then_failed(
        sent, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_MAX_ATTEMPTS = 2
    batch = queued_batch(django_capture_on_commit_callbacks)
    old = timezone.now() - dt.timedelta(minutes=10)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.RUNNING, attempts=1, heartbeat_at=old)
    with django_capture_on_commit_callbacks(execute=True):
        assert imports_reap(stale_after_s=60)["requeued"] == [batch.pk]
    assert len(sent) == 2  # queued again and sent
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.RUNNING, attempts=2, heartbeat_at=old)
    assert imports_reap(stale_after_s=60)["failed"] == [batch.pk]
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED and "gave up after 2 attempt(s)" in batch.error_message
    assert batch.is_finished


def test_a_claim_beyond_the_attempt_limit_fails_instead_of_running(settings, sent, django_capture_on_commit_callbacks):
    settings.IMPORT_MAX_ATTEMPTS = 1
    batch = queued_batch(django_capture_on_commit_callbacks)
    ImportBatch.objects.filter(pk=batch.pk).update(attempts=1)
    assert import_run(batch=batch).status == ImportStatus.FAILED
    assert "gave up after 1 attempt(s)" in batch.error_message and Event.objects.count() == 0


def test_a_queued_import_the_broker_never_took_is_sent_again_by_the_reaper(
        monkeypatch, django_capture_on_commit_callbacks):
    def down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr("dashboard.services.jobs.current_app.send_task", down)
    batch = queued_batch(django_capture_on_commit_callbacks)  # no exception for the caller
    batch.refresh_from_db()
    assert batch.status == ImportStatus.QUEUED and batch.dispatched_at is None and batch.queued_at
    sent: list = []
    monkeypatch.setattr("dashboard.services.jobs.current_app.send_task",
                        lambda name, args, **options: sent.append((name, args)))
    assert imports_reap(stale_after_s=60)["dispatched"] == []  # still within the grace period
    ImportBatch.objects.filter(pk=batch.pk).update(queued_at=timezone.now() - dt.timedelta(minutes=5))
    assert imports_reap(stale_after_s=60)["dispatched"] == [batch.pk]
    batch.refresh_from_db()
    assert sent == [("dashboard.import_run", [batch.pk])] and batch.dispatched_at is not None


def test_a_queued_import_can_be_cancelled_and_is_then_never_run(sent, django_capture_on_commit_callbacks):
    batch = queued_batch(django_capture_on_commit_callbacks)
    assert import_cancel(batch=batch).status == ImportStatus.CANCELLED
    assert import_run(batch=batch).status == ImportStatus.CANCELLED and Event.objects.count() == 0


def test_a_running_import_asked_to_cancel_rolls_back_what_it_wrote(monkeypatch, sent,
                                                                    django_capture_on_commit_callbacks):
    batch = queued_batch(django_capture_on_commit_callbacks)
    monkeypatch.setattr(jobs, "cancel_requested", lambda job: True)  # asked while the first chunk was written
    batch = import_run(batch=batch)
    assert batch.status == ImportStatus.CANCELLED and "nothing was imported" in batch.error_message
    assert Event.objects.count() == 0


def test_training_and_autotune_rows_share_the_lifecycle_fields():
    from dashboard.models import AutoTuneRun, TrainingJob
    from dashboard.models.jobs import BackgroundJob
    from dashboard.services import autotune, training  # noqa: F401 - each registers its kind

    for model in (ImportBatch, TrainingJob, AutoTuneRun):
        assert issubclass(model, BackgroundJob) and jobs.kind_of(model).task.startswith("dashboard.")


def test_the_import_cancel_command_cancels_a_queued_import(sent, django_capture_on_commit_callbacks, capsys):
    from django.core.management import call_command

    batch = queued_batch(django_capture_on_commit_callbacks)
    call_command("import_cancel", str(batch.pk))
    assert f"Import #{batch.pk} cancelled." in capsys.readouterr().out
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CANCELLED
