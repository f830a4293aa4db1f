"""Browser pages may call a catalog's API only from the origins that catalog lists."""
from __future__ import annotations

import pytest

from tests.dashboard.api.auth_support import bearer, fresh_api_caches, make_token  # noqa: F401 (fixture)

pytestmark = pytest.mark.urls("tests.dashboard.api.urls_for_tests")

SHOP = "https://shop.example.com"


@pytest.fixture
def shop_catalog(catalog):
    catalog.cors_origins = [SHOP]
    catalog.save()
    return catalog


def test_a_listed_origin_gets_access_control_allow_origin(client, shop_catalog):
    _token, key = make_token([shop_catalog], kind="public", scopes=["search:read"])
    response = client.get(f"/api/v1/catalogs/{shop_catalog.slug}/probe", HTTP_ORIGIN=SHOP, **bearer(key))
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert "x-request-id" in response["Access-Control-Expose-Headers"]


def test_an_unlisted_origin_gets_no_access_control_allow_origin(client, shop_catalog):
    response = client.get(f"/api/v1/catalogs/{shop_catalog.slug}/probe", HTTP_ORIGIN="https://evil.example")
    assert not response.has_header("Access-Control-Allow-Origin")


def test_an_origin_listed_by_another_catalog_gets_none(client, shop_catalog):
    from tests.factories import CatalogFactory

    other = CatalogFactory(slug="elsewhere")
    response = client.get(f"/api/v1/catalogs/{other.slug}/probe", HTTP_ORIGIN=SHOP)
    assert not response.has_header("Access-Control-Allow-Origin")


def test_a_preflight_from_a_listed_origin_is_allowed(client, shop_catalog):
    response = client.options(f"/api/v1/catalogs/{shop_catalog.slug}/probe", HTTP_ORIGIN=SHOP,
                              HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
                              HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert "authorization" in response["Access-Control-Allow-Headers"]
    assert response.has_header("X-Request-Id")


def test_a_new_origin_is_allowed_as_soon_as_it_is_saved(client, shop_catalog):
    url = f"/api/v1/catalogs/{shop_catalog.slug}/probe"
    assert not client.get(url, HTTP_ORIGIN="http://localhost:3000").has_header("Access-Control-Allow-Origin")
    shop_catalog.cors_origins = [SHOP, "http://localhost:3000"]
    shop_catalog.save()
    assert client.get(url, HTTP_ORIGIN="http://localhost:3000")["Access-Control-Allow-Origin"] == \
        "http://localhost:3000"
