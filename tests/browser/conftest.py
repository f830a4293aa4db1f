"""Playwright driving Debian's chromium against pytest-django's live server."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group

from dashboard import roles
from dashboard.services import serving
from dashboard.services.fusion import fusion_config_create
from tests.dashboard.fusion_data import build_bundle, mirror
from tests.factories import CatalogFactory, make_user

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's sync API runs an event loop

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    # bypass_csp: playwright's wait_for_function() evaluates strings, which the site's CSP forbids;
    # tests/browser/test_content_security_policy.py checks the pages under the real policy.
    context = browser.new_context(base_url=live_server.url, locale="en-GB", accept_downloads=True, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def login(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


@pytest.fixture
def fusion_shop(transactional_db, tmp_path):
    """(merchandiser "mia", catalog uk-gifts mirroring a small trained bundle)."""
    for name in roles.ROLES:  # a transactional test flushes the roles' data migration
        Group.objects.get_or_create(name=name)
    user = make_user("mia", "merchandiser")
    catalog = CatalogFactory.create(name="UK gifts", slug="uk-gifts")
    serving.clear_cache()
    mirror(catalog, build_bundle(tmp_path / "bundle"))
    return user, catalog


@pytest.fixture
def fusion_config(fusion_shop):
    """The shop's default fusion config."""
    user, catalog = fusion_shop
    return fusion_config_create(catalog=catalog, by=user, name="Default", is_default=True,
                                weights={"popularity": 0.2, "item_knn": 1.0, "ease": 1.0})
