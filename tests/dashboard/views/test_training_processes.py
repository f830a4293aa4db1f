"""The launch form's "Processes" option: DistributedDataParallel training over N processes."""
from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.models import TrainingJob
from tests.dashboard.training_data import fill_catalog

FORM = {"signal": ["mf"], "split_kind": "temporal", "split-test_days": "20", "queue": "cpu"}


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path, monkeypatch):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    monkeypatch.setattr("dashboard.services.training.current_app.send_task", lambda *a, **kw: None)


def test_the_launch_form_offers_the_process_count(merch_client, catalog):
    body = merch_client.get(reverse("dashboard:job_new", kwargs={"catalog": catalog.slug})).content.decode()
    assert 'name="processes"' in body


def test_launching_with_two_processes_stores_them_on_the_job(merch_client, catalog):
    fill_catalog(catalog)
    merch_client.post(reverse("dashboard:job_new", kwargs={"catalog": catalog.slug}), {**FORM, "processes": "2"})
    assert TrainingJob.objects.get().params["processes"] == 2


def test_a_bad_process_count_is_named_and_nothing_is_launched(merch_client, catalog):
    fill_catalog(catalog)
    response = merch_client.post(reverse("dashboard:job_new", kwargs={"catalog": catalog.slug}),
                                 {**FORM, "processes": "0"})
    assert "processes=0 is out of range" in response.content.decode()
    assert not TrainingJob.objects.exists()
