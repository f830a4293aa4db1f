"""The real-time panel: any role reads the freshness figures and trending now; only editors change the live
settings or rebuild the state (here on the embedded default's in-memory store)."""
from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.models import OnlineState
from dashboard.services import online_state
from dashboard.services.online_state_store import stores_forget
from tests.factories import EventFactory, ProductFactory


@pytest.fixture
def busy(catalog, settings):
    settings.ONLINE_STATE_URL = "memory://"
    stores_forget()
    online_state.settings_forget()
    mug = ProductFactory(catalog=catalog, external_id="MUG", title="Red mug", category_path="Home > Kitchen")
    for _ in range(3):
        EventFactory(catalog=catalog, product=mug, type="view", timestamp=timezone.now())
    EventFactory(catalog=catalog, type="view", timestamp=timezone.now(),
                 product=ProductFactory(catalog=catalog, external_id="RAKE", title="Rake", category_path="Garden"))
    online_state.catch_up_now(catalog.pk)
    yield catalog
    stores_forget()


def test_any_role_sees_events_per_minute_lag_and_trending_now(analyst_client, busy):
    page = analyst_client.get(reverse("dashboard:freshness", args=[busy.slug]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="events-per-minute">4<' in html
    assert html.index("Red mug") < html.index("Rake")  # 3 views before 1
    assert "Rebuild the online state" not in html  # read-only for an analyst
    garden = analyst_client.get(reverse("dashboard:freshness", args=[busy.slug]), {"category": "Garden"})
    assert "Rake" in garden.content.decode() and "Red mug" not in garden.content.decode()


def test_an_empty_catalog_says_nothing_is_trending(analyst_client, catalog, settings):
    settings.ONLINE_STATE_URL = "memory://"
    page = analyst_client.get(reverse("dashboard:freshness", args=[catalog.slug]))
    assert 'id="trending-empty"' in page.content.decode()


SETTINGS = {"trending_half_life_hours": "12", "trending_share": "0.2", "co_occurrence_share": "0.5"}


def test_an_analyst_cannot_change_the_live_settings(analyst_client, busy):
    url = reverse("dashboard:freshness_settings", args=[busy.slug])
    assert analyst_client.post(url, SETTINGS).status_code == 403
    assert analyst_client.post(reverse("dashboard:freshness_rebuild", args=[busy.slug])).status_code == 403


def test_an_editor_sets_the_half_life_and_shares(merch_client, busy):
    url = reverse("dashboard:freshness_settings", args=[busy.slug])
    data = SETTINGS
    assert merch_client.post(url, data).status_code == 302
    row = OnlineState.objects.get(catalog=busy)
    assert (row.trending_half_life_hours, row.trending_share, row.co_occurrence_share) == (12.0, 0.2, 0.5)
    assert row.rebuilt_at is not None  # a new half-life rebuilds the counters
    bad = merch_client.post(url, {**data, "trending_half_life_hours": "0"})
    assert bad.status_code == 400 and OnlineState.objects.get(catalog=busy).trending_half_life_hours == 12.0


def test_an_editor_rebuilds_the_online_state(merch_client, busy):
    response = merch_client.post(reverse("dashboard:freshness_rebuild", args=[busy.slug]), follow=True)
    assert "Online state rebuilt from 4 stored events." in response.content.decode()
