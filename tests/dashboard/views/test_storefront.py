"""The demo storefront: behind a login, one short-lived public token per operator, and its events endpoint."""
from __future__ import annotations

import datetime as dt
import json
import uuid

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboard.models import PUBLIC_SCOPES, ApiToken, Event, TokenKind
from dashboard.services.api_tokens import api_token_revoke
from dashboard.services.storefront_demo import TOKEN_LIFETIME
from tests.factories import CatalogFactory, ProductFactory, make_user


def shop(client, catalog):
    return client.get(reverse("dashboard:storefront", kwargs={"catalog": catalog.slug}))


def post_events(client, catalog, body, **extra):
    return client.post(reverse("dashboard:storefront_events", kwargs={"catalog": catalog.slug}),
                       data=body if isinstance(body, str | bytes) else json.dumps(body),
                       content_type="application/json", **extra)


def click(**fields):
    return {"event_id": str(uuid.uuid4()), "type": "click", "shopper_id": "U1", "product_id": "P1",
            "timestamp": "2026-01-05T10:00:00Z", "request_id": "3f2c9a4e-8b1d-4c57-9a0e-2b7f6d1c5e90", **fields}


def test_the_storefront_needs_a_login(client, catalog):
    response = shop(client, catalog)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_user_without_a_role_is_refused(client, catalog):
    client.force_login(make_user("nobody", None))
    assert shop(client, catalog).status_code == 403
    assert ApiToken.objects.count() == 0


def test_the_first_visit_creates_a_public_read_only_token_and_a_second_visit_reuses_it(analyst_client, catalog):
    ProductFactory(catalog=catalog)
    first = shop(analyst_client, catalog)
    second = shop(analyst_client, catalog)
    token = ApiToken.objects.get()
    assert token.kind == TokenKind.PUBLIC
    assert sorted(token.scopes) == sorted(str(s) for s in PUBLIC_SCOPES)
    assert list(token.catalogs.all()) == [catalog]
    assert token.name == "Demo storefront (andy)"
    assert abs(token.expires_at - (timezone.now() + TOKEN_LIFETIME)) < dt.timedelta(minutes=1)
    assert first.context["token"].key == second.context["token"].key
    assert f'data-key="{first.context["token"].key}"' in second.content.decode()


def test_a_revoked_demo_token_is_replaced_on_the_next_visit(analyst_client, catalog, analyst):
    old = shop(analyst_client, catalog).context["token"]
    api_token_revoke(token=old.token, by=analyst)
    new = shop(analyst_client, catalog).context["token"]
    assert new.key != old.key and ApiToken.objects.count() == 2


def test_a_demo_token_about_to_expire_is_replaced(analyst_client, catalog):
    old = shop(analyst_client, catalog).context["token"]
    ApiToken.objects.filter(pk=old.token.pk).update(expires_at=timezone.now() + dt.timedelta(minutes=5))
    assert shop(analyst_client, catalog).context["token"].key != old.key


def test_each_catalog_gets_its_own_token(analyst_client, catalog):
    other = CatalogFactory(slug="fr-gifts")
    assert shop(analyst_client, catalog).context["token"].key != shop(analyst_client, other).context["token"].key
    assert [list(t.catalogs.all()) for t in ApiToken.objects.order_by("pk")] == [[catalog], [other]]


def test_an_empty_catalog_says_to_import_products(merch_client, catalog):
    body = shop(merch_client, catalog).content.decode()
    assert "No products yet" in body and reverse("dashboard:import_new", kwargs={"catalog": catalog.slug}) in body


def test_every_catalog_page_links_to_the_storefront(analyst_client, catalog):
    body = analyst_client.get(reverse("dashboard:catalog_overview", kwargs={"catalog": catalog.slug})).content.decode()
    assert reverse("dashboard:storefront", kwargs={"catalog": catalog.slug}) in body


def test_the_events_endpoint_stores_a_click_with_the_request_id_of_its_list(analyst_client, catalog):
    ProductFactory(catalog=catalog, external_id="P1")
    response = post_events(analyst_client, catalog, {"events": [click()]})
    assert response.status_code == 200, response.content
    assert response.json() == {"stored": 1, "duplicates": 0}
    event = Event.objects.get()
    assert (event.type, event.product.external_id, event.shopper.external_id, event.request_id) == (
        "click", "P1", "U1", "3f2c9a4e-8b1d-4c57-9a0e-2b7f6d1c5e90")


def test_a_guest_add_to_cart_needs_only_a_session(analyst_client, catalog):
    ProductFactory(catalog=catalog, external_id="P1")
    event = click(type="add_to_cart", session_id="s-42")
    del event["shopper_id"]
    assert post_events(analyst_client, catalog, event).json() == {"stored": 1, "duplicates": 0}
    assert Event.objects.get().session_id == "s-42"


def test_the_same_event_sent_twice_is_stored_once(analyst_client, catalog):
    ProductFactory(catalog=catalog, external_id="P1")
    event = click()
    post_events(analyst_client, catalog, [event])
    assert post_events(analyst_client, catalog, [event]).json() == {"stored": 0, "duplicates": 1}
    assert Event.objects.count() == 1


def test_a_body_that_is_not_json_is_refused_with_a_message(analyst_client, catalog):
    response = post_events(analyst_client, catalog, "click P1")
    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]


def test_a_body_of_the_wrong_shape_is_refused_with_a_message(analyst_client, catalog):
    response = post_events(analyst_client, catalog, {"events": []})
    assert response.status_code == 400
    assert "event object" in response.json()["error"]


def test_a_purchase_is_not_a_storefront_demo_event(analyst_client, catalog):
    ProductFactory(catalog=catalog, external_id="P1")
    response = post_events(analyst_client, catalog, click(type="purchase"))
    assert response.status_code == 400
    assert "not purchase" in response.json()["error"] and Event.objects.count() == 0


def test_an_event_for_an_unknown_product_names_the_field_and_stores_nothing(analyst_client, catalog):
    ProductFactory(catalog=catalog, external_id="P1")
    response = post_events(analyst_client, catalog, [click(), click(product_id="NOPE")])
    assert response.status_code == 400
    body = response.json()
    assert "Nothing was stored" in body["error"]
    assert list(body["errors"]) == ["events.1.product_id"] and "NOPE" in body["errors"]["events.1.product_id"][0]
    assert Event.objects.count() == 0


def test_the_events_endpoint_needs_the_csrf_token(analyst, catalog):
    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)
    assert post_events(client, catalog, click()).status_code == 403


def test_the_events_endpoint_needs_a_login(client, catalog):
    assert post_events(client, catalog, click()).status_code == 302
    assert Event.objects.count() == 0
