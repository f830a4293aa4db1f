"""A merchandiser moves a weight slider and adds a boost rule; the live preview follows without a reload."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def snapshot(page):
    items = page.locator("#preview-edited li.preview-item")
    ids = [items.nth(i).get_attribute("data-item") for i in range(items.count())]
    bars = page.locator("#preview-edited li.preview-item").first.locator(".contrib")
    widths = {bars.nth(i).get_attribute("data-signal"): bars.nth(i).evaluate("e => e.style.width")
              for i in range(bars.count())}
    return ids, widths


def wait_for_refresh(page, before: str) -> str:
    page.wait_for_function("b => { const u = document.getElementById('fusion-form').dataset.updated;"
                           " return u !== undefined && u !== b; }", arg=before)
    assert page.locator("#preview-error").is_hidden()
    return str(page.get_attribute("#fusion-form", "data-updated"))


def test_sliders_and_a_boost_rule_update_the_preview(page, fusion_config):
    login(page, "mia", PASSWORD)
    page.wait_for_url(re.compile(r"/c/uk-gifts/$"))
    page.goto(f"/c/uk-gifts/fusion/{fusion_config.pk}/")
    stamp = wait_for_refresh(page, "")
    page.fill("#preview-shopper", "U000")
    stamp = wait_for_refresh(page, stamp)
    ids, widths = snapshot(page)
    assert len(ids) == 20 and set(widths) == {"popularity", "item_knn", "ease"}
    url = page.url

    page.evaluate("""() => {  // move two sliders, then one input event, as a drag ends
        document.getElementById('w-popularity').value = '5';
        document.getElementById('w-ease').value = '0';
        document.getElementById('w-ease').dispatchEvent(new Event('input', {bubbles: true}));
    }""")
    stamp = wait_for_refresh(page, stamp)
    ids2, widths2 = snapshot(page)
    assert (ids2, widths2) != (ids, widths) and page.url == url  # no reload
    assert page.locator("#preview-edited .change").count() > 0  # rank changes versus the saved list

    page.click("#add-rule")
    row = page.locator("#rules .rule-row").last
    row.locator("select[name=rule_kind]").select_option("boost")
    row.locator("input[name=rule_column]").fill("category")
    row.locator("input[name=rule_value]").fill("Garden > Tools")
    row.locator("input[name=rule_factor]").fill("1000")
    page.wait_for_function("() => (document.querySelector('#preview-edited li.preview-item .rules') || {})"
                           ".textContent === 'boost category=Garden > Tools ×1000'")
    ids3, _ = snapshot(page)
    assert int(ids3[0][1:]) >= 10 and int(ids2[0][1:]) < 10  # U000 buys kitchen items; the boost lifts garden
    assert "boost category=Garden > Tools" in page.locator("#preview-edited li.preview-item").first.inner_text()

    # the editor also works in Simplified Chinese (its strings are translated by the lead's catalogue)
    page.select_option("select[name=language]", "zh-hans")
    page.locator("html[lang=zh-hans]").wait_for()
    page.goto(f"/c/uk-gifts/fusion/{fusion_config.pk}/")
    wait_for_refresh(page, "")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("#preview-edited li.preview-item").count() == 20
