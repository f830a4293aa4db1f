"""Roles are enforced on every page: anonymous → login, no role → 403, analysts read only, editors write."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import reverse

from tests.factories import EventFactory, make_user


@dataclass
class World:
    slug: str
    product: int
    shopper: int


@pytest.fixture
def world(catalog) -> World:
    event = EventFactory(catalog=catalog)
    return World(slug=catalog.slug, product=event.product_id, shopper=event.shopper_id)


# Every page that only reads: (url name, kwargs from the world). Extend when a page is added.
READ_PAGES = [
    ("dashboard:overview", lambda w: {}),
    ("dashboard:catalog_overview", lambda w: {"catalog": w.slug}),
    ("dashboard:events_per_day_csv", lambda w: {"catalog": w.slug}),
    ("dashboard:products", lambda w: {"catalog": w.slug}),
    ("dashboard:product_detail", lambda w: {"catalog": w.slug, "pk": w.product}),
    ("dashboard:shoppers", lambda w: {"catalog": w.slug}),
    ("dashboard:shopper_detail", lambda w: {"catalog": w.slug, "pk": w.shopper}),
    ("dashboard:events", lambda w: {"catalog": w.slug}),
    ("dashboard:imports", lambda w: {"catalog": w.slug}),
]

# Every action that changes data: (url name, kwargs, POST data). Extend when an action is added.
WRITE_ACTIONS = [
    ("dashboard:catalog_create", lambda w: {}, {"name": "New shop", "slug": "new-shop", "default_currency": "EUR"}),
    ("dashboard:catalog_edit", lambda w: {"catalog": w.slug}, {"name": "Renamed", "slug": "renamed",
                                                                 "default_currency": "EUR", "event_weights": "view=0"}),
    ("dashboard:import_new", lambda w: {"catalog": w.slug}, {"kind": "products"}),
]

# Pages that exist only for editors: an analyst may not even open the form.
EDITOR_PAGES = [
    ("dashboard:catalog_create", lambda w: {}),
    ("dashboard:catalog_edit", lambda w: {"catalog": w.slug}),
    ("dashboard:import_new", lambda w: {"catalog": w.slug}),
]

ALL_URLS = [(name, kwargs) for name, kwargs in READ_PAGES] + [(name, kwargs) for name, kwargs, _ in WRITE_ACTIONS]


def ids(items):
    return [item[0].split(":")[1] for item in items]


@pytest.mark.parametrize(("name", "kwargs"), ALL_URLS, ids=ids(ALL_URLS))
def test_anonymous_visitors_are_sent_to_the_login_page(client, world, name, kwargs):
    url = reverse(name, kwargs=kwargs(world))
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "next=" in response["Location"]


@pytest.mark.parametrize(("name", "kwargs"), ALL_URLS, ids=ids(ALL_URLS))
def test_users_without_a_role_are_refused(client, world, name, kwargs):
    client.force_login(make_user("nobody", None))
    assert client.get(reverse(name, kwargs=kwargs(world))).status_code == 403


@pytest.mark.parametrize(("name", "kwargs"), READ_PAGES, ids=ids(READ_PAGES))
def test_analysts_can_read_every_page(analyst_client, world, name, kwargs):
    response = analyst_client.get(reverse(name, kwargs=kwargs(world)), follow=True)
    assert response.status_code == 200


@pytest.mark.parametrize(("name", "kwargs", "data"), WRITE_ACTIONS, ids=ids(WRITE_ACTIONS))
def test_analysts_are_refused_every_write(analyst_client, world, name, kwargs, data):
    assert analyst_client.post(reverse(name, kwargs=kwargs(world)), data).status_code == 403


@pytest.mark.parametrize(("name", "kwargs"), EDITOR_PAGES, ids=ids(EDITOR_PAGES))
def test_analysts_do_not_get_the_forms_of_editor_pages(analyst_client, world, name, kwargs):
    assert analyst_client.get(reverse(name, kwargs=kwargs(world))).status_code == 403


@pytest.mark.parametrize(("name", "kwargs"), EDITOR_PAGES, ids=ids(EDITOR_PAGES))
@pytest.mark.parametrize("role", ["merchandiser", "admin"])
def test_editors_get_the_forms_of_editor_pages(client, world, role, name, kwargs):
    client.force_login(make_user("editor", role))
    assert client.get(reverse(name, kwargs=kwargs(world))).status_code == 200


@pytest.mark.parametrize("role", ["merchandiser", "admin"])
def test_merchandisers_and_admins_can_create_a_catalog(client, db, role):
    from dashboard.models import Catalog

    client.force_login(make_user("editor", role))
    response = client.post(reverse("dashboard:catalog_create"), {"name": "EU shop", "slug": "eu-shop", "default_currency": "EUR"})
    assert response.status_code == 302
    assert Catalog.objects.filter(slug="eu-shop", default_currency="EUR").exists()


def test_an_analysts_refused_write_changes_nothing(analyst_client, db):
    from dashboard.models import Catalog

    analyst_client.post(reverse("dashboard:catalog_create"), {"name": "EU shop", "slug": "eu-shop"})
    assert not Catalog.objects.filter(slug="eu-shop").exists()


def test_the_django_admin_opens_for_superusers_on_every_dashboard_model(client, world):
    from django.apps import apps
    from django.contrib import admin

    client.force_login(make_user("root", None, superuser=True))
    assert client.get("/admin/").status_code == 200
    for model in apps.get_app_config("dashboard").get_models():
        assert model in admin.site._registry, f"{model.__name__} is not in the Django admin"
        assert client.get(f"/admin/dashboard/{model._meta.model_name}/").status_code == 200, model


@pytest.mark.parametrize("role", ["merchandiser", "analyst", "admin"])
def test_the_django_admin_is_closed_to_everyone_else(client, db, role):
    client.force_login(make_user("someone", role))
    response = client.get("/admin/dashboard/product/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_header_offers_the_admin_link_to_superusers_only(client, world):
    client.force_login(make_user("mia2", "merchandiser"))
    assert "/admin/" not in client.get(reverse("dashboard:products", kwargs={"catalog": world.slug})).content.decode()
    client.force_login(make_user("root", None, superuser=True))
    assert "/admin/" in client.get(reverse("dashboard:products", kwargs={"catalog": world.slug})).content.decode()

