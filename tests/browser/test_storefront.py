"""An analyst opens the demo storefront, searches, opens a product and clicks a recommendation; the click is
stored with the request id of the list it came from, and that list was logged as an impression."""
from __future__ import annotations

import os
import re

import pytest
from django.contrib.auth.models import Group

from dashboard import roles
from dashboard.models import ApiToken, Event, Impression
from dashboard.services import search_index, serving
from tests.browser.conftest import login
from tests.dashboard.fusion_data import build_bundle, frames, mirror
from tests.factories import PASSWORD, CatalogFactory, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(transactional_db, tmp_path, settings):
    settings.API_IMPRESSION_FLUSH_S = 0  # impressions written in the request, so the test can read them at once
    for name in roles.ROLES:  # a transactional test flushes the roles' data migration
        Group.objects.get_or_create(name=name)
    make_user("andy", "analyst")
    catalog = CatalogFactory.create(name="UK gifts", slug="uk-gifts")
    folder = build_bundle(tmp_path / "bundle")
    search_index.index_build(bundle=folder, products=frames()[1], attributes={})
    search_index.clear_cache()
    serving.clear_cache()
    mirror(catalog, folder)
    return catalog


def wait_for_list(page, list_id: str, before: str = "") -> str:
    page.wait_for_function("([id, b]) => { const u = document.getElementById(id).dataset.updated;"
                           " return u !== undefined && u !== b; }", arg=[list_id, before])
    assert page.locator("#sf-error").is_hidden(), page.locator("#sf-error").text_content()
    return str(page.get_attribute(f"#{list_id}", "data-updated"))


def stored_click(page, item: str, request_id: str) -> Event:
    page.locator(f"#sf-log tr[data-type=click][data-item='{item}'][data-request-id='{request_id}']"
                 "[data-status=stored]").wait_for()  # this click's row: the item may have been clicked before
    return Event.objects.get(type="click", product__external_id=item, request_id=request_id)


def test_search_a_product_page_and_a_click_carrying_its_lists_request_id(page, shop):
    login(page, "andy", PASSWORD)
    page.wait_for_url(re.compile(r"/c/uk-gifts/$"))
    page.click("nav.mainnav >> text=Storefront")
    page.locator("h1", has_text="Demo storefront").wait_for()
    token = ApiToken.objects.get()
    assert token.kind == "public" and "fzp_" + token.prefix in page.locator("#sf-token-note").text_content()

    wait_for_list(page, "sf-recs-list")  # a guest with nothing viewed: popular items, marked fallback
    assert page.locator("#sf-recs-list .sf-card").count() > 0
    assert "fallback" in page.locator("#sf-recs-list .sf-meta").text_content()

    page.fill("#sf-q", "acme product")
    page.press("#sf-q", "Enter")
    wait_for_list(page, "sf-search-list")
    results = page.locator("#sf-search-list .sf-card")
    assert results.count() > 0
    meta = page.locator("#sf-search-list .sf-meta").text_content()
    assert "model v1" in meta and page.get_attribute("#sf-search-list", "data-request-id") in meta
    first, search_rid = results.first.get_attribute("data-item"), page.get_attribute("#sf-search-list", "data-request-id")

    results.first.click()
    wait_for_list(page, "sf-similar")
    assert page.locator("#sf-product-id").text_content() == first
    assert page.locator("#sf-product-title").text_content().startswith("Product ")
    assert page.locator("#sf-similar .sf-card").count() > 0
    assert stored_click(page, first, search_rid).session_id  # a guest: the page's session id
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "storefront.png"), full_page=True)

    similar = page.locator("#sf-similar .sf-card").first
    item, similar_rid = similar.get_attribute("data-item"), page.get_attribute("#sf-similar", "data-request-id")
    assert similar_rid != search_rid
    similar.click()
    page.wait_for_function("id => document.getElementById('sf-product-id').textContent === id", arg=item)
    event = stored_click(page, item, similar_rid)
    impression = Impression.objects.get(request_id=similar_rid)
    assert impression.surface == "similar" and item in impression.items and event.catalog_id == shop.pk

    page.click("#sf-add-to-cart")  # the product came from the similar list, so the cart event carries its id
    page.locator(f"#sf-log tr[data-type=add_to_cart][data-item='{item}'][data-status=stored]").wait_for()
    assert Event.objects.filter(type="add_to_cart", product__external_id=item, request_id=similar_rid).exists()

    before = page.get_attribute("#sf-recs-list", "data-updated") or ""
    page.click("#sf-random")  # shop as a shopper the model knows: a personal list, no fallback
    wait_for_list(page, "sf-recs-list", before)
    shopper = page.input_value("#sf-shopper")
    assert re.fullmatch(r"U\d{3}", shopper)
    assert page.get_attribute("#sf-recs-list", "data-fallback") == ""
    rec = page.locator("#sf-recs-list .sf-card").first
    item, recs_rid = rec.get_attribute("data-item"), page.get_attribute("#sf-recs-list", "data-request-id")
    rec.click()
    event = stored_click(page, item, recs_rid)
    assert event.shopper.external_id == shopper
    assert Impression.objects.get(request_id=recs_rid).shopper_id == shopper


def test_a_second_visit_reuses_the_demo_token(page, shop):
    login(page, "andy", PASSWORD)
    page.wait_for_url(re.compile(r"/c/uk-gifts/$"))
    for _visit in range(2):
        page.goto("/c/uk-gifts/storefront/")
        wait_for_list(page, "sf-recs-list")
    assert ApiToken.objects.count() == 1
