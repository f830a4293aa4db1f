"""Pictures end to end: product image URLs → worker thumbnails → a job with the image signal → served lists."""
from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.models import JobStatus, ModelVersion, TrainingJob, VersionState
from dashboard.services import serving
from dashboard.services.images import fetch_product_images
from dashboard.services.training import training_job_run, training_job_start
from dashboard.services.training_snapshot import TrainingInputError
from mlcore.serving.bundle import load_bundle
from tests.dashboard.services.pictures import ROUTES, png
from tests.dashboard.training_data import fill_catalog
from tests.mlcore.image_data import tiny_clip

PARAMS = {"signals": ["popularity", "image"], "split": {"kind": "temporal", "test_days": 20, "validation_days": 15}}


@pytest.fixture
def pictured(catalog, picture_server, settings, tmp_path):
    settings.ARTIFACTS_DIR, settings.MEDIA_ROOT = tmp_path / "artifacts", tmp_path / "media"
    fill_catalog(catalog)
    ROUTES["/red.png"] = (200, {"Content-Type": "image/png"}, png(colour="red"))
    ROUTES["/blue.png"] = (200, {"Content-Type": "image/png"}, png(colour="blue"))
    for product in catalog.products.all():
        kitchen = product.category_path.startswith("Home")
        product.image_url = f"{picture_server}/{'red' if kitchen else 'blue'}.png"
        product.save(update_fields=["image_url"])
    assert fetch_product_images(catalog=catalog)["fetched"] == 20
    return catalog


def test_without_an_installed_image_model_the_signal_is_refused_at_launch(pictured, settings):
    settings.IMAGE_MODEL_DIR = ""
    with pytest.raises(TrainingInputError, match="IMAGE_MODEL_DIR"):
        training_job_start(catalog=pictured, params=PARAMS)


def test_a_job_trains_the_image_signal_and_the_product_pages_use_it(pictured, settings, analyst_client):
    settings.IMAGE_MODEL_DIR = tiny_clip()
    job = training_job_start(catalog=pictured, params=PARAMS)
    assert training_job_run(job_id=job.pk, progress_interval_s=0) == JobStatus.SUCCEEDED
    version = ModelVersion.objects.get(job=job)
    image = load_bundle(version.artifact_path).models["image"]
    assert image.has_image.all(), "every product's thumbnail was encoded"
    assert "image: 20 of 20 products have a usable picture" in TrainingJob.objects.get(pk=job.pk).log

    ModelVersion.objects.filter(pk=version.pk).update(state=VersionState.ACTIVE)
    serving.clear_cache()
    red = pictured.products.get(external_id="P001")
    page = analyst_client.get(reverse("dashboard:product_detail", kwargs={"catalog": pictured.slug, "pk": red.pk}))
    looks = page.context["lookalikes"]
    assert looks["state"] == "ok" and len(looks["items"]) == 8
    assert all(it["product"].category_path.startswith("Home") for it in looks["items"]), "red looks like red"
    check = analyst_client.get(reverse("dashboard:picture_check", kwargs={"catalog": pictured.slug})).context["check"]
    assert check["state"] == "ok" and len(check["items"]) == 20
    assert [it["agreement"] for it in check["items"]] == sorted(it["agreement"] for it in check["items"])
