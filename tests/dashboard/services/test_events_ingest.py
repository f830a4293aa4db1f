"""Events from the API: the importer's checks and writer, whole batch or nothing, idempotent by event id."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from dashboard.models import Event, Product, Shopper
from dashboard.services import import_write
from dashboard.services.events_ingest import EventsInputError, events_frame, events_ingest
from dashboard.services.import_validate import plan_from_frame
from tests.factories import CatalogFactory, ProductFactory


@pytest.fixture(params=["copy", "bulk_create"])
def both_writers(request, monkeypatch):
    if request.param == "bulk_create":
        monkeypatch.setattr(import_write, "use_copy", lambda: False)
    elif not import_write.use_copy():
        pytest.skip("the COPY path needs PostgreSQL")
    return request.param


@pytest.fixture
def mug(catalog):
    return ProductFactory(catalog=catalog, external_id="A1", title="Red mug")


def purchase(event_id: str | None = "e1", **fields) -> dict:
    return {"event_id": event_id, "type": "purchase", "shopper_id": "17850", "product_id": "A1",
            "timestamp": "2026-11-30T08:26:00Z", "quantity": 2, "value": 5.0, **fields}


@pytest.mark.django_db
def test_it_stores_events_creating_shoppers_and_keeping_the_request_id(catalog, mug, both_writers):
    result = events_ingest(catalog=catalog, events=[purchase(request_id="rq-1"), purchase("e2", shopper_id="")])
    assert (result.stored, result.duplicates, result.products_created) == (2, 0, 0)
    first = Event.objects.get(event_id="e1")
    assert (first.type, first.shopper.external_id, first.product, first.quantity, first.request_id) == (
        "purchase", "17850", mug, 2, "rq-1")
    assert first.timestamp == dt.datetime(2026, 11, 30, 8, 26, tzinfo=dt.UTC) and first.batch_id is None
    assert Event.objects.get(event_id="e2").shopper is None
    assert Shopper.objects.filter(catalog=catalog).count() == 1


@pytest.mark.django_db
def test_an_event_without_a_timestamp_happened_now(catalog, mug):
    before = timezone.now()
    events_ingest(catalog=catalog, events=[purchase(timestamp=None)])
    assert before - dt.timedelta(seconds=1) <= Event.objects.get().timestamp <= timezone.now()


@pytest.mark.django_db
def test_the_same_batch_twice_stores_each_event_once(catalog, mug, both_writers):
    batch = [purchase("e1"), purchase("e2"), purchase("e2")]
    first = events_ingest(catalog=catalog, events=batch)
    second = events_ingest(catalog=catalog, events=batch)
    assert (first.stored, first.duplicates) == (2, 1)
    assert (second.stored, second.duplicates) == (0, 3)
    assert Event.objects.count() == 2


@pytest.mark.django_db
def test_events_without_an_id_are_stored_every_time_they_arrive(catalog, mug):
    events_ingest(catalog=catalog, events=[purchase(None)])
    events_ingest(catalog=catalog, events=[purchase(None)])
    assert Event.objects.count() == 2


@pytest.mark.django_db
def test_one_invalid_event_stores_nothing_and_every_problem_is_named(catalog, mug):
    batch = [purchase("e1"), purchase("e2", timestamp="yesterday"), purchase("e3", type="wink", quantity=1.5)]
    with pytest.raises(EventsInputError) as caught:
        events_ingest(catalog=catalog, events=batch)
    errors = caught.value.errors
    assert list(errors) == ["events.1.timestamp", "events.2.quantity", "events.2.type"]
    assert "ISO 8601" in errors["events.1.timestamp"][0]
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_an_event_for_an_unknown_product_asks_to_create_it_first(catalog, mug):
    with pytest.raises(EventsInputError) as caught:
        events_ingest(catalog=catalog, events=[purchase("e1"), purchase("e2", product_id="NOPE")])
    assert list(caught.value.errors) == ["events.1.product_id"]
    assert "create it first with PUT" in caught.value.errors["events.1.product_id"][0]
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_an_event_with_a_title_creates_its_product_and_queues_the_search_index(catalog, both_writers,
                                                                                 django_capture_on_commit_callbacks,
                                                                                 monkeypatch):
    sent = []
    monkeypatch.setattr("dashboard.services.search_index.current_app.send_task",
                        lambda name, args: sent.append((name, args)))
    with django_capture_on_commit_callbacks(execute=True):
        result = events_ingest(catalog=catalog, events=[purchase(product_id="N1", title="New lamp", price=4.5)])
    assert (result.stored, result.products_created) == (1, 1)
    assert Product.objects.get(catalog=catalog, external_id="N1").title == "New lamp"
    assert sent == [("dashboard.search_index_catch_up", [catalog.pk])]


@pytest.mark.django_db
def test_event_ids_are_unique_per_catalog_not_across_catalogs(catalog, mug):
    other = CatalogFactory()
    ProductFactory(catalog=other, external_id="A1")
    events_ingest(catalog=catalog, events=[purchase("e1")])
    assert events_ingest(catalog=other, events=[purchase("e1")]).stored == 1


@pytest.mark.django_db(transaction=True)
def test_two_identical_batches_sent_at_once_store_each_event_once(catalog):
    if not import_write.use_copy():
        pytest.skip("concurrent writers need PostgreSQL")
    ProductFactory(catalog=catalog, external_id="A1")
    batch = [purchase(f"e{i}") for i in range(200)]
    start = threading.Barrier(2)
    results = []

    def send() -> None:
        try:
            start.wait()
            results.append(events_ingest(catalog=catalog, events=batch))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Event.objects.count() == 200
    assert sum(r.stored for r in results) == 200
    assert sum(r.duplicates for r in results) == 200


@pytest.mark.django_db
def test_an_event_id_stored_while_the_batch_was_checked_is_skipped_by_either_writer(catalog, mug, both_writers):
    frame, mapping = events_frame([purchase("late")])
    plan = plan_from_frame(catalog=catalog, kind="events", frame=frame, mapping=mapping, carry=("request_id",))
    events_ingest(catalog=catalog, events=[purchase("late")])  # another request stores it meanwhile
    counts = import_write.write_plan(plan=plan, catalog=catalog, batch=None)
    assert (counts.rows_imported, counts.duplicates) == (0, 1)
    assert Event.objects.filter(event_id="late").count() == 1
