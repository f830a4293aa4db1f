"""Refusals and missing pages say what happened and what to do, inside the dashboard's layout."""
from __future__ import annotations

from django.urls import reverse

from tests.factories import make_user


def test_the_refusal_page_says_what_to_do(client, db):
    client.force_login(make_user("nobody", None))
    response = client.get(reverse("dashboard:overview"))
    assert response.status_code == 403
    assert "Your account has no role yet" in response.content.decode()


def test_a_missing_page_says_so_in_the_dashboards_layout(analyst_client, catalog, settings):
    settings.DEBUG = False
    response = analyst_client.get(reverse("dashboard:product_detail", kwargs={"catalog": catalog.slug, "pk": 999999}))
    assert response.status_code == 404
    assert "There is nothing at this address" in response.content.decode()
