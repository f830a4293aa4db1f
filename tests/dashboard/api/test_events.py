"""POST events: 202 once stored, whole batch or nothing, idempotent by event id, scoped to events:write."""
from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.models import Event
from tests.dashboard.api.auth_support import bearer, fresh_api_caches, make_token  # noqa: F401 (fixture)
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(catalog):
    ProductFactory(catalog=catalog, external_id="A1")
    return make_token([catalog], scopes=["events:write"])[1]


def post(client, catalog, key, body):
    return client.post(f"/api/v1/catalogs/{catalog.slug}/events", data=json.dumps(body),
                       content_type="application/json", **bearer(key))


def view(event_id: str | None = "e1", **fields) -> dict:
    return {"event_id": event_id, "type": "view", "shopper_id": "17850", "product_id": "A1",
            "timestamp": "2026-11-30T08:26:00Z", **fields}


def test_a_batch_is_answered_202_once_stored_with_the_served_lists_request_id(client, catalog, key):
    response = post(client, catalog, key, {"events": [view("e1", request_id="rq-7"), view("e2")]})
    assert response.status_code == 202
    body = response.json()
    assert (body["stored"], body["duplicates"]) == (2, 0)
    assert body["request_id"] == response["X-Request-Id"]
    assert Event.objects.get(event_id="e1").request_id == "rq-7"


def test_one_event_object_is_a_batch_of_one(client, catalog, key):
    response = post(client, catalog, key, view())
    assert response.status_code == 202 and response.json()["stored"] == 1


def test_an_object_with_a_type_is_one_event_even_with_an_events_key(client, catalog, key):
    response = post(client, catalog, key, {**view(), "events": [{"product_id": "A1"}]})
    assert response.status_code == 202 and Event.objects.get().type == "view"


def test_the_same_batch_twice_stores_each_event_once(client, catalog, key):
    batch = {"events": [view("e1"), view("e2")]}
    post(client, catalog, key, batch)
    again = post(client, catalog, key, batch)
    assert (again.json()["stored"], again.json()["duplicates"]) == (0, 2)
    assert Event.objects.count() == 2


def test_a_bad_timestamp_stores_nothing_and_names_the_field(client, catalog, key):
    response = post(client, catalog, key, {"events": [view("e1"), view("e2", timestamp="next tuesday")]})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/validation-error")
    assert list(body["errors"]) == ["events.1.timestamp"]
    assert Event.objects.count() == 0


def test_values_of_the_wrong_type_are_keyed_by_index_and_field(client, catalog, key):
    response = post(client, catalog, key, {"events": [view(quantity=[1]), {"type": "search"}, view(shopper_id={}),
                                                      "x", view(type=None)]})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["events.0.quantity", "events.1.query", "events.2.shopper_id",
                                               "events.3", "events.4.type"]


def test_values_are_checked_by_the_importers_rules(client, catalog, key):
    response = post(client, catalog, key, {"events": [view(quantity="many"), view(type="wink"),
                                                      view(session_id="s" * 201), view(value=1e15)]})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["events.0.quantity", "events.1.type", "events.2.session_id", "events.3.value"]
    assert "whole number" in errors["events.0.quantity"][0] and "view, click" in errors["events.1.type"][0]


def test_numbers_and_any_case_are_accepted_where_a_file_would_be(client, catalog, key):
    response = post(client, catalog, key, view(type="VIEW", shopper_id=17850, quantity="3", timestamp=1764491160))
    assert response.status_code == 202
    event = Event.objects.get()
    assert (event.type, event.shopper.external_id, event.quantity, event.timestamp.year) == ("view", "17850", 3, 2025)


def test_an_event_for_an_unknown_product_asks_to_create_it_first(client, catalog, key):
    response = post(client, catalog, key, view(product_id="NOPE"))
    assert response.status_code == 400
    assert "PUT" in response.json()["errors"]["events.0.product_id"][0]


def test_a_batch_over_the_limit_is_400(client, catalog, key, settings):
    settings.API_EVENTS_MAX_BATCH = 3
    response = post(client, catalog, key, {"events": [view(f"e{i}") for i in range(4)]})
    assert response.status_code == 400
    assert "at most 3 events" in response.json()["errors"]["events"][0]
    assert Event.objects.count() == 0


@pytest.mark.parametrize("body", [[], {"events": []}, {"events": "e1"}])
def test_a_body_that_is_not_events_is_400(client, catalog, key, body):
    assert post(client, catalog, key, body).status_code == 400


def test_a_token_without_events_write_gets_403(client, catalog):
    _, key = make_token([catalog], scopes=["recommendations:read"])
    response = post(client, catalog, key, view())
    assert response.status_code == 403
    assert "events:write" in response.json()["detail"]


def test_a_batch_of_a_hundred_costs_no_more_queries_than_one_event(client, catalog, key):
    post(client, catalog, key, view("warm-up"))
    with CaptureQueriesContext(connection) as one:
        post(client, catalog, key, view("single"))
    with CaptureQueriesContext(connection) as hundred:
        post(client, catalog, key, {"events": [view(f"b{i}", shopper_id=f"s{i}") for i in range(100)]})
    assert len(hundred) <= len(one)
    assert Event.objects.count() == 102
