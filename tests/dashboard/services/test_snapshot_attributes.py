"""Product attributes reach the bundle as columns, so rules and the knowledge graph can use them."""
from __future__ import annotations

import pandas as pd

from dashboard.models import JobStatus, ModelVersion, Product
from dashboard.services.training import training_job_run, training_job_start
from dashboard.services.training_snapshot import attribute_columns
from mlcore.serving.bundle import load_bundle
from tests.dashboard.training_data import fill_catalog


def test_common_attribute_keys_become_columns_and_rare_ones_stay_out():
    products = pd.DataFrame({"item_id": ["a", "b", "c"], "title": ["x", "y", "z"], "attributes": [
        {"colour": "red", "sizes": ["S", "M"], "title": "clash"}, {"colour": "blue"}, {}]})
    out = attribute_columns(products, min_share=0.5)
    assert "attributes" not in out.columns
    assert out["colour"].tolist() == ["red", "blue", None]
    assert "sizes" not in out.columns and "attr_title" not in out.columns  # on 1 of 3 products: below 50%
    wide = attribute_columns(pd.DataFrame({"item_id": ["a"], "title": ["x"], "attributes": [
        {"sizes": ["S", "M"], "title": "clash"}]}), min_share=0.5)
    assert wide["sizes"].tolist() == ["S|M"] and wide["attr_title"].tolist() == ["clash"]
    assert wide["title"].tolist() == ["x"]


def test_a_trained_bundle_has_the_attribute_columns(catalog, settings, tmp_path, monkeypatch):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    monkeypatch.setattr("dashboard.services.training.current_app.send_task", lambda *a, **kw: None)
    fill_catalog(catalog)
    for p in Product.objects.filter(catalog=catalog):
        p.attributes = {"colour": "red" if int(p.external_id[1:]) % 2 else "green"}
        p.save()
    job = training_job_start(catalog=catalog, params={
        "signals": ["popularity", "item_knn"], "split": {"kind": "temporal", "test_days": 20, "validation_days": 15}})
    assert training_job_run(job_id=job.pk) == JobStatus.SUCCEEDED
    products = load_bundle(ModelVersion.objects.get(job=job).artifact_path).products
    colours = dict(zip(products["item_id"], products["colour"], strict=True))
    assert colours["P001"] == "red" and colours["P002"] == "green"
