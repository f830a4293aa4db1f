"""A merchandiser auto-tunes a config: progress shows live, Accept loads the proposal into the sliders, Save keeps it."""
from __future__ import annotations

import re
import threading

import pytest
from django.db import connection

from dashboard.models import AutoTuneRun, FusionConfig
from dashboard.services.autotune import autotune_run
from dashboard.services.fusion import fusion_config_create
from tests.browser.conftest import login
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser
WEIGHTS = {"popularity": 2.0, "item_knn": 0.1, "ease": 0.0}


@pytest.fixture
def config(fusion_shop, tmp_path, settings, monkeypatch):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    user, catalog = fusion_shop

    def worker(run_id: int) -> None:  # stands in for the Celery worker, a moment after the page shows the run
        try:
            autotune_run(run_id=run_id)
        finally:
            connection.close()

    monkeypatch.setattr("dashboard.services.autotune.current_app.send_task",
                        lambda name, args, **kw: threading.Timer(1.5, worker, args=args).start())
    return fusion_config_create(catalog=catalog, by=user, name="Default", is_default=True, weights=WEIGHTS)


def test_auto_tune_proposes_weights_and_accepting_loads_them_for_saving(page, config):
    login(page, "mia", PASSWORD)
    page.wait_for_url(re.compile(r"/c/uk-gifts/$"))
    page.goto(f"/c/uk-gifts/fusion/{config.pk}/")
    page.click("#autotune-start")
    page.locator("#autotune .progress").wait_for()  # queued or running: the bar is shown and polled
    page.locator("#autotune-accept").wait_for(timeout=60_000)  # finished: the page reloaded with the proposal
    run = AutoTuneRun.objects.get(config=config)
    assert run.metric_after >= run.metric_before
    assert page.locator(".autotune-proposal tbody tr").count() == 3 and "gain" in page.inner_text("#autotune-gain")

    page.click("#autotune-accept")
    page.locator("#autotune-note").wait_for()
    for signal, weight in run.proposed_weights.items():
        assert float(page.input_value(f"#w-{signal}")) == pytest.approx(weight)
    page.wait_for_function("() => document.getElementById('fusion-form').dataset.updated !== undefined")
    with page.expect_navigation():
        page.click("#fusion-form button[type=submit]")
    assert "Fusion config saved." in page.inner_text("body")
    saved = FusionConfig.objects.get(pk=config.pk)
    assert saved.weights == pytest.approx(run.proposed_weights) and saved.revisions.count() == 2
