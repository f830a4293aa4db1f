"""A merchandiser browses the dashboard in a real browser: overview chart, products, a product, a shopper, zh-hans."""
from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.contrib.auth.models import Group

from dashboard import roles
from dashboard.models import EventType
from tests.browser.conftest import login
from tests.factories import PASSWORD, CatalogFactory, EventFactory, ProductFactory, ShopperFactory, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(transactional_db):
    """A catalog with 60 mugs and a lamp, two shoppers and a week of events, and a merchandiser."""
    for name in roles.ROLES:  # a transactional test flushes the roles' data migration: bring the groups back
        Group.objects.get_or_create(name=name)
    catalog = CatalogFactory(name="UK gifts", slug="uk-gifts")
    mugs = [ProductFactory(catalog=catalog, title=f"Mug no. {i:02d}", price=4.5) for i in range(60)]
    lamp = ProductFactory(catalog=catalog, title="Lantern lamp", price=12)
    ann = ShopperFactory(catalog=catalog, external_id="12346")
    bob = ShopperFactory(catalog=catalog, external_id="17850")
    start = dt.datetime(2011, 6, 1, 10, tzinfo=dt.UTC)
    for day in range(7):
        for kind in (EventType.VIEW, EventType.VIEW, EventType.PURCHASE):
            EventFactory(catalog=catalog, type=kind, shopper=ann, product=mugs[day], timestamp=start + dt.timedelta(days=day))
        EventFactory(catalog=catalog, type=EventType.ADD_TO_CART, shopper=bob, product=lamp,
                     timestamp=start + dt.timedelta(days=day, hours=2))
    make_user("mia", "merchandiser")
    return catalog


def test_a_merchandiser_sees_the_overview_browses_products_and_opens_a_product_and_a_shopper(page, shop):
    login(page, "mia", PASSWORD)
    page.wait_for_url(re.compile(r"/c/uk-gifts/$"))
    page.locator("#events-chart .main-svg").first.wait_for()  # plotly drew the chart from the local plotly.min.js
    assert page.locator(".js-plotly-plot").count() == 1
    assert page.locator("#events-chart .bars path").count() > 0
    assert page.locator("#events-chart .gtitle").text_content() == "Events per day"
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "overview.png"), full_page=True)

    page.click("nav.mainnav >> text=Products")
    page.fill("input[name=q]", "mug")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"q=mug"))
    assert page.locator(".count").inner_text().strip() == "Showing 1–50 of 60"
    assert page.locator(".item-card").count() == 50
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "products.png"))
    page.click(".pagination >> text=Next")
    page.wait_for_url(re.compile(r"page=2"))
    assert page.locator(".item-card").count() == 10
    assert "q=mug" in page.url

    page.goto(page.url.split("?")[0] + "?q=lantern")
    page.click(".item-card .item-title")
    page.locator("h1.product-title", has_text="Lantern lamp").wait_for()
    assert page.locator("table tbody tr").count() == 7
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "product.png"))

    page.click("table tbody tr >> nth=0 >> a.mono")
    page.locator("h1", has_text="17850").wait_for()
    assert page.locator(".timeline .day").count() == 7
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "shopper.png"))
    assert page.locator(".timeline .item-card", has_text="Lantern lamp").count() == 7


def test_the_overview_switches_to_simplified_chinese(page, shop):
    login(page, "mia", PASSWORD)
    page.wait_for_url(re.compile(r"/c/uk-gifts/$"))
    page.select_option("select[name=language]", "zh-hans")
    page.locator("html[lang=zh-hans]").wait_for()
    assert page.locator("nav.mainnav a", has_text="商品").is_visible()
    assert page.locator(".stat .label", has_text="顾客").is_visible()
    page.locator("#events-chart .main-svg").first.wait_for()
    assert page.locator("#events-chart .gtitle").text_content() == "每日事件数"
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "overview-zh.png"))


def test_the_import_pages_read_in_simplified_chinese_too(page, shop):
    login(page, "mia", PASSWORD)
    page.wait_for_url(re.compile(r"/c/uk-gifts/$"))
    page.select_option("select[name=language]", "zh-hans")
    page.locator("html[lang=zh-hans]").wait_for()
    page.click("nav.mainnav >> text=导入")
    page.locator("h1", has_text="导入").wait_for()
    page.click("text=新建导入")
    page.locator("h1", has_text="新建导入").wait_for()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
