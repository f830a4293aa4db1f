"""The impression log: synchronous when told, otherwise buffered and written by one background thread."""
from __future__ import annotations

import time
import uuid

import pytest

from dashboard.models import Impression
from dashboard.services import impressions
from dashboard.services.impressions import impression_log, impressions_flush


def log_one(catalog, **kwargs) -> str:
    request_id = str(uuid.uuid4())
    impression_log(catalog_id=catalog.pk, request_id=request_id, surface="home", items=["A1", "A2"], **kwargs)
    return request_id


@pytest.fixture
def synchronous(settings):
    settings.API_IMPRESSION_FLUSH_S = 0


@pytest.fixture
def no_writer_thread(monkeypatch):
    """Rows stay in the buffer until flushed in the test's own thread (and transaction)."""
    monkeypatch.setattr(impressions, "_ensure_thread", lambda state: None)
    yield
    impressions._current().rows.clear()


@pytest.mark.django_db
def test_with_a_zero_interval_the_row_is_written_at_once_in_the_callers_transaction(catalog, synchronous):
    request_id = log_one(catalog, shopper_id="17850", model_version=3, fusion_config="default", fallback="")
    row = Impression.objects.get()
    assert str(row.request_id) == request_id
    assert (row.catalog_id, row.surface, row.items, row.shopper_id, row.model_version, row.fusion_config) == (
        catalog.pk, "home", ["A1", "A2"], "17850", 3, "default")


@pytest.mark.django_db
def test_a_row_logged_twice_is_stored_once(catalog, synchronous):
    request_id = log_one(catalog)
    impression_log(catalog_id=catalog.pk, request_id=request_id, surface="home", items=["B1"])
    assert Impression.objects.count() == 1


@pytest.mark.django_db
def test_over_long_texts_are_cut_to_the_column_not_lost(catalog, synchronous):
    log_one(catalog, shopper_id="s" * 500, fallback="f" * 100)
    row = Impression.objects.get()
    assert (len(row.shopper_id), len(row.fallback)) == (200, 40)


@pytest.mark.django_db
def test_a_full_buffer_makes_the_caller_write_its_own_row(catalog, settings, monkeypatch, no_writer_thread):
    settings.API_IMPRESSION_FLUSH_S = 60
    monkeypatch.setattr(impressions, "BUFFER_MAX", 2)
    log_one(catalog)
    log_one(catalog)
    assert Impression.objects.count() == 0  # both wait in the buffer
    third = log_one(catalog)
    assert list(Impression.objects.values_list("request_id", flat=True)) == [uuid.UUID(third)]
    assert impressions_flush() == 2
    assert Impression.objects.count() == 3


@pytest.mark.django_db
def test_flush_writes_everything_buffered_now(catalog, settings, no_writer_thread):
    settings.API_IMPRESSION_FLUSH_S = 60
    for _ in range(5):
        log_one(catalog)
    assert impressions_flush() == 5
    assert impressions_flush() == 0
    assert Impression.objects.count() == 5


def test_a_forked_process_starts_with_an_empty_buffer_of_its_own(monkeypatch, settings):
    settings.API_IMPRESSION_FLUSH_S = 60
    parent = impressions._current()
    monkeypatch.setattr(parent, "pid", -1)  # as seen from a child forked without the at-fork hook
    child = impressions._current()
    assert child is not parent and child.rows == [] and child.thread is None


@pytest.mark.django_db(transaction=True)
def test_buffered_rows_are_written_by_the_background_thread(catalog, settings):
    settings.API_IMPRESSION_FLUSH_S = 0.05
    ids = {uuid.UUID(log_one(catalog)) for _ in range(3)}
    deadline = time.monotonic() + 10
    while Impression.objects.count() < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(Impression.objects.values_list("request_id", flat=True)) == ids
    thread = impressions._current().thread
    assert thread is not None and thread.name == "impressions-writer" and thread.daemon


@pytest.mark.django_db(transaction=True)
def test_a_failed_background_write_is_logged_and_retried_on_the_next_tick(catalog, settings, monkeypatch, caplog):
    settings.API_IMPRESSION_FLUSH_S = 60
    monkeypatch.setattr(impressions, "_ensure_thread", lambda state: None)
    log_one(catalog)
    state = impressions._current()
    real = Impression.objects.bulk_create
    calls = []

    def fail_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database away")
        return real(*args, **kwargs)

    monkeypatch.setattr(Impression.objects, "bulk_create", fail_once)
    impressions._flush_tick(state)
    assert Impression.objects.count() == 0 and len(state.rows) == 1
    assert "could not write 1 impression" in caplog.text
    impressions._flush_tick(state)
    assert Impression.objects.count() == 1 and state.rows == []
