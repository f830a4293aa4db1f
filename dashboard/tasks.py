"""Celery tasks: thin shims that load rows by id and call one service."""
from __future__ import annotations

from celery import shared_task

from dashboard.models import Catalog, ImportBatch
from dashboard.services.autotune import TASK_AUTOTUNE, TASK_AUTOTUNE_REAP, autotune_reap, autotune_run
from dashboard.services.imports import TASK_NAME, imports_reap
from dashboard.services.imports import import_run as run
from dashboard.services.search_index import TASK_CATCH_UP, index_add_new_products
from dashboard.services.training import TASK_REAP, TASK_RUN, jobs_reap, training_job_run
from dashboard.services.training_schedules import TASK_SCHEDULED, training_scheduled_launch


@shared_task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)
def import_run(batch_id: int) -> str:
    """Run the queued import ``batch_id`` (streamed into one transaction); returns its final status.
    A redelivery of an import that is no longer queued does nothing (the reaper decides on retries)."""
    batch = ImportBatch.objects.select_related("catalog").filter(pk=batch_id).first()
    return run(batch=batch).status if batch is not None else "missing"


@shared_task(name="dashboard.import_reap")
def import_reap() -> dict[str, list[int]]:
    """Beat: requeue or fail imports whose worker died; send again imports the broker never took."""
    return imports_reap()


# -- training jobs ------------------------------------------------------------

@shared_task(name=TASK_RUN, acks_late=True, reject_on_worker_lost=True)
def training_run(job_id: int) -> str:
    """Train the queued job ``job_id``; returns its final status. Redeliveries of a job that is
    no longer queued do nothing (see the retry policy in dashboard.services.training)."""
    return training_job_run(job_id=job_id)


@shared_task(name=TASK_REAP)
def training_reap() -> dict[str, list[int]]:
    """Beat: requeue or fail running jobs whose worker stopped sending heartbeats."""
    return jobs_reap()


@shared_task(name=TASK_SCHEDULED)
def training_scheduled(catalog_id: int, params: dict, queue: str = "cpu", auto_promote: bool = True) -> int | None:
    """Beat: one tick of a catalog's retraining schedule; returns the launched job's id."""
    job = training_scheduled_launch(catalog_id=catalog_id, params=params, queue=queue, auto_promote=auto_promote)
    return job.pk if job else None


# -- fusion auto-tune -----------------------------------------------------------

@shared_task(name=TASK_AUTOTUNE)
def fusion_autotune(run_id: int) -> str:
    """Tune the queued auto-tune run ``run_id``'s fusion weights; returns its final status."""
    return autotune_run(run_id=run_id)


@shared_task(name=TASK_AUTOTUNE_REAP)
def fusion_autotune_reap() -> list[int]:
    """Beat: fail running auto-tunes whose worker stopped sending heartbeats."""
    return autotune_reap()


# -- search index catch-up -------------------------------------------------------------------

@shared_task(name=TASK_CATCH_UP)
def search_index_catch_up(catalog_id: int) -> int:
    """Add the products the catalog's active search index lacks (imported while its version trained);
    returns how many were added. Queued when a version is registered, promoted or rolled back."""
    return index_add_new_products(catalog=Catalog.objects.get(pk=catalog_id))
