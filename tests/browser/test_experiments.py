"""A merchandiser creates an A/B experiment, shoppers are served through the API, the results page names the
winner, and the merchandiser ships it."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from rest_framework.test import APIClient

from dashboard.models import Experiment, ExperimentState, FusionConfig, ModelVersion, Scope, TokenKind, VersionState
from dashboard.services import serving
from dashboard.services.api_tokens import api_token_create
from dashboard.services.fusion import fusion_config_create
from tests.browser.conftest import login
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def send_traffic(catalog, *, shoppers: int = 80, truth=None, seed: int = 0) -> None:
    """Shoppers each get one list through the API and click its first item with their variant's probability."""
    truth = truth or {"A": 0.3, "B": 0.9}
    _token, key = api_token_create(name="sim", kind=TokenKind.SECRET, catalogs=[catalog], throttle_per_minute=100_000,
                                   scopes=[Scope.RECOMMENDATIONS_READ, Scope.EVENTS_WRITE])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    rng = np.random.default_rng(seed)
    base = f"/api/v1/catalogs/{catalog.slug}"
    clicks = []
    for i in range(shoppers):
        body = client.get(f"{base}/recommendations?shopper=sim-{i}&n=3").json()
        if rng.random() < truth[body["variant"].split(":")[1]]:
            clicks.append({"type": "click", "shopper_id": f"sim-{i}", "product_id": body["items"][0]["item_id"],
                           "request_id": body["request_id"]})
    r = client.post(f"{base}/events", data=json.dumps({"events": clicks}), content_type="application/json")
    assert r.status_code == 202, r.content


def test_create_an_experiment_send_traffic_read_the_results_and_ship_the_winner(page, fusion_shop, fusion_config,
                                                                              settings):
    settings.API_IMPRESSION_FLUSH_S = 0
    user, catalog = fusion_shop
    popular = fusion_config_create(catalog=catalog, by=user, name="Popular only",
                                   weights={"popularity": 1.0, "item_knn": 0.0, "ease": 0.0})
    serving.warm(ModelVersion.objects.get(catalog=catalog, state=VersionState.ACTIVE))
    login(page, "mia", PASSWORD)
    page.wait_for_url(re.compile(r"/c/uk-gifts/$"))
    page.click("nav.mainnav >> text=Experiments")
    page.click("text=New experiment")
    page.fill("input[name=name]", "Personal vs popular")
    page.select_option("select[name=variant-0-fusion_config]", label="Default")
    page.select_option("select[name=variant-1-fusion_config]", label="Popular only")
    page.fill("input[name=baseline]", "0.3")
    page.fill("input[name=mde]", "100")
    page.check("input[name=guardrails][value=conversion]")
    page.click("button:has-text('Create experiment')")
    exp = Experiment.objects.get(catalog=catalog)
    assert page.locator(".messages").inner_text().count(f"{exp.sample_size:,} shoppers per variant")
    page.click("button:has-text('Start')")
    page.wait_for_selector("text=The experiment runs")

    send_traffic(catalog)

    page.reload()
    verdict = page.locator(".verdict-text").inner_text()
    assert verdict.startswith("B wins on click-through rate, +") and "guardrails fine" in verdict
    page.wait_for_selector("#chart-ctr .main-svg")  # the cumulative chart is drawn
    assert page.locator("table.results tbody tr").count() == 2
    page.click("button:has-text('Ship the winner')")
    page.wait_for_selector("text=Variant B is shipped")
    exp.refresh_from_db()
    assert exp.state == ExperimentState.SHIPPED and exp.shipped_variant.name == "B"
    assert FusionConfig.objects.get(pk=popular.pk).is_default
