"""``manage.py bootstrap_demo``: the demo job trains every signal and the preview has a default fusion config."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from dashboard.management.commands import bootstrap_demo
from dashboard.models import Catalog, FusionConfig, ImportBatch, ImportStatus, TrainingJob
from dashboard.services.catalogs import catalog_create
from mlcore.cli import DEFAULT_SIGNALS
from tests.dashboard.training_data import fill_catalog

EVERY_SIGNAL = set(DEFAULT_SIGNALS.split(","))


@pytest.fixture
def loaded_demo(tmp_path, settings, monkeypatch):
    """The demo catalog as a finished import leaves it (importing itself is tested with the importer)."""
    settings.VAR_DIR = tmp_path
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    monkeypatch.setattr("dashboard.services.training.gpu_worker_listening", lambda: False)
    demo = catalog_create(name=bootstrap_demo.DEMO_NAME, slug=bootstrap_demo.DEMO_SLUG)
    ImportBatch.objects.create(catalog=demo, kind="events", status=ImportStatus.SUCCEEDED)
    fill_catalog(demo)
    return demo


@pytest.mark.django_db
def test_the_demo_job_trains_every_signal_and_the_preview_has_a_default_config(loaded_demo):
    out = io.StringIO()
    call_command("bootstrap_demo", stdout=out)
    catalog = Catalog.objects.get(slug=bootstrap_demo.DEMO_SLUG)
    job = TrainingJob.objects.get(catalog=catalog)
    assert set(job.params["signals"]) >= EVERY_SIGNAL, "the transformer and the graph belong in the demo"
    config = FusionConfig.objects.get(catalog=catalog, is_default=True)
    assert config.name == bootstrap_demo.DEMO_FUSION and set(config.weights) == set(job.params["signals"])
    assert all(w > 0 for w in config.weights.values()) and "default fusion config" in out.getvalue()

    call_command("bootstrap_demo", stdout=io.StringIO())  # a second `make run` adds nothing
    assert TrainingJob.objects.filter(catalog=catalog).count() == 1
    assert FusionConfig.objects.filter(catalog=catalog).count() == 1
