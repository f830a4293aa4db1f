"""Products through the API: PUT replaces, PATCH changes what it gives, DELETE takes the events along, GET reads."""
from __future__ import annotations

import json

import pytest

from dashboard.models import Event, Product
from tests.dashboard.api.auth_support import bearer, fresh_api_caches, make_token  # noqa: F401 (fixture)
from tests.factories import EventFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(catalog):
    return make_token([catalog], scopes=["catalog:write"])[1]


@pytest.fixture
def sent(monkeypatch):
    """Tasks queued on the broker."""
    tasks: list[tuple[str, list]] = []
    monkeypatch.setattr("dashboard.services.search_index.current_app.send_task",
                        lambda name, args: tasks.append((name, args)))
    return tasks


def send(client, method, catalog, key, body):
    return getattr(client, method)(f"/api/v1/catalogs/{catalog.slug}/products", data=json.dumps(body),
                                   content_type="application/json", **bearer(key))


def get(client, catalog, key, product_id):
    return client.get(f"/api/v1/catalogs/{catalog.slug}/products/{product_id}", **bearer(key))


MUG = {"id": "A1", "title": "Red mug", "price": 2.5, "category": "Kitchen > Mugs", "brand": "Acme",
       "attributes": {"colour": "red", "size": "L"}}


def test_put_creates_products_that_get_returns(client, catalog, key, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, "put", catalog, key, {"products": [MUG, {"id": "A2", "title": "Blue plate"}]})
    assert response.status_code == 200
    assert (response.json()["created"], response.json()["updated"]) == (2, 0)
    body = get(client, catalog, key, "A1").json()
    assert {k: body[k] for k in ("id", "title", "price", "category", "brand", "currency", "in_stock", "attributes")} == {
        "id": "A1", "title": "Red mug", "price": 2.5, "category": "Kitchen > Mugs", "brand": "Acme",
        "currency": catalog.default_currency, "in_stock": True, "attributes": {"colour": "red", "size": "L"}}
    assert sent == [("dashboard.search_index_catch_up", [catalog.pk])]  # encoded on a worker, not here


def test_put_replaces_a_product_whole_giving_defaults_to_fields_left_out(client, catalog, key, sent):
    send(client, "put", catalog, key, {"products": [MUG]})
    response = send(client, "put", catalog, key, {"products": [{"id": "A1", "title": "Red mug v2",
                                                                "attributes": {"colour": "crimson"}}]})
    assert (response.json()["created"], response.json()["updated"]) == (0, 1)
    mug = Product.objects.get(catalog=catalog, external_id="A1")
    assert (mug.title, mug.price, mug.brand, mug.category_path, mug.attributes) == (
        "Red mug v2", None, "", "", {"colour": "crimson"})


def test_patch_changes_only_the_fields_given_and_merges_attributes(client, catalog, key, sent):
    send(client, "put", catalog, key, {"products": [MUG, {"id": "A2", "title": "Blue plate", "price": 3}]})
    response = send(client, "patch", catalog, key, {"products": [
        {"id": "A1", "in_stock": False, "attributes": {"size": "XL"}}, {"id": "A2", "price": 3.5}]})
    assert response.status_code == 200 and response.json()["updated"] == 2
    mug, plate = Product.objects.filter(catalog=catalog).order_by("external_id")
    assert (mug.title, float(mug.price), mug.in_stock, mug.attributes) == (
        "Red mug", 2.5, False, {"colour": "red", "size": "XL"})
    assert (plate.title, float(plate.price)) == ("Blue plate", 3.5)


def test_patch_of_a_product_that_does_not_exist_says_to_put_it(client, catalog, key):
    response = send(client, "patch", catalog, key, {"products": [{"id": "NOPE", "price": 1}]})
    assert response.status_code == 400
    assert "create it with PUT" in response.json()["errors"]["products.0.id"][0]
    assert not Product.objects.exists()


def test_one_invalid_product_changes_nothing_and_each_problem_is_named(client, catalog, key):
    response = send(client, "put", catalog, key, {"products": [
        MUG, {"id": "A2", "title": "Plate", "image_url": "plate.jpg"}, {"id": "A3", "title": "Bowl", "price": -1}]})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert list(errors) == ["products.1.image_url", "products.2.price"]
    assert "web address" in errors["products.1.image_url"][0]
    response = send(client, "put", catalog, key, {"products": [MUG, {"id": "A1", "title": "Mug again"}]})
    assert "products.0" in response.json()["errors"]["products.1.id"][0]
    assert not Product.objects.exists()


def test_put_without_a_title_is_400(client, catalog, key):
    response = send(client, "put", catalog, key, {"products": [{"id": "A1"}]})
    assert response.status_code == 400 and "products.0.title" in response.json()["errors"]


def test_more_than_a_thousand_products_is_400(client, catalog, key):
    response = send(client, "put", catalog, key, {"products": [{"id": f"P{i}", "title": "x"} for i in range(1001)]})
    assert response.status_code == 400 and "at most 1000" in response.json()["errors"]["products"][0]


def test_delete_removes_the_products_and_their_events(client, catalog, key):
    mug = ProductFactory(catalog=catalog, external_id="A1")
    ProductFactory(catalog=catalog, external_id="A2")
    EventFactory(catalog=catalog, product=mug)
    response = send(client, "delete", catalog, key, {"ids": ["A1", "NOPE"]})
    assert response.status_code == 200 and response.json()["deleted"] == 1
    assert list(Product.objects.values_list("external_id", flat=True)) == ["A2"]
    assert not Event.objects.exists()


def test_delete_without_an_ids_list_is_400(client, catalog, key):
    assert send(client, "delete", catalog, key, {}).status_code == 400
    assert send(client, "delete", catalog, key, {"ids": "A1"}).status_code == 400


def test_an_empty_batch_changes_nothing(client, catalog, key):
    assert send(client, "patch", catalog, key, {"products": []}).json()["updated"] == 0
    assert send(client, "delete", catalog, key, {"ids": []}).json()["deleted"] == 0


def test_patch_still_needs_the_products_list(client, catalog, key):
    response = send(client, "patch", catalog, key, {})
    assert response.status_code == 400 and "products" in response.json()["errors"]


def test_an_unknown_product_is_404_in_the_problem_shape(client, catalog, key):
    response = get(client, catalog, key, "NOPE")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/product-not-found") and "NOPE" in body["detail"]


@pytest.mark.parametrize("scopes, status", [(["recommendations:read"], 200), (["catalog:write"], 200),
                                            (["events:write"], 403)])
def test_reading_a_product_needs_recommendations_read_or_catalog_write(client, catalog, scopes, status):
    ProductFactory(catalog=catalog, external_id="A 1+é")
    _, key = make_token([catalog], scopes=scopes)
    assert get(client, catalog, key, "A 1+é").status_code == status


def test_writing_products_needs_catalog_write(client, catalog):
    _, key = make_token([catalog], scopes=["recommendations:read"])
    assert send(client, "put", catalog, key, {"products": [MUG]}).status_code == 403
