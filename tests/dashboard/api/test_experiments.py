"""A/B experiments through the API: sticky, uniform assignment; served lists name their variant and honour its
config; the assignment endpoint; overlap refusal; attribution by request id and by window; ship through the gate."""
from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

import pytest
import yaml
from django.utils import timezone

from dashboard.models import (
    AuditEntry,
    Event,
    EventType,
    ExperimentState,
    Impression,
    ModelVersion,
    Product,
    Shopper,
    VersionState,
)
from dashboard.services import serving
from dashboard.services.experiments import (
    ExperimentError,
    VariantSpec,
    arm_for,
    choose,
    experiment_create,
    experiment_results,
    experiment_ship,
    experiment_start,
    experiment_stop,
)
from dashboard.services.experiments.attribution import exposures
from dashboard.services.fusion import fusion_config_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def warm(served_catalog):
    serving.warm(ModelVersion.objects.get(catalog=served_catalog, state=VersionState.ACTIVE))
    return served_catalog


@pytest.fixture
def configs(warm, admin_user):
    a = fusion_config_create(catalog=warm, by=admin_user, name="Default", is_default=True,
                             weights={"popularity": 0.2, "item_knn": 1.0, "ease": 1.0})
    b = fusion_config_create(catalog=warm, by=admin_user, name="Popular only",
                             weights={"popularity": 1.0, "item_knn": 0.0, "ease": 0.0})
    return a, b


def _experiment(catalog, user, a, b, **extra):
    variants = [VariantSpec("A", 50, is_control=True, fusion_config=a), VariantSpec("B", 50, fusion_config=b)]
    return experiment_create(catalog=catalog, name=extra.pop("name", "Home list"), variants=variants, by=user,
                             baseline=0.1, mde=0.1, **extra)


def test_assignment_is_stable_and_uniform_within_one_percent_over_100k_ids():
    shares = [("A", 50.0), ("B", 30.0), ("C", 20.0)]
    got = [choose("salt-1", f"shopper:{i}", shares) for i in range(100_000)]
    assert got == [choose("salt-1", f"shopper:{i}", shares) for i in range(100_000)]
    counts = Counter(got)
    for name, share in shares:
        assert abs(counts[name] / 100_000 - share / 100) < 0.01
    other = [choose("salt-2", f"shopper:{i}", shares) for i in range(1000)]
    assert other != got[:1000]  # another experiment's salt splits independently


def test_a_hold_out_gets_no_variant():
    got = Counter(choose("s", f"session:{i}", [("A", 45.0), ("B", 45.0)]) for i in range(20_000))
    assert abs(got[None] / 20_000 - 0.10) < 0.01


def test_creation_shows_the_sample_size_and_refuses_bad_allocations(configs, admin_user, warm):
    a, b = configs
    exp = _experiment(warm, admin_user, a, b)
    assert exp.sample_size > 14_745 and exp.state == ExperimentState.DRAFT  # the sequential design's inflation
    with pytest.raises(ExperimentError, match="make 90 %"):
        experiment_create(catalog=warm, name="Bad", by=admin_user,
                          variants=[VariantSpec("A", 50, is_control=True), VariantSpec("B", 40)])
    with pytest.raises(ExperimentError, match="exactly one variant as the control"):
        experiment_create(catalog=warm, name="Bad", by=admin_user, variants=[VariantSpec("A", 50), VariantSpec("B", 50)])


def test_a_second_experiment_on_the_same_surface_is_refused_but_another_surface_may_overlap(configs, admin_user,
                                                                                            warm):
    a, b = configs
    experiment_start(experiment=_experiment(warm, admin_user, a, b), by=admin_user)
    second = _experiment(warm, admin_user, a, b, name="Home list 2")
    with pytest.raises(ExperimentError, match="already runs on the recommendations surface"):
        experiment_start(experiment=second, by=admin_user)
    similar = experiment_create(catalog=warm, name="Similar", surface="similar", by=admin_user, baseline=0.1,
                                variants=[VariantSpec("A", 50, is_control=True), VariantSpec("B", 50)])
    assert experiment_start(experiment=similar, by=admin_user).state == ExperimentState.RUNNING
    assert AuditEntry.objects.filter(action="experiment.start").count() == 2


def test_served_lists_name_the_variant_and_use_its_fusion_config(api, configs, admin_user, warm):
    a, b = configs
    exp = experiment_start(experiment=_experiment(warm, admin_user, a, b), by=admin_user)
    seen = {}
    for shopper in ("U000", "U001", "U002", "U003", "U004", "U005", "U006", "U007"):
        body = api.get(f"/api/v1/catalogs/{warm.slug}/recommendations?shopper={shopper}&n=5").json()
        arm = arm_for(warm, "recommendations", shopper=shopper)
        assert body["variant"] == f"{exp.key}:{arm.name}" and body["fusion_config"] == arm.fusion_config.name
        again = api.get(f"/api/v1/catalogs/{warm.slug}/recommendations?shopper={shopper}&n=5").json()
        assert again["variant"] == body["variant"]  # sticky
        row = Impression.objects.get(request_id=uuid.UUID(body["request_id"]))
        assert row.variant == body["variant"]
        seen[arm.name] = body
    assert set(seen) == {"A", "B"}
    answer = api.get(f"/api/v1/catalogs/{warm.slug}/experiments/assignment?shopper=U000").json()
    assert answer["assignments"][0]["variant"] == seen_variant(warm, "U000", exp)
    assert api.get(f"/api/v1/catalogs/{warm.slug}/experiments/assignment").status_code == 400
    experiment_stop(experiment=exp, by=admin_user)
    assert api.get(f"/api/v1/catalogs/{warm.slug}/recommendations?shopper=U000").json()["variant"] is None


