"""Shoppers: the list with event counts, and one shopper's history grouped by day."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from dashboard.models import EventType
from tests.factories import EventFactory, ProductFactory, ShopperFactory


def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2011, 6, day, hour, tzinfo=dt.UTC)


def listing(client, catalog, **params):
    return client.get(reverse("dashboard:shoppers", kwargs={"catalog": catalog.slug}), params)


def test_it_lists_shoppers_with_their_event_counts_busiest_first(analyst_client, catalog):
    quiet = ShopperFactory(catalog=catalog, external_id="17850")
    busy = ShopperFactory(catalog=catalog, external_id="12346")
    EventFactory(catalog=catalog, shopper=quiet)
    EventFactory.create_batch(3, catalog=catalog, shopper=busy)
    page = listing(analyst_client, catalog, sort="-events").context["page"]
    assert [(s.external_id, s.event_count) for s in page.object_list] == [("12346", 3), ("17850", 1)]


def test_by_default_it_lists_shoppers_by_id_with_counts_and_last_activity(analyst_client, catalog):
    ann = ShopperFactory(catalog=catalog, external_id="A1")
    ShopperFactory(catalog=catalog, external_id="B2")
    EventFactory(catalog=catalog, shopper=ann, timestamp=at(1, 9))
    EventFactory(catalog=catalog, shopper=ann, timestamp=at(3, 9))
    page = listing(analyst_client, catalog).context["page"]
    assert [(s.external_id, s.event_count, s.last_seen) for s in page.object_list] == [
        ("A1", 2, at(3, 9)), ("B2", 0, None),
    ]


def test_it_searches_by_shopper_id(analyst_client, catalog):
    ShopperFactory(catalog=catalog, external_id="12346")
    ShopperFactory(catalog=catalog, external_id="17850")
    page = listing(analyst_client, catalog, q="1785").context["page"]
    assert [s.external_id for s in page.object_list] == ["17850"]


def test_a_search_without_match_says_so(analyst_client, catalog):
    ShopperFactory(catalog=catalog)
    assert "No shopper id contains “zzz”." in listing(analyst_client, catalog, q="zzz").content.decode()


def test_no_shoppers_yet_says_where_they_come_from(merch_client, catalog):
    html = listing(merch_client, catalog).content.decode()
    assert "No shoppers yet" in html
    assert reverse("dashboard:import_new", kwargs={"catalog": catalog.slug}) in html


@pytest.mark.parametrize("sort", ["id", "-events", "-last_seen"])
def test_the_list_paginates_and_runs_a_fixed_number_of_queries(analyst_client, catalog, django_assert_max_num_queries, sort):
    for shopper in ShopperFactory.create_batch(55, catalog=catalog):
        EventFactory(catalog=catalog, shopper=shopper)
    with django_assert_max_num_queries(9):
        response = listing(analyst_client, catalog, sort=sort)
    assert len(response.context["page"].object_list) == 50
    assert all(s.event_count == 1 for s in response.context["page"].object_list)
    assert response.context["page"].paginator.count == 55


def test_the_history_is_newest_first_grouped_by_day_with_products(analyst_client, catalog):
    shopper = ShopperFactory(catalog=catalog)
    mug = ProductFactory(catalog=catalog, title="Mug")
    lamp = ProductFactory(catalog=catalog, title="Lamp")
    EventFactory(catalog=catalog, shopper=shopper, product=mug, timestamp=at(1, 9), type=EventType.VIEW)
    EventFactory(catalog=catalog, shopper=shopper, product=mug, timestamp=at(1, 10), quantity=4, value=12.5)
    EventFactory(catalog=catalog, shopper=shopper, product=lamp, timestamp=at(2, 8))
    response = analyst_client.get(reverse("dashboard:shopper_detail", kwargs={"catalog": catalog.slug, "pk": shopper.pk}))
    days = response.context["days"]
    assert [day.isoformat() for day, _ in days] == ["2011-06-02", "2011-06-01"]
    assert [[e.timestamp.hour for e in events] for _, events in days] == [[8], [10, 9]]
    html = response.content.decode()
    assert reverse("dashboard:product_detail", kwargs={"catalog": catalog.slug, "pk": mug.pk}) in html
    assert "item-card" in html and "12.50" in html


def test_the_history_groups_days_in_the_operators_time_zone(analyst_client, catalog, settings):
    settings.TIME_ZONE = "America/New_York"  # 02:00 UTC on 2 June is still 1 June in New York
    shopper = ShopperFactory(catalog=catalog)
    EventFactory(catalog=catalog, shopper=shopper, timestamp=at(2, 2))
    response = analyst_client.get(reverse("dashboard:shopper_detail", kwargs={"catalog": catalog.slug, "pk": shopper.pk}))
    assert [day.isoformat() for day, _ in response.context["days"]] == ["2011-06-01"]


def test_the_history_paginates_without_extra_queries(analyst_client, catalog, django_assert_max_num_queries):
    shopper = ShopperFactory(catalog=catalog)
    for i in range(60):
        EventFactory(catalog=catalog, shopper=shopper, timestamp=at(1 + i % 20, 1 + i % 20))
    url = reverse("dashboard:shopper_detail", kwargs={"catalog": catalog.slug, "pk": shopper.pk})
    with django_assert_max_num_queries(13):  # 9 + the profile (active version, events, prices) + recommendations
        response = analyst_client.get(url)
    assert sum(len(events) for _, events in response.context["days"]) == 50
    assert "Page 1 of 2" in response.content.decode()


def test_a_shopper_with_no_events_gets_an_empty_state(analyst_client, catalog):
    shopper = ShopperFactory(catalog=catalog)
    response = analyst_client.get(reverse("dashboard:shopper_detail", kwargs={"catalog": catalog.slug, "pk": shopper.pk}))
    assert "No events for this shopper yet." in response.content.decode()


def test_the_shopper_page_shows_what_the_default_config_recommends_now_with_reasons(analyst_client, catalog,
                                                                                   fusion_config):
    shopper = catalog.shoppers.get(external_id="U000")
    response = analyst_client.get(reverse("dashboard:shopper_detail", kwargs={"catalog": catalog.slug, "pk": shopper.pk}))
    recs = response.context["recommendations"]
    assert recs["state"] == "ok" and recs["config"] == "Default" and recs["version"] == 1
    assert len(recs["items"]) == 10 and all(r["reason"] for r in recs["items"])
    html = response.content.decode()
    assert "Recommended now" in html
    assert reverse("dashboard:product_detail", kwargs={"catalog": catalog.slug, "pk": recs["items"][0]["product"].pk}) in html


def test_without_a_model_the_recommendations_say_what_to_do(analyst_client, catalog):
    shopper = ShopperFactory(catalog=catalog)
    response = analyst_client.get(reverse("dashboard:shopper_detail", kwargs={"catalog": catalog.slug, "pk": shopper.pk}))
    assert "train and promote one" in response.content.decode()
