"""Experiment pages and the management command: create with the power calculation, start, read results, ship."""
from __future__ import annotations

import datetime as dt
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dashboard.experiment_charts import timeline_figure
from dashboard.models import (
    Event,
    EventType,
    Experiment,
    ExperimentState,
    Impression,
    Product,
    Shopper,
)
from dashboard.services.experiments import (
    VariantSpec,
    choose,
    experiment_create,
    experiment_results,
    experiment_start,
)
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _traffic(catalog, exp, *, shoppers=400, rates=None, seed=0):
    """Simulated lists and clicks: each shopper is served 2 lists on their variant; clicks with ``rates``."""
    rates = rates or {"A": 0.05, "B": 0.30}
    rng = np.random.default_rng(seed)
    exp.started_at -= dt.timedelta(days=3)  # three days of traffic, all in the past
    Experiment.objects.filter(pk=exp.pk).update(started_at=exp.started_at)
    product = ProductFactory(catalog=catalog, external_id="P1", price=10)
    shares = [(v.name, v.allocation) for v in exp.variants.all()]
    rows, events = [], []
    for i in range(shoppers):
        sid = f"S{i:04d}"
        name = choose(exp.salt, f"shopper:{sid}", shares)
        shopper = Shopper.objects.create(catalog=catalog, external_id=sid)
        for k in range(2):
            at = exp.started_at + dt.timedelta(days=i % 3, minutes=k)
            imp = Impression(catalog=catalog, surface="home", shopper_id=sid, items=["P1"], variant=f"{exp.key}:{name}",
                             created_at=at)
            rows.append(imp)
            if rng.random() < rates[name]:
                events.append(Event(catalog=catalog, shopper=shopper, product=product, type=EventType.CLICK,
                                    timestamp=at, request_id=str(imp.request_id)))
    Impression.objects.bulk_create(rows)
    Event.objects.bulk_create(events)
    return Product.objects.get(pk=product.pk)


def _exp(catalog, user, **extra):
    exp = experiment_create(catalog=catalog, name="Home list", by=user, baseline=0.1, mde=0.5, **extra,
                            variants=[VariantSpec("A", 50, is_control=True), VariantSpec("B", 50)])
    return experiment_start(experiment=exp, by=user)


def test_the_creation_page_shows_the_sample_size_after_creating(merch_client, catalog):
    url = f"/c/{catalog.slug}/experiments/new/"
    assert merch_client.get(url).status_code == 200
    r = merch_client.post(url, {"name": "Home list", "surface": "recommendations", "primary_metric": "conversion",
                                "baseline": "0.03", "mde": "10", "control": "0", "variant-0-name": "A",
                                "variant-0-allocation": "45", "variant-1-name": "B", "variant-1-allocation": "45",
                                "holdout_percent": "10", "guardrails": ["ctr"]}, follow=True)
    exp = Experiment.objects.get(catalog=catalog)
    assert exp.holdout_percent == 10 and exp.guardrails == ["ctr"] and exp.state == ExperimentState.DRAFT
    assert f"{exp.sample_size:,}" in r.content.decode()


def test_a_bad_allocation_is_shown_with_the_fix(merch_client, catalog):
    r = merch_client.post(f"/c/{catalog.slug}/experiments/new/", {
        "name": "Bad", "control": "0", "variant-0-name": "A", "variant-0-allocation": "50", "variant-1-name": "B",
        "variant-1-allocation": "40"})
    assert "not 100 %" in r.content.decode() and not Experiment.objects.exists()


def test_the_results_page_names_the_winner_and_ships_it(merch_client, catalog, merchandiser):
    exp = _exp(catalog, merchandiser)
    _traffic(catalog, exp)
    page = merch_client.get(f"/c/{catalog.slug}/experiments/{exp.pk}/").content.decode()
    assert "B wins on click-through rate" in page and "guardrails fine" in page and "chart-ctr" in page
    b = exp.variants.get(name="B")
    merch_client.post(f"/c/{catalog.slug}/experiments/{exp.pk}/ship/", {"variant": b.pk})
    exp.refresh_from_db()
    assert exp.state == ExperimentState.SHIPPED and exp.shipped_variant == b


def test_a_just_started_experiment_says_there_is_not_enough_data(merch_client, catalog, merchandiser):
    exp = _exp(catalog, merchandiser)
    page = merch_client.get(f"/c/{catalog.slug}/experiments/{exp.pk}/").content.decode()
    assert "Not enough data yet" in page


def test_lists_without_any_click_give_a_zero_rate(catalog, merchandiser):
    exp = _exp(catalog, merchandiser)
    _traffic(catalog, exp, shoppers=20, rates={"A": 0.0, "B": 0.0})
    results = experiment_results(experiment=exp)
    assert [r.metrics["ctr"].value for r in results.variants] == [0.0, 0.0]
    assert sum(r.shoppers for r in results.variants) == 20 and "Not enough data" in results.verdict


def test_an_analyst_may_read_results_but_not_start(analyst_client, catalog, merchandiser):
    exp = experiment_create(catalog=catalog, name="Home list", by=merchandiser, baseline=0.1,
                            variants=[VariantSpec("A", 50, is_control=True), VariantSpec("B", 50)])
    assert analyst_client.get(f"/c/{catalog.slug}/experiments/").status_code == 200
    assert analyst_client.post(f"/c/{catalog.slug}/experiments/{exp.pk}/start/").status_code == 403


def test_every_operator_action_has_a_command(catalog, merchandiser):
    out = StringIO()
    call_command("experiment", "create", "--catalog", catalog.slug, "--name", "Home list", "--variant", "A=50",
                 "--variant", "B=50", "--metric", "ctr", "--baseline", "0.1", "--mde", "0.5", stdout=out)
    assert "shoppers per variant needed" in out.getvalue()
    call_command("experiment", "start", "--catalog", catalog.slug, "--key", "home-list", stdout=out)
    exp = Experiment.objects.get(key="home-list")
    _traffic(catalog, exp)
    call_command("experiment", "results", "--catalog", catalog.slug, "--key", "home-list", stdout=out)
    assert "B wins" in out.getvalue()
    call_command("experiment", "ship", "--catalog", catalog.slug, "--key", "home-list", "--variant", "B", stdout=out)
    call_command("experiment", "list", "--catalog", catalog.slug, stdout=out)
    assert "home-list\tshipped" in out.getvalue()
    with pytest.raises(CommandError, match="only a draft can start"):
        call_command("experiment", "start", "--catalog", catalog.slug, "--key", "home-list")


def test_the_timeline_chart_draws_one_line_per_variant():
    fig = timeline_figure([{"date": "2026-01-01", "A": {"ctr": 0.1}, "B": {"ctr": 0.2}}], metric="ctr",
                          variants=["A", "B"], label="CTR")
    assert [t["name"] for t in fig["data"]] == ["A", "B"] and fig["data"][1]["y"] == [0.2]
