"""Every API error is a problem (application/problem+json) with the request's id; nothing leaks a traceback."""
from __future__ import annotations

import logging

import pytest

from dashboard.api.errors import flatten_errors
from tests.dashboard.api.auth_support import bearer, fresh_api_caches, make_token  # noqa: F401 (fixture)

pytestmark = pytest.mark.urls("tests.dashboard.api.urls_for_tests")

EVENT = {"type": "view", "timestamp": "2026-01-01T12:00:00Z"}


def problem(response) -> dict:
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail", "request_id"}
    assert body["type"].startswith("https://fusion.invalid/problems/")
    assert body["status"] == response.status_code
    assert body["request_id"] == response["X-Request-Id"]
    return body


def test_invalid_input_gets_400_with_each_field_named_by_its_path(client, catalog):
    _token, key = make_token([catalog])
    batch = {"events": [EVENT, EVENT, EVENT, {"type": "view"}, {"timestamp": "yesterday", "type": "view"}]}
    response = client.post(f"/api/v1/catalogs/{catalog.slug}/probe", batch, content_type="application/json",
                           **bearer(key))
    assert response.status_code == 400
    body = problem(response)
    assert body["type"].endswith("/validation-error")
    assert set(body["errors"]) == {"events.3.timestamp", "events.4.timestamp"}
    assert body["errors"]["events.3.timestamp"] == ["This field is required."]
    assert body["detail"].startswith("events.3.timestamp: This field is required.")


def test_a_body_that_is_not_json_gets_400(client, catalog):
    _token, key = make_token([catalog])
    response = client.post(f"/api/v1/catalogs/{catalog.slug}/probe", "{not json", content_type="application/json",
                           **bearer(key))
    assert response.status_code == 400
    assert problem(response)["type"].endswith("/parse-error")


def test_a_wrong_method_gets_405(client, catalog):
    _token, key = make_token([catalog])
    response = client.delete(f"/api/v1/catalogs/{catalog.slug}/probe", **bearer(key))
    assert response.status_code == 405
    assert problem(response)["type"].endswith("/method-not-allowed")


def test_a_client_asking_for_problem_json_gets_it(client, catalog):
    response = client.get(f"/api/v1/catalogs/{catalog.slug}/probe", HTTP_ACCEPT="application/problem+json")
    assert response.status_code == 401
    problem(response)


@pytest.mark.parametrize("debug", [False, True])
def test_an_unhandled_exception_is_a_500_problem_without_the_traceback(client, db, caplog, settings, debug):
    settings.DEBUG = debug
    with caplog.at_level(logging.ERROR, logger="dashboard.api"):
        response = client.get("/api/v1/boom")
    assert response.status_code == 500
    body = problem(response)
    assert body["type"].endswith("/server-error")
    assert body["request_id"] in body["detail"]
    assert "hunter2" not in response.content.decode() and "Traceback" not in response.content.decode()
    assert "hunter2" in caplog.text  # logged with its traceback for the operator


def test_an_exception_in_a_plain_django_view_under_the_api_is_a_500_problem(client, db):
    response = client.get("/api/v1/plain-boom")
    assert response.status_code == 500
    assert "exploded" not in problem(response)["detail"]


def test_an_unknown_api_address_gets_a_404_problem(client, db, settings):
    settings.DEBUG = False
    response = client.get("/api/v1/no/such/thing")
    assert response.status_code == 404
    body = problem(response)
    assert body["type"].endswith("/no-such-endpoint")
    assert "/api/v1/no/such/thing" in body["detail"]


def test_the_request_id_is_fresh_for_each_request(client, db):
    ids = {client.get("/api/v1/health")["X-Request-Id"] for _ in range(3)}
    assert len(ids) == 3


def test_pages_outside_the_api_carry_no_request_id(client, db):
    assert not client.get("/accounts/login/").has_header("X-Request-Id")


def test_nested_errors_flatten_to_dotted_paths():
    detail = {"events": [{}, {"context": {"page": ["Too long."]}}], "non_field_errors": ["Pick one."],
              "items": ["Needs 1 item.", {"id": ["Required."]}]}
    assert flatten_errors(detail) == {"events.1.context.page": ["Too long."], "non_field_errors": ["Pick one."],
                                      "items": ["Needs 1 item."], "items.1.id": ["Required."]}
    assert flatten_errors(["Bad."]) == {"non_field_errors": ["Bad."]}
