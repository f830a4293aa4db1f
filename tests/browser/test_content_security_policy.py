"""Every kind of page works under the site's Content-Security-Policy: no violation, charts drawn."""
from __future__ import annotations

import pytest

from dashboard.models import ModelVersion
from tests.browser.conftest import login
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_pages_raise_no_csp_violation_and_draw_their_charts(browser, live_server, fusion_config):
    catalog = fusion_config.catalog
    version = ModelVersion.objects.get(catalog=catalog)
    context = browser.new_context(base_url=live_server.url, locale="en-GB")  # the real policy
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "console.error('Content Security Policy: ' + e.violatedDirective + ' ' + e.blockedURI));")
    login(page, "mia", PASSWORD)
    page.wait_for_load_state()
    slug = catalog.slug
    for path in (f"/c/{slug}/", f"/c/{slug}/versions/{version.pk}/", f"/c/{slug}/fusion/{fusion_config.pk}/",
                 f"/c/{slug}/search/", f"/c/{slug}/storefront/", f"/c/{slug}/jobs/new/", f"/c/{slug}/tokens/",
                 f"/c/{slug}/audit/", "/api/v1/docs/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        if path == f"/c/{slug}/":
            page.locator("#events-chart .main-svg").first.wait_for()  # Plotly drew under the policy
    context.close()
    assert violations == []
