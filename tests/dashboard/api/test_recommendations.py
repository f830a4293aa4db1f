"""GET recommendations: shoppers, guests, paging, filters, explanations, fallbacks — and the preview's list."""
from __future__ import annotations

import uuid

import pytest

from dashboard.models import Impression, ModelVersion, Scope, VersionState
from dashboard.services import serving
from dashboard.services.preview import preview_for_shopper
from tests.dashboard.api.conftest import client_for
from tests.factories import CatalogFactory

pytestmark = pytest.mark.django_db


def url(catalog, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/v1/catalogs/{catalog.slug}/recommendations?{query}"


@pytest.fixture
def warm(served_catalog):
    serving.warm(ModelVersion.objects.get(catalog=served_catalog, state=VersionState.ACTIVE))
    return served_catalog


def ids(body):
    return [it["item_id"] for it in body["items"]]


def test_a_known_shopper_gets_a_personal_list_that_names_what_served_it(api, warm):
    r = api.get(url(warm, shopper="U000", n=5))
    assert r.status_code == 200, r.content
    body = r.json()
    assert len(body["items"]) == 5 and body["fallback"] is None
    assert body["model_version"] == 1 and r["X-Model-Version"] == "1"
    assert body["request_id"] == r["X-Request-Id"]
    assert [it["position"] for it in body["items"]] == [1, 2, 3, 4, 5]
    first = body["items"][0]
    assert first["title"].startswith("Product ") and first["image_url"].startswith("https://img.example/")


def test_every_served_list_is_logged_as_an_impression(api, warm):
    body = api.get(url(warm, shopper="U001", n=4, surface="home")).json()
    row = Impression.objects.get(request_id=uuid.UUID(body["request_id"]))
    assert row.items == ids(body) and row.surface == "home" and row.shopper_id == "U001"
    assert row.model_version == 1 and row.catalog_id == warm.pk


def test_the_next_page_never_repeats_the_first(api, warm):
    first = ids(api.get(url(warm, shopper="U000", n=5)).json())
    second = api.get(url(warm, shopper="U000", n=5, offset=5)).json()
    assert not set(first) & set(ids(second))
    assert [it["position"] for it in second["items"]] == [6, 7, 8, 9, 10]
    assert ids(api.get(url(warm, shopper="U000", n=10)).json()) == first + ids(second)


def test_a_guest_is_ranked_from_the_items_they_just_viewed(api, warm):
    body = api.get(url(warm, recent="P001,P002", n=5, session="s-1")).json()
    assert body["fallback"] == "session"
    assert not {"P001", "P002"} & set(ids(body))
    assert Impression.objects.get(request_id=uuid.UUID(body["request_id"])).session_id == "s-1"


def test_a_shopper_nobody_knows_gets_popular_items_marked_as_a_fallback(api, warm):
    body = api.get(url(warm, shopper="nobody", n=5)).json()
    assert body["fallback"] == "popular" and len(body["items"]) == 5


def test_filters_take_several_values_and_exclude_ids(api, warm):
    body = api.get(url(warm, shopper="U000", n=20, category="Garden", filter="brand:Acme")).json()
    assert body["items"] and all(it["category"].startswith("Garden") for it in body["items"])
    assert all(int(i[1:]) % 2 for i in ids(body))  # Acme is on odd numbers
    both = api.get(url(warm, shopper="U000", n=20, category="Garden&category=Home", exclude="P001,P002")).json()
    assert {it["category"].split(" > ")[0] for it in both["items"]} == {"Garden", "Home"}
    assert not {"P001", "P002"} & set(ids(both))


def test_explain_adds_each_signals_contribution(api, warm):
    body = api.get(url(warm, shopper="U000", n=3, explain="true")).json()
    parts = body["items"][0]["explanation"]["contributions"]
    assert {p["signal"] for p in parts} == {"popularity", "item_knn", "ease"}
    assert "explanation" not in api.get(url(warm, shopper="U000", n=3)).json()["items"][0]


def test_bad_parameters_get_field_errors_in_the_problem_shape(api, warm):
    r = api.get(url(warm, shopper="U000", n=0))
    assert r.status_code == 400 and r["Content-Type"].startswith("application/problem+json")
    assert "n" in r.json()["errors"]
    assert "filter" in api.get(url(warm, filter="brand")).json()["errors"]
    unknown = api.get(url(warm, shopper="U000", filter="colour:red"))
    assert unknown.status_code == 400 and "colour" in unknown.json()["errors"]["filter"][0]


def test_without_an_active_model_popular_products_are_served_and_marked(api, served_catalog):
    ModelVersion.objects.filter(catalog=served_catalog).update(state=VersionState.RETIRED)
    body = api.get(url(served_catalog, shopper="U000", n=3)).json()
    assert body["fallback"] == "no_model" and body["model_version"] is None and len(body["items"]) == 3


def test_a_process_still_loading_the_model_answers_at_once_with_a_fallback(api, served_catalog, monkeypatch):
    monkeypatch.setattr(serving, "warm_in_background", lambda version: None)
    body = api.get(url(served_catalog, shopper="U000", n=3)).json()
    assert body["fallback"] == "warming_up" and len(body["items"]) == 3


def test_the_preview_and_the_api_return_the_same_list(api, warm):
    preview = preview_for_shopper(catalog=warm, shopper_external_id="U002", config=None, k=10)
    assert [it["item_id"] for it in preview["items"]] == ids(api.get(url(warm, shopper="U002", n=10)).json())


def test_a_token_without_the_scope_gets_403(warm):
    r = client_for([warm], scopes=[Scope.EVENTS_WRITE]).get(url(warm, shopper="U000"))
    assert r.status_code == 403 and "recommendations:read" in r.json()["detail"]


def test_a_token_bound_to_another_catalog_gets_404(warm):
    other = CatalogFactory(slug="other")
    r = client_for([other]).get(url(warm, shopper="U000"))
    assert r.status_code == 404 and r["Content-Type"].startswith("application/problem+json")
