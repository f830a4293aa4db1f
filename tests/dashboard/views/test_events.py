"""The event log: newest first, filtered by type, paginated without N+1 queries."""
from __future__ import annotations

from django.urls import reverse

from dashboard.models import EventType
from tests.factories import EventFactory


def log(client, catalog, **params):
    return client.get(reverse("dashboard:events", kwargs={"catalog": catalog.slug}), params)


def test_it_filters_events_by_type(analyst_client, catalog):
    EventFactory(catalog=catalog, type=EventType.VIEW)
    EventFactory(catalog=catalog, type=EventType.PURCHASE)
    page = log(analyst_client, catalog, type="view").context["page"]
    assert [e.type for e in page.object_list] == ["view"]


def test_it_runs_a_fixed_number_of_queries(analyst_client, catalog, django_assert_max_num_queries):
    EventFactory.create_batch(55, catalog=catalog)
    with django_assert_max_num_queries(8):
        response = log(analyst_client, catalog)
    assert len(response.context["page"].object_list) == 50


def test_no_events_yet_says_what_to_import(merch_client, catalog):
    assert "No events yet" in log(merch_client, catalog).content.decode()


def test_it_lists_newest_first_or_oldest_first(analyst_client, catalog):
    import datetime as dt

    for day in (3, 1, 2):
        EventFactory(catalog=catalog, timestamp=dt.datetime(2011, 6, day, tzinfo=dt.UTC))
    newest = [e.timestamp.day for e in log(analyst_client, catalog).context["page"].object_list]
    oldest = [e.timestamp.day for e in log(analyst_client, catalog, sort="time").context["page"].object_list]
    assert newest == [3, 2, 1]
    assert oldest == [1, 2, 3]
