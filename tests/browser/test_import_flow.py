"""A merchandiser imports a products file with one bad row in a real browser, then the same page in zh-hans."""
from __future__ import annotations

import csv
import os
import re

import pytest
from django.contrib.auth.models import Group

from dashboard import roles
from tests.browser.conftest import login
from tests.factories import PASSWORD, CatalogFactory, make_user

pytestmark = pytest.mark.browser
ROWS = "sku,name,price,colour\nA1,Red mug,2.50,red\nA2,Blue plate,=1+2,blue\nA3,Green bowl,4,green\n"


@pytest.fixture
def shop(transactional_db):
    for name in roles.ROLES:  # a transactional test flushes the roles' data migration: bring the groups back
        Group.objects.get_or_create(name=name)
    make_user("mia", "merchandiser")
    return CatalogFactory(name="UK gifts", slug="uk-gifts")


def test_a_merchandiser_uploads_maps_watches_progress_downloads_errors_and_sees_products(page, shop, tmp_path):
    upload = tmp_path / "products.csv"
    upload.write_text(ROWS)
    login(page, "mia", PASSWORD)
    page.wait_for_url(re.compile(r"/c/uk-gifts/$"))
    page.goto("/c/uk-gifts/imports/")
    assert "No imports yet" in page.locator("main").inner_text()
    page.click("main >> text=New import")
    page.check("input[name=kind][value=products]")
    page.set_input_files("input[name=file]", str(upload))
    page.click("button:has-text('Upload')")

    page.wait_for_selector("table.mapping")  # the columns, with fields suggested from their names
    assert page.input_value("select[data-column=sku]") == "id"
    assert page.input_value("select[data-column=name]") == "title"
    assert page.input_value("select[data-column=price]") == "price"
    assert page.input_value("select[data-column=colour]") == ""  # kept as an attribute
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "import-mapping.png"), full_page=True)
    page.click("button:has-text('Start the import')")

    bar = page.locator("#import-progress .progress")
    bar.wait_for()
    page.wait_for_function("document.querySelector('#import-progress .progress').getAttribute('aria-valuenow') == '100.0'")
    assert page.locator("#import-status").inner_text() == "finished with rejected rows"
    assert re.search(r"3 / 3 rows", page.locator("#import-figures").inner_text())
    assert page.locator("[data-count=rows_imported]").inner_text() == "2"
    assert page.locator("[data-count=rows_rejected]").inner_text() == "1"
    assert "expected a plain number" in page.locator("table.import-errors").inner_text()
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "import.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#error-report")
    report = list(csv.DictReader(open(download.value.path(), encoding="utf-8")))
    assert [(r["row"], r["field"], r["value"]) for r in report] == [("3", "price", "'=1+2")]

    page.click("text=See the products")
    page.wait_for_url(re.compile(r"/c/uk-gifts/products/"))
    listed = page.locator("main").inner_text()
    assert "Red mug" in listed and "Green bowl" in listed and "Blue plate" not in listed

    page.goto("/c/uk-gifts/imports/")
    page.select_option("select[name=language]", "zh-hans")
    page.wait_for_selector("html[lang=zh-hans]")
    assert page.locator("main h1").inner_text() == "导入"
    assert "products.csv" in page.locator("table.imports").inner_text()


@pytest.mark.worker
def test_the_progress_bar_follows_an_import_running_on_the_worker(page, shop, tmp_path, settings,
                                                                   celery_worker_process):
    settings.IMPORT_SYNC_MAX_ROWS = 10  # queue it: the page must poll until the worker is done
    upload = tmp_path / "big.csv"
    upload.write_text("id,title,price\n" + "".join(f"P{i},Product {i},{i % 50}.99\n" for i in range(5000)))
    login(page, "mia", PASSWORD)
    page.wait_for_url(re.compile(r"/c/uk-gifts/$"))
    page.goto("/c/uk-gifts/imports/new/")
    page.check("input[name=kind][value=products]")
    page.set_input_files("input[name=file]", str(upload))
    page.click("button:has-text('Upload')")
    page.click("button:has-text('Start the import')")
    page.wait_for_selector("#import-progress")
    assert "running in the background" in page.locator(".messages").inner_text()
    page.wait_for_selector("#import-status:text-is('succeeded')", timeout=60_000)  # no eval: the CSP forbids it
    page.wait_for_selector("#import-progress[data-finished='1']")  # reloaded once at the end
    assert page.locator("[data-count=rows_imported]").inner_text() == "5,000"
    assert re.search(r"5,000 / 5,000 rows · [\d,]+ rows/s", page.locator("#import-figures").inner_text())
