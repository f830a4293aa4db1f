"""The catalog settings page: name, address, currency and the event weights training uses."""
from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.models import AuditEntry, Catalog

pytestmark = pytest.mark.django_db


def settings_url(catalog):
    return reverse("dashboard:catalog_edit", kwargs={"catalog": catalog.slug})


def post(client, catalog, **changes):
    data = {"name": catalog.name, "slug": catalog.slug, "default_currency": "GBP", "event_weights": "", **changes}
    return client.post(settings_url(catalog), data)


def test_the_form_shows_the_defaults_and_the_catalogs_own_weights(merch_client, catalog):
    catalog.event_weights = {"view": 0.5}
    catalog.save()
    html = merch_client.get(settings_url(catalog)).content.decode()
    assert 'value="view=0.5"' in html
    assert "view=1,click=2,add_to_cart=4,purchase=8,search=0,return=0" in html


def test_an_editor_changes_the_event_weights_and_only_the_changed_types_are_stored(merch_client, catalog):
    response = post(merch_client, catalog, event_weights="view=0.5, purchase=8, Add to cart=6")
    assert response.status_code == 302
    catalog.refresh_from_db()
    assert catalog.event_weights == {"view": 0.5, "add_to_cart": 6.0}
    assert AuditEntry.objects.get(action="catalog.update").detail == {"event_weights": {"view": 0.5, "add_to_cart": 6.0}}


@pytest.mark.parametrize(("text", "problem"), [
    ("rating=1", "&#x27;rating&#x27; is not an event type; use view, click"),
    ("view=-1", "must be a number of 0 or more"),
    ("view", "is not TYPE=WEIGHT"),
])
def test_bad_event_weights_are_named_and_nothing_is_saved(merch_client, catalog, text, problem):
    response = post(merch_client, catalog, event_weights=text)
    assert response.status_code == 200
    assert problem in response.content.decode()
    assert Catalog.objects.get(pk=catalog.pk).event_weights == {}
