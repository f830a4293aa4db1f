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


def test_it_filters_by_date_range_shopper_and_product(analyst_client, catalog, settings):
    import datetime as dt

    from tests.factories import ProductFactory, ShopperFactory

    settings.TIME_ZONE = "UTC"
    mia, ola = ShopperFactory(catalog=catalog, external_id="mia"), ShopperFactory(catalog=catalog, external_id="ola")
    mug = ProductFactory(catalog=catalog, external_id="MUG")
    for day, shopper in ((1, mia), (2, mia), (3, ola), (4, mia)):
        EventFactory(catalog=catalog, shopper=shopper, product=mug if day != 2 else None,
                     timestamp=dt.datetime(2011, 6, day, 12, tzinfo=dt.UTC))

    def days(**params):
        return sorted(e.timestamp.day for e in log(analyst_client, catalog, **params).context["page"].object_list)

    assert days(since="2011-06-02", until="2011-06-03") == [2, 3], "both ends inclusive, as days"
    assert days(shopper="mia") == [1, 2, 4]
    assert days(shopper="mia", product="MUG") == [1, 4]
    assert "No event matches these filters." in log(analyst_client, catalog, shopper="nobody").content.decode()


def test_the_filtered_events_export_as_csv_that_spreadsheets_do_not_run(analyst_client, catalog):
    import csv
    import io

    from tests.factories import ProductFactory

    EventFactory(catalog=catalog, type=EventType.VIEW, product=ProductFactory(catalog=catalog, title="=HYPERLINK(1)"))
    EventFactory(catalog=catalog, type=EventType.PURCHASE)
    response = analyst_client.get(reverse("dashboard:events_csv", kwargs={"catalog": catalog.slug}), {"type": "view"})
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["timestamp", "type", "shopper_id", "product_id"]
    assert len(rows) == 2 and rows[1][1] == "view" and rows[1][4] == "'=HYPERLINK(1)"
    assert "Export CSV" in log(analyst_client, catalog).content.decode()
