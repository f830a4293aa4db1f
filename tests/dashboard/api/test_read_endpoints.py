"""GET similar / complementary, search, shopper profiles, health and the token endpoint."""
from __future__ import annotations

import uuid

import pytest

from dashboard.models import Impression, ModelVersion, Product, VersionState
from dashboard.services import serving
from dashboard.services.search import search

pytestmark = pytest.mark.django_db


@pytest.fixture
def warm(served_catalog):
    serving.warm(ModelVersion.objects.get(catalog=served_catalog, state=VersionState.ACTIVE))
    return served_catalog


def base(catalog):
    return f"/api/v1/catalogs/{catalog.slug}"


def ids(body):
    return [it["item_id"] for it in body["items"]]


@pytest.mark.parametrize("kind", ["similar", "complementary"])
def test_related_items_come_with_reasons_and_are_logged(api, warm, kind):
    r = api.get(f"{base(warm)}/products/P001/{kind}?n=4")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["surface"] == kind and 0 < len(body["items"]) <= 4 and "P001" not in ids(body)
    assert all(it["reason"] for it in body["items"])
    assert Impression.objects.get(request_id=uuid.UUID(body["request_id"])).items == ids(body)


def test_related_items_page_without_repeats(api, warm):
    first = ids(api.get(f"{base(warm)}/products/P001/similar?n=3").json())
    second = ids(api.get(f"{base(warm)}/products/P001/similar?n=3&offset=3").json())
    assert first and second and not set(first) & set(second)


def test_an_unknown_product_is_a_404_in_the_problem_shape(api, warm):
    r = api.get(f"{base(warm)}/products/NOPE/similar")
    assert r.status_code == 404 and r["Content-Type"].startswith("application/problem+json")
    assert "NOPE" in r.json()["detail"]


def test_a_product_newer_than_the_model_gets_popular_items_of_its_category(api, warm):
    Product.objects.create(catalog=warm, external_id="NEW1", title="New kettle", category_path="Home > Kitchen")
    body = api.get(f"{base(warm)}/products/NEW1/similar?n=3").json()
    assert body["fallback"] == "new_product" and body["items"]
    assert all(it["category"].startswith("Home") for it in body["items"])


def test_search_returns_the_parsed_query_and_a_page_of_results(api, warm):
    r = api.get(f"{base(warm)}/search?q=product&n=3")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["query"]["text"] == "product" and len(body["items"]) == 3 and body["settings"]
    second = api.get(f"{base(warm)}/search?q=product&n=3&offset=3").json()
    assert not set(ids(body)) & set(ids(second))
    assert Impression.objects.get(request_id=uuid.UUID(body["request_id"])).surface == "search"


def test_search_filters_by_category_and_attribute(api, warm):
    body = api.get(f"{base(warm)}/search?q=product&n=20&category=Garden&filter=brand:Acme").json()
    assert body["items"] and all(it["category"].startswith("Garden") for it in body["items"])
    assert all(int(i[1:]) % 2 for i in ids(body))


def test_the_search_page_and_the_api_return_the_same_list(api, warm):
    page = search(catalog=warm, query="product 7", k=5)
    assert [h["item_id"] for h in page["hits"]] == ids(api.get(f"{base(warm)}/search?q=product%207&n=5").json())


def test_an_empty_query_is_a_400_naming_q(api, warm):
    r = api.get(f"{base(warm)}/search?q=")
    assert r.status_code == 400 and "q" in r.json()["errors"]


def test_a_shoppers_profile_and_a_404_for_a_stranger(api, warm):
    body = api.get(f"{base(warm)}/shoppers/U000/profile").json()
    assert body["state"] == "ok" and body["known_to_model"] and body["profile"]["categories"]
    assert api.get(f"{base(warm)}/shoppers/stranger/profile").status_code == 404


def test_health_needs_no_token_and_ready_reports_the_loaded_model(client, warm):
    assert client.get("/api/v1/health/live").json() == {"status": "ok"}
    r = client.get("/api/v1/health/ready")
    assert r.status_code == 200, r.content
    assert r.json()["models"][warm.slug] == "loaded version 1"


def test_ready_is_503_while_a_model_is_still_loading(client, served_catalog, monkeypatch):
    monkeypatch.setattr("dashboard.services.serving.warm_in_background", lambda version: None)
    r = client.get("/api/v1/health/ready")
    assert r.status_code == 503 and r.json()["models"][served_catalog.slug].startswith("loading")


def test_the_token_endpoint_names_the_calling_token(public_api, served_catalog):
    body = public_api.get(f"{base(served_catalog)}/token").json()
    assert body["kind"] == "public" and set(body["scopes"]) == {"recommendations:read", "search:read"}


def test_search_before_any_index_finds_titles_holding_every_word(api, served_catalog):
    ModelVersion.objects.filter(catalog=served_catalog).update(state=VersionState.RETIRED)
    body = api.get(f"{base(served_catalog)}/search?q=product+1&n=20").json()
    assert body["fallback"] == "no_index" and body["items"]
    assert all("product 1" in it["title"].lower() for it in body["items"])
