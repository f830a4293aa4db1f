"""A merchandiser types a query and sees two settings side by side, then reads the page in Simplified Chinese."""
from __future__ import annotations

import os
import re

import pytest
from django.contrib.auth.models import Group

from dashboard import roles
from dashboard.services import search_index
from tests.browser.conftest import login
from tests.dashboard.fusion_data import build_bundle, frames, mirror
from tests.factories import PASSWORD, CatalogFactory, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def served(transactional_db, tmp_path):
    for name in roles.ROLES:  # a transactional test flushes the roles' data migration
        Group.objects.get_or_create(name=name)
    make_user("mia", "merchandiser")
    catalog = CatalogFactory.create(name="UK gifts", slug="uk-gifts")
    folder = build_bundle(tmp_path / "bundle")
    search_index.index_build(bundle=folder, products=frames()[1], attributes={})
    search_index.clear_cache()
    mirror(catalog, folder)
    return catalog


def wait_for_results(page, before: str) -> str:
    page.wait_for_function("b => { const u = document.getElementById('search-form').dataset.updated;"
                           " return u !== undefined && u !== b; }", arg=before)
    assert page.locator("#search-error").is_hidden()
    return str(page.get_attribute("#search-form", "data-updated"))


def test_a_query_shows_two_settings_side_by_side_and_survives_a_language_switch(page, served):
    login(page, "mia", PASSWORD)
    page.wait_for_url(re.compile(r"/c/uk-gifts/$"))
    page.click("nav.mainnav >> text=Search")
    page.locator("h1", has_text="Search preview").wait_for()
    page.fill("#search-q", "acme prodcut")
    stamp = wait_for_results(page, "")
    assert page.locator("#results-a li.hit").count() == 10
    assert page.locator("#title-a").text_content() == "A · Hybrid"
    assert page.locator("#title-b").text_content() == "B · Keywords only"
    assert page.locator("#search-parsed dd[data-field=corrections]").text_content() == "prodcut → product"
    assert page.locator("#search-parsed dd[data-field=brand]").text_content() == "acme"
    assert page.locator("#search-suggestion-link").text_content() == "acme product"
    assert "brand acme" in page.locator("#results-a li.hit").first.text_content()
    assert page.locator("#results-b li.hit .signals").first.text_content().startswith("bm25")
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "search-preview.png"), full_page=True)

    page.fill("#search-shopper", "U000")
    page.fill("#search-weight", "3")
    stamp = wait_for_results(page, stamp)
    assert page.locator("#search-shopper-note").is_visible()

    page.select_option("select[name=language]", "zh-hans")
    page.locator("html[lang=zh-hans]").wait_for()
    assert page.locator("nav.mainnav a", has_text="概览").is_visible()
    assert page.input_value("#search-q") == "acme prodcut"  # the query came back with the page
    wait_for_results(page, "")
    assert page.locator("#results-b li.hit").count() == 10
