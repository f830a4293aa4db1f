"""A merchandiser launches training from the form, watches it on a real worker, opens the version's
charts, promotes it, promotes a second one and rolls back — in a real browser."""
from __future__ import annotations

import os
import re
import time

import pytest
from django.contrib.auth.models import Group

from dashboard import roles
from dashboard.models import ModelVersion
from dashboard.services.training import training_job_run, training_job_start
from tests.browser.conftest import login
from tests.dashboard.training_data import fill_catalog
from tests.factories import PASSWORD, CatalogFactory, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(transactional_db):
    for name in roles.ROLES:  # a transactional test flushes the roles' data migration: bring the groups back
        Group.objects.get_or_create(name=name)
    make_user("mia", "merchandiser")
    catalog = CatalogFactory.create(name="UK gifts", slug="uk-gifts")
    fill_catalog(catalog)
    return catalog


def test_launch_watch_chart_promote_and_roll_back(page, shop, celery_worker_process, settings):
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, "mia", PASSWORD)
    page.wait_for_url(re.compile(r"/c/uk-gifts/$"))
    page.goto("/c/uk-gifts/jobs/")
    assert "No training jobs yet" in page.locator("main").inner_text()
    page.click("main >> text=Launch training")
    assert page.input_value("#cfg-ease-l2") == "200.0"  # the Config default
    page.check("input[name=signal][value=mf]")
    page.fill("#cfg-mf-epochs", "1500")
    page.fill("#cfg-mf-factors", "8")
    page.fill("input[name=split-test_days]", "20")
    page.fill("input[name=split-validation_days]", "15")
    page.check("input[name=queue][value=cpu]")
    page.click("button:has-text('Launch')")

    page.wait_for_url(re.compile(r"/c/uk-gifts/jobs/\d+/$"))
    page.wait_for_function(  # the bar moves while the job runs
        "(() => { const v = +document.querySelector('#job-progress .progress').getAttribute('aria-valuenow');"
        " return v > 0 && v < 100; })()", timeout=60_000)
    page.wait_for_selector("#job-version a", timeout=90_000)  # finished: the page reloads with the version link
    assert page.locator("#job-status").inner_text() == "succeeded"
    assert page.locator("#job-chart .main-svg").count() > 0
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "training-job.png"), full_page=True)
    page.click("#job-version a")

    page.wait_for_selector("#chart-fig-metrics .main-svg")
    for chart in ("fig-cold-start", "fig-ablation", "fig-beyond", "fig-curves"):
        assert page.locator(f"#chart-{chart} .main-svg").count() > 0, chart
    page.click("#promote")
    page.wait_for_selector("text=Version 1 is now active.")
    assert page.locator("#version-state").inner_text() == "active"
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "training-version.png"), full_page=True)

    second = training_job_start(catalog=shop, params={"signals": ["popularity"], "split": {
        "kind": "temporal", "test_days": 20, "validation_days": 15}}, queue="cpu")
    training_job_run(job_id=second.pk)  # or the worker does: whichever claims it first
    for _ in range(300):
        second.refresh_from_db()
        if second.finished:
            break
        time.sleep(0.2)
    settings.PROMOTION_MARGIN = 1.0  # popularity alone trails the fused model; the gate has its own tests
    v1 = ModelVersion.objects.get(number=1)
    v2 = ModelVersion.objects.get(job=second)
    page.goto(f"/c/uk-gifts/versions/{v2.pk}/")
    page.click("#promote")
    page.wait_for_selector("text=Version 2 is now active.")
    page.goto(f"/c/uk-gifts/versions/{v1.pk}/")
    page.click("#rollback")
    page.wait_for_selector("text=Rolled back: version 1 is active again.")
    assert dict(ModelVersion.objects.values_list("number", "state")) == {1: "active", 2: "retired"}
