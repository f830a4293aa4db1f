"""A merchandiser pins a product for one category page and excludes recently seen items, in the live preview."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from dashboard.models import Event, EventType, Product, Shopper
from tests.browser.conftest import login
from tests.browser.test_fusion_preview import wait_for_refresh
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def edited_ids(page) -> list[str]:
    items = page.locator("#preview-edited li.preview-item")
    return [str(items.nth(i).get_attribute("data-item")) for i in range(items.count())]


def test_a_pin_for_a_category_page_and_the_exclude_recent_rule_in_the_preview(page, fusion_config):
    login(page, "mia", PASSWORD)
    page.wait_for_url(re.compile(r"/c/uk-gifts/$"))
    page.goto(f"/c/uk-gifts/fusion/{fusion_config.pk}/")
    stamp = wait_for_refresh(page, "")
    page.fill("#preview-shopper", "U000")
    stamp = wait_for_refresh(page, stamp)
    before = edited_ids(page)
    pinned = before[-1]

    page.click("#add-rule")
    row = page.locator("#rules .rule-row").last
    assert row.locator("input[name=rule_context]").is_hidden()  # no kind yet: no fields
    row.locator("select[name=rule_kind]").select_option("pin")
    assert row.locator("input[name=rule_column]").is_hidden() and row.locator("input[name=rule_days]").is_hidden()
    row.locator("input[name=rule_item_id]").fill(pinned)
    row.locator("input[name=rule_position]").fill("1")
    row.locator("input[name=rule_context]").fill("category:Home > Kitchen")
    stamp = wait_for_refresh(page, stamp)
    assert edited_ids(page)[0] != pinned  # the preview shows no page yet

    page.fill("#preview-context", "category:home > kitchen")
    page.wait_for_function("p => (document.querySelector('#preview-edited li.preview-item') || {}).dataset?.item === p",
                           arg=pinned)
    assert "pinned at 1 for category:Home > Kitchen" in page.locator("#preview-edited li.preview-item").first.inner_text()
    stamp = str(page.get_attribute("#fusion-form", "data-updated"))

    seen = edited_ids(page)[1]
    shopper = Shopper.objects.get(catalog=fusion_config.catalog, external_id="U000")
    Event.objects.create(catalog=fusion_config.catalog, shopper=shopper, type=EventType.VIEW, quantity=1,
                         product=Product.objects.get(catalog=fusion_config.catalog, external_id=seen),
                         timestamp=timezone.now() - dt.timedelta(days=2))
    page.click("#add-rule")
    row = page.locator("#rules .rule-row").last
    row.locator("select[name=rule_kind]").select_option("exclude_recent")
    assert row.locator("input[name=rule_item_id]").is_hidden()
    row.locator("input[name=rule_days]").fill("3")
    page.wait_for_function("s => ![...document.querySelectorAll('#preview-edited li.preview-item')]"
                           ".some(li => li.dataset.item === s)", arg=seen)
    wait_for_refresh(page, stamp)
    assert edited_ids(page)[0] == pinned and seen not in edited_ids(page)

    with page.expect_navigation():
        page.click("#fusion-form button[type=submit]")
    assert page.locator("#rules .rule-row").count() == 2
    fusion_config.refresh_from_db()
    assert fusion_config.rules == [
        {"kind": "pin", "item_id": pinned, "position": 1, "context": "category:Home > Kitchen"},
        {"kind": "exclude_recent", "days": 3, "types": ["view", "click"]},
    ]
