"""A real Celery worker process runs a queued auto-tune to a stored proposal."""
from __future__ import annotations

import time

import pytest

from dashboard.models import AutoTuneRun, JobStatus
from dashboard.services import serving
from dashboard.services.autotune import autotune_start
from dashboard.services.fusion import fusion_config_create
from tests.dashboard.fusion_data import build_bundle, mirror
from tests.factories import CatalogFactory


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_tunes_a_queued_run_to_a_proposal(celery_worker_process, tmp_path):
    catalog = CatalogFactory()
    serving.clear_cache()
    mirror(catalog, build_bundle(tmp_path / "bundle"))
    config = fusion_config_create(catalog=catalog, name="Default", weights={"popularity": 2.0, "item_knn": 0.1})
    run = autotune_start(config=config)
    seen = set()
    deadline = time.time() + 90
    while time.time() < deadline:
        run.refresh_from_db()
        seen.add(run.status)
        if run.finished:
            break
        time.sleep(0.2)
    assert run.status == JobStatus.SUCCEEDED, f"{run.status}: {run.error}"
    assert run.percent == 100.0 and run.phase == "done" and run.started_at <= run.finished_at
    assert run.heartbeat_at is not None and run.heartbeat_at >= run.started_at  # what the reaper watches
    assert set(run.proposed_weights) == {"popularity", "item_knn", "ease"}
    assert run.metric_after >= run.metric_before > 0
    assert AutoTuneRun.objects.filter(config=config).count() == 1