def seen_variant(catalog, shopper, exp):
    return f"{exp.key}:{arm_for(catalog, 'recommendations', shopper=shopper).name}"


def test_the_assignment_endpoint_is_in_the_schema_with_an_example(api):
    schema = yaml.safe_load(api.get("/api/v1/schema/").content)
    op = schema["paths"]["/api/v1/catalogs/{slug}/experiments/assignment"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"shopper", "session"}
    assert "examples" in op["responses"]["200"]["content"]["application/json"]


def _served(catalog, exp, variant, shopper, items, at):
    row = Impression.objects.create(catalog=catalog, surface="home", shopper_id=shopper, items=items,
                                    variant=f"{exp.key}:{variant}", created_at=at)
    return str(row.request_id)


def test_events_count_by_request_id_and_else_by_window(configs, admin_user, warm):
    a, b = configs
    exp = experiment_start(experiment=_experiment(warm, admin_user, a, b, attribution_hours=2), by=admin_user)
    t0 = exp.started_at + dt.timedelta(minutes=5)
    rid = _served(warm, exp, "A", "U000", ["P001", "P002"], t0)
    _served(warm, exp, "B", "U001", ["P003"], t0)
    shopper0, shopper1 = Shopper.objects.get(catalog=warm, external_id="U000"), Shopper.objects.get(
        catalog=warm, external_id="U001")
    p1, p3, p5 = (Product.objects.get(catalog=warm, external_id=i) for i in ("P001", "P003", "P005"))
    Event.objects.bulk_create([
        Event(catalog=warm, shopper=shopper1, product=p1, type=EventType.CLICK, timestamp=t0, request_id=rid),
        Event(catalog=warm, shopper=shopper1, product=p3, type=EventType.CLICK, timestamp=t0 + dt.timedelta(hours=1)),
        Event(catalog=warm, shopper=shopper1, product=p3, type=EventType.PURCHASE, quantity=2, value=None,
              timestamp=t0 + dt.timedelta(hours=3)),  # past the window: counts for nobody
        Event(catalog=warm, shopper=shopper0, product=p5, type=EventType.PURCHASE, timestamp=t0,
              request_id=str(uuid.uuid4())),  # another list's request id
        Event(catalog=warm, shopper=shopper0, product=p1, type=EventType.PURCHASE, value=12.5,
              timestamp=t0 + dt.timedelta(minutes=30)),
    ])
    units = exposures(experiment=exp, now=timezone.now() + dt.timedelta(hours=4)).units.set_index("unit")
    assert units.loc["shopper:U000", "clicked_lists"] == 1  # by request id, although another shopper clicked
    assert units.loc["shopper:U000", "revenue"] == pytest.approx(12.5)  # by window, no request id
    assert units.loc["shopper:U001", "clicks"] == 1 and units.loc["shopper:U001", "purchases"] == 0
    results = experiment_results(experiment=exp, now=timezone.now() + dt.timedelta(hours=4))
    assert [r.shoppers for r in results.variants] == [1, 1] and results.verdict


def test_shipping_promotes_the_winners_version_through_the_gate(configs, admin_user, warm):
    a, _b = configs
    active = ModelVersion.objects.get(catalog=warm, state=VersionState.ACTIVE)
    worse = ModelVersion.objects.create(catalog=warm, number=2, artifact_path=active.artifact_path, signals={},
                                        fusion={}, data_fingerprint="f", split="t", metrics={"ndcg@10": 0.01})
    ModelVersion.objects.filter(pk=active.pk).update(metrics={"ndcg@10": 0.5})
    exp = experiment_create(catalog=warm, name="New model", by=admin_user, baseline=0.1, variants=[
        VariantSpec("A", 50, is_control=True), VariantSpec("B", 50, model_version=worse)])
    experiment_start(experiment=exp, by=admin_user)
    b = exp.variants.get(name="B")
    with pytest.raises(ExperimentError, match="promotion gate refused"):
        experiment_ship(experiment=exp, variant=b, by=admin_user)
    assert ModelVersion.objects.get(pk=worse.pk).state == VersionState.CANDIDATE
    exp.refresh_from_db()
    assert exp.state == ExperimentState.RUNNING  # nothing changed
    shipped = experiment_ship(experiment=exp, variant=b, by=admin_user, override_reason="won the A/B test")
    assert shipped.state == ExperimentState.SHIPPED and shipped.shipped_variant == b
    assert ModelVersion.objects.get(pk=worse.pk).state == VersionState.ACTIVE
    assert AuditEntry.objects.filter(action="version.gate_override").exists()
    assert AuditEntry.objects.get(action="experiment.ship").detail["promoted"] == {"model_version": 2}


def test_shipping_a_fusion_variant_makes_its_config_the_default(configs, admin_user, warm):
    a, b = configs
    exp = experiment_start(experiment=_experiment(warm, admin_user, a, b), by=admin_user)
    experiment_ship(experiment=exp, variant=exp.variants.get(name="B"), by=admin_user)
    b.refresh_from_db()
    assert b.is_default
