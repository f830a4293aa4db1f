"""The catalog overview: counts, date range, last import, events per day as a chart, a table and CSV."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from dashboard.models import EventType, ImportBatch
from tests.factories import CatalogFactory, EventFactory, ProductFactory, ShopperFactory

UTC = dt.UTC


def at(day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(2011, 6, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def busy(catalog):
    shopper = ShopperFactory(catalog=catalog)
    product = ProductFactory(catalog=catalog)
    for day, kind, n in [(1, EventType.VIEW, 3), (1, EventType.PURCHASE, 1), (3, EventType.PURCHASE, 2)]:
        for _ in range(n):
            EventFactory(catalog=catalog, shopper=shopper, product=product, type=kind, timestamp=at(day))
    ImportBatch.objects.create(catalog=catalog, kind="events", original_name="june.csv", status="succeeded")
    return catalog


def overview(client, catalog):
    return client.get(reverse("dashboard:catalog_overview", kwargs={"catalog": catalog.slug}))


def test_it_shows_the_counts_the_date_range_and_the_last_import(merch_client, busy):
    response = overview(merch_client, busy)
    html = response.content.decode()
    assert response.context["product_count"] == 1
    assert response.context["shopper_count"] == 1
    assert response.context["event_count"] == 6
    assert response.context["first_event_at"] == at(1)
    assert response.context["last_event_at"] == at(3)
    assert "june.csv" in html


def test_it_embeds_the_events_per_day_chart_and_serves_plotly_locally(merch_client, busy):
    response = overview(merch_client, busy)
    chart = response.context["chart"]
    assert {t["name"]: t["y"] for t in chart["data"]} == {"view": [3, 0], "purchase": [1, 2]}
    html = response.content.decode()
    assert 'id="events-chart-data"' in html
    assert "/static/plotly/plotly.min.js" in html
    # no script from another host (a bare "cdn" check failed whenever the random CSRF token contained it)
    assert not re.search(r'<script[^>]*\ssrc="(https?:)?//', html, re.I) and "cdn.plot.ly" not in html.lower()


def test_it_shows_the_same_figures_as_a_table(merch_client, busy):
    response = overview(merch_client, busy)
    rows = response.context["table_rows"]
    assert [(day.isoformat(), counts, total) for day, counts, total in rows] == [
        ("2011-06-01", [3, 1], 4), ("2011-06-03", [0, 2], 2),
    ]


def test_it_offers_the_figures_as_csv(analyst_client, busy):
    response = analyst_client.get(reverse("dashboard:events_per_day_csv", kwargs={"catalog": busy.slug}))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    lines = response.content.decode().splitlines()
    assert lines == ["day,type,events", "2011-06-01,purchase,1", "2011-06-01,view,3", "2011-06-03,purchase,2"]


def test_it_counts_days_in_the_operators_time_zone(merch_client, catalog, settings):
    settings.TIME_ZONE = "Asia/Shanghai"  # UTC+8: 20:00 UTC on 1 June is 04:00 on 2 June
    EventFactory(catalog=catalog, timestamp=at(1, 20))
    response = overview(merch_client, catalog)
    assert response.context["chart"]["data"][0]["x"] == ["2011-06-02"]


def test_an_empty_catalog_tells_editors_to_import_a_file(merch_client, catalog):
    html = overview(merch_client, catalog).content.decode()
    assert "No products yet — import a catalog file" in html
    assert reverse("dashboard:import_new", kwargs={"catalog": catalog.slug}) in html
    assert "No events yet" in html


def test_an_empty_catalog_tells_analysts_whom_to_ask(analyst_client, catalog):
    html = overview(analyst_client, catalog).content.decode()
    assert "No products yet — import a catalog file" in html
    assert reverse("dashboard:import_new", kwargs={"catalog": catalog.slug}) not in html
    assert "Ask a merchandiser or an admin" in html


def test_the_overview_only_counts_its_own_catalog(merch_client, busy):
    other = CatalogFactory()
    EventFactory(catalog=other)
    assert overview(merch_client, busy).context["event_count"] == 6


def test_it_is_translated_into_simplified_chinese(merch_client, busy):
    merch_client.cookies["django_language"] = "zh-hans"
    html = overview(merch_client, busy).content.decode()
    assert '<html lang="zh-hans">' in html
    assert "每日事件数" in html
    assert "商品" in html and "顾客" in html and "概览" in html


def test_the_language_switch_posts_to_set_language(merch_client, busy):
    html = overview(merch_client, busy).content.decode()
    assert f'action="{reverse("set_language")}"' in html
    assert 'name="language"' in html and 'value="zh-hans"' in html
    response = merch_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert response.cookies["django_language"].value == "zh-hans"


def test_the_chart_is_recomputed_when_events_change(merch_client, busy):
    assert sum(sum(t["y"]) for t in overview(merch_client, busy).context["chart"]["data"]) == 6
    EventFactory(catalog=busy, timestamp=at(5))
    chart = overview(merch_client, busy).context["chart"]
    assert sum(sum(t["y"]) for t in chart["data"]) == 7


def test_it_shows_the_most_active_products_busiest_first(merch_client, catalog):
    quiet, busy = ProductFactory(catalog=catalog, title="Quiet"), ProductFactory(catalog=catalog, title="Busy")
    EventFactory(catalog=catalog, product=quiet)
    EventFactory.create_batch(3, catalog=catalog, product=busy)
    response = overview(merch_client, catalog)
    assert [(p.title, n) for p, n in response.context["top_products"]] == [("Busy", 3), ("Quiet", 1)]
    assert "3 events" in response.content.decode()


def test_the_overview_runs_a_fixed_number_of_queries(merch_client, busy, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        overview(merch_client, busy)


def test_with_one_catalog_a_new_one_is_still_reachable_from_the_navigation(merch_client, catalog):
    page = merch_client.get(reverse("dashboard:catalog_overview", kwargs={"catalog": catalog.slug})).content.decode()
    assert f'value="{reverse("dashboard:catalog_create")}"' in page
    assert merch_client.get(reverse("dashboard:overview")).status_code == 302, "one catalog: straight into it"
    listing = merch_client.get(reverse("dashboard:overview"), {"all": "1"})
    assert listing.status_code == 200 and "New catalog" in listing.content.decode()


def test_plotly_is_served_with_a_week_of_browser_caching(settings, db):
    from django.test import Client

    settings.WHITENOISE_USE_FINDERS = True  # as under `make run`; production serves the collected copy alike
    response = Client().get("/static/plotly/plotly.min.js")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=604800"
    assert "max-age=604800" not in Client().get("/static/dashboard/app.css").get("Cache-Control", "")
