"""Search analytics on hand-made events: counts, click-through within the window, zero-result queries."""
from __future__ import annotations

import datetime as dt

import pytest

from dashboard.models import EventType
from dashboard.services import search_index
from dashboard.services.search_analytics import default_period, query_stats, totals, zero_result_queries
from dashboard.services.search_index import SearchUnavailable
from tests.factories import EventFactory, ProductFactory, ShopperFactory

T0 = dt.datetime(2012, 3, 10, 12, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.fixture
def events(catalog):
    """mug: 3 searches (one clicked by its shopper at +5 min, one by its session at +20 min, one clicked
    too late at +45 min); "Teapot " and "teapot": 2 searches, none clicked (the click is someone else's);
    one search in another month; one search without a query."""
    ann, bob, cid = (ShopperFactory(catalog=catalog, external_id=n) for n in ("ann", "bob", "cid"))
    mug = ProductFactory(catalog=catalog, external_id="M1", title="Porcelain mug")

    def search(shopper, query, when, session=""):
        EventFactory(catalog=catalog, shopper=shopper, product=None, type=EventType.SEARCH, query=query,
                     timestamp=when, session_id=session)

    def click(shopper, when, session=""):
        EventFactory(catalog=catalog, shopper=shopper, product=mug, type=EventType.CLICK, timestamp=when,
                     session_id=session)

    search(ann, "mug", at(0)); click(ann, at(5))  # noqa: E702
    search(None, "Mug", at(100), session="s1"); click(None, at(120), session="s1")  # noqa: E702
    search(bob, "mug", at(200)); click(bob, at(245))  # noqa: E702
    search(cid, "Teapot ", at(300)); click(ann, at(301))  # noqa: E702
    search(cid, "teapot", at(400))
    search(ann, "old query", T0 - dt.timedelta(days=60))
    search(ann, "", at(500))
    return catalog


def test_queries_are_counted_and_click_through_follows_the_window(events):
    assert default_period(catalog=events) == (dt.date(2012, 2, 10), dt.date(2012, 3, 10))
    stats = {s.query: s for s in query_stats(catalog=events, start=dt.date(2012, 3, 1), end=dt.date(2012, 3, 10))}
    assert set(stats) == {"mug", "teapot"}
    assert (stats["mug"].searches, stats["mug"].clicked, stats["mug"].shoppers) == (3, 2, 2)
    assert stats["mug"].ctr == pytest.approx(2 / 3)
    assert (stats["teapot"].searches, stats["teapot"].clicked, stats["teapot"].shoppers) == (2, 0, 1)
    wider = {s.query: s for s in query_stats(catalog=events, start=dt.date(2012, 3, 1), end=dt.date(2012, 3, 10),
                                             window_minutes=60)}
    assert wider["mug"].clicked == 3
    assert totals(list(stats.values())) == {"searches": 5, "queries": 2, "clicked": 2, "ctr": pytest.approx(0.4)}


def test_queries_sort_by_count_ctr_or_text_and_the_period_bounds_them(events):
    march = {"start": dt.date(2012, 3, 1), "end": dt.date(2012, 3, 10)}
    assert [s.query for s in query_stats(catalog=events, **march)] == ["mug", "teapot"]
    assert [s.query for s in query_stats(catalog=events, sort="ctr", **march)] == ["teapot", "mug"]
    everything = query_stats(catalog=events, start=dt.date(2012, 1, 1), end=dt.date(2012, 3, 10), sort="query")
    assert [s.query for s in everything] == ["mug", "old query", "teapot"]
    assert query_stats(catalog=events, start=dt.date(2012, 3, 11), end=dt.date(2012, 3, 31)) == []


def test_zero_result_queries_need_an_index(events):
    search_index.clear_cache()
    with pytest.raises(SearchUnavailable):
        zero_result_queries(catalog=events, stats=query_stats(catalog=events, start=dt.date(2012, 3, 1),
                                                              end=dt.date(2012, 3, 10)))


def test_a_cart_or_purchase_answers_a_search_but_not_after_the_shoppers_next_search(catalog):
    dee = ShopperFactory(catalog=catalog, external_id="dee")
    mug = ProductFactory(catalog=catalog, external_id="M2", title="Stoneware mug")
    EventFactory(catalog=catalog, shopper=dee, product=None, type=EventType.SEARCH, query="mug", timestamp=at(0))
    EventFactory(catalog=catalog, shopper=dee, product=mug, type=EventType.ADD_TO_CART, timestamp=at(2))
    EventFactory(catalog=catalog, shopper=dee, product=None, type=EventType.SEARCH, query="jug", timestamp=at(10))
    EventFactory(catalog=catalog, shopper=dee, product=None, type=EventType.SEARCH, query="bowl", timestamp=at(11))
    EventFactory(catalog=catalog, shopper=dee, product=mug, type=EventType.PURCHASE, timestamp=at(12))
    stats = {s.query: s.clicked for s in query_stats(catalog=catalog, start=T0.date(), end=T0.date())}
    assert stats == {"mug": 1, "jug": 0, "bowl": 1}
