"""Serving rules see the database as it is now: purchases after training and current stock."""
from __future__ import annotations

import datetime as dt

import pytest

from dashboard.models import Event, EventType, JobStatus, ModelVersion, Product, Shopper
from dashboard.services import serving
from dashboard.services.preview import preview_for_shopper
from dashboard.services.training import training_job_run, training_job_start
from mlcore.serving.bundle import load_bundle
from tests.dashboard.fusion_data import OUT_OF_STOCK, build_bundle, mirror
from tests.dashboard.training_data import fill_catalog

BASE = {"weights": {"popularity": 0.3, "item_knn": 1.0, "ease": 1.0}, "normalization": "rank"}
LATER = dt.datetime(2012, 3, 1, 12, tzinfo=dt.UTC)  # after the bundle's training window


@pytest.fixture(scope="module")
def bundle_folder(tmp_path_factory):
    return build_bundle(tmp_path_factory.mktemp("fresh") / "bundle")


@pytest.fixture
def served(catalog, bundle_folder):
    serving.clear_cache()
    return mirror(catalog, bundle_folder)


def ids(catalog, rules, shopper="U000", k=20):
    out = preview_for_shopper(catalog=catalog, shopper_external_id=shopper, config={**BASE, "rules": rules}, k=k)
    return [it["item_id"] for it in out["items"]]


def buy(catalog, shopper: str, item: str) -> None:
    customer, _ = Shopper.objects.get_or_create(catalog=catalog, external_id=shopper)
    Event.objects.create(catalog=catalog, shopper=customer, product=Product.objects.get(catalog=catalog,
                         external_id=item), type=EventType.PURCHASE, quantity=1, timestamp=LATER)


def test_a_purchase_after_training_is_excluded_by_the_exclude_bought_rule(catalog, served, bundle_folder):
    bundle = load_bundle(bundle_folder)
    known = {bundle.items.ids[i] for i in bundle.seen[bundle.user_index("U000")].indices}
    before = ids(catalog, [{"kind": "exclude_bought"}])
    new = next(i for i in before if i not in known)
    buy(catalog, "U000", new)
    after = ids(catalog, [{"kind": "exclude_bought"}])
    assert new not in after and not known & set(after)
    assert new in ids(catalog, [])  # only the rule drops it


def test_a_new_shoppers_purchases_are_excluded_from_the_fallback_too(catalog, served):
    popular = ids(catalog, [{"kind": "exclude_bought"}], shopper="NEW1", k=5)
    buy(catalog, "NEW1", popular[0])
    assert popular[0] not in ids(catalog, [{"kind": "exclude_bought"}], shopper="NEW1", k=5)


def test_a_product_marked_out_of_stock_after_training_is_filtered_at_once(catalog, served):
    in_stock = ids(catalog, [{"kind": "in_stock"}])
    gone = in_stock[0]
    Product.objects.filter(catalog=catalog, external_id=gone).update(in_stock=False)
    assert gone not in ids(catalog, [{"kind": "in_stock"}])
    assert gone in ids(catalog, [])  # only the rule drops it
    fallback = ids(catalog, [{"kind": "in_stock"}], shopper=None)
    assert gone not in fallback


def test_a_product_back_in_stock_is_served_again(catalog, served):
    without_rule = ids(catalog, [], k=20)
    back = next(i for i in without_rule if i in OUT_OF_STOCK)  # out of stock when the bundle was trained
    assert back not in ids(catalog, [{"kind": "in_stock"}], k=20)
    Product.objects.filter(catalog=catalog, external_id=back).update(in_stock=True)
    assert back in ids(catalog, [{"kind": "in_stock"}], k=20)


def test_training_writes_the_in_stock_flag_into_the_bundles_products(catalog, settings, tmp_path, monkeypatch):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    monkeypatch.setattr("dashboard.services.training.current_app.send_task", lambda *a, **kw: None)
    fill_catalog(catalog)
    Product.objects.filter(catalog=catalog, external_id__in=["P002", "P011"]).update(in_stock=False)
    job = training_job_start(catalog=catalog, params={
        "signals": ["popularity", "item_knn"], "split": {"kind": "temporal", "test_days": 20, "validation_days": 15}})
    assert training_job_run(job_id=job.pk) == JobStatus.SUCCEEDED
    products = load_bundle(ModelVersion.objects.get(job=job).artifact_path).products
    stock = dict(zip(products["item_id"], products["in_stock"], strict=True))
    assert {i for i, v in stock.items() if not v} == {"P002", "P011"} and len(stock) == 20
