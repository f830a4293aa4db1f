"""A damaged bundle gives clear pages (no 500, no server path); job tracebacks are for admins only."""
from __future__ import annotations

import shutil

import pytest
from django.urls import reverse

from dashboard.models import JobStatus, ModelVersion, Product, Shopper, TrainingJob
from dashboard.services import serving


@pytest.fixture
def damaged(catalog, fusion_config, fusion_bundle, tmp_path):
    """The active version's bundle copied, with every array file cut to half its size."""
    copy = tmp_path / "damaged"
    shutil.copytree(fusion_bundle, copy)
    for path in copy.rglob("*"):
        if path.is_file() and path.suffix in {".npz", ".npy", ".safetensors", ".parquet"}:
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    ModelVersion.objects.filter(catalog=catalog).update(artifact_path=str(copy))
    serving.clear_cache()
    return copy


def test_pages_of_a_damaged_version_answer_clearly_without_a_server_path(analyst_client, catalog, fusion_config,
                                                                           damaged):
    product = Product.objects.filter(catalog=catalog).first()
    shopper = Shopper.objects.filter(catalog=catalog).first()
    pages = [reverse("dashboard:catalog_overview", args=[catalog.slug]),
             reverse("dashboard:product_detail", args=[catalog.slug, product.pk]),
             reverse("dashboard:shopper_detail", args=[catalog.slug, shopper.pk]),
             reverse("dashboard:fusion_edit", args=[catalog.slug, fusion_config.pk]),
             reverse("dashboard:storefront", args=[catalog.slug]),
             reverse("dashboard:fusion_preview", args=[catalog.slug]) + "?shopper=" + shopper.external_id]
    for url in pages:
        response = analyst_client.get(url)
        body = response.content.decode()
        assert response.status_code < 500, (url, response.status_code)
        assert str(damaged) not in body and "/tmp/" not in body, url


def test_job_tracebacks_are_shown_to_admins_only(client, catalog, analyst, merchandiser, admin_user):
    error = ('ValueError: bad column\nTraceback (most recent call last):\n  File "/srv/app/dashboard/x.py", '
             'line 3, in run\nValueError: bad column')
    job = TrainingJob.objects.create(catalog=catalog, status=JobStatus.FAILED, error=error,
                                     log="fitting ease\n" + error)
    url = reverse("dashboard:job_detail", args=[catalog.slug, job.pk])
    progress = reverse("dashboard:job_progress", args=[catalog.slug, job.pk])
    for user in (analyst, merchandiser):
        client.force_login(user)
        page = client.get(url).content.decode() + client.get(progress).content.decode()
        assert "bad column" in page and "Traceback" not in page and "/srv/app" not in page
    client.force_login(admin_user)
    assert "Traceback" in client.get(url).content.decode()
