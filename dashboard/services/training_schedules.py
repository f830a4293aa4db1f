"""Per-catalog retraining schedules on celery beat (django_celery_beat's database scheduler).

A schedule is one ``PeriodicTask`` named ``retrain:<catalog slug>`` that calls
``dashboard.training_scheduled`` with the catalog id and the job parameters. Each tick
launches an ordinary job (snapshot, row, queue); with ``auto_promote`` a successful job's
version is promoted through the same offline gate as a click (no override: a version the
gate refuses stays a candidate, and the job's log says why).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from celery.schedules import crontab
from django.conf import settings
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from dashboard.models import Catalog, JobQueue, TrainingJob
from dashboard.selectors.training import schedule_name
from dashboard.services.audit import audit
from dashboard.services.training import training_job_start
from dashboard.services.training_snapshot import TrainingInputError, parse_params

TASK_SCHEDULED = "dashboard.training_scheduled"


def _crontab(expression: str) -> dict[str, str]:
    parts = expression.split()
    if len(parts) != 5:
        raise TrainingInputError(
            f"schedule {expression!r} needs five fields: minute hour day-of-month month day-of-week "
            "(e.g. '0 2 * * *' for every night at 02:00)")
    fields = dict(zip(("minute", "hour", "day_of_month", "month_of_year", "day_of_week"), parts, strict=True))
    try:
        crontab(**fields)
    except ValueError as exc:
        raise TrainingInputError(f"schedule {expression!r}: {exc}") from None
    return fields


@transaction.atomic
def training_schedule_set(*, catalog: Catalog, cron: str, params: Mapping[str, Any], by: Any = None,
                          queue: str = JobQueue.CPU, auto_promote: bool = True) -> PeriodicTask:
    """Create or replace the catalog's retraining schedule (``cron``: five crontab fields, in TIME_ZONE)."""
    parse_params(params)
    if queue not in JobQueue.values:
        raise TrainingInputError(f"unknown queue {queue!r}; use cpu or gpu")
    schedule, _created = CrontabSchedule.objects.get_or_create(**_crontab(cron), timezone=settings.TIME_ZONE)
    kwargs = {"catalog_id": catalog.pk, "params": dict(params), "queue": queue, "auto_promote": auto_promote}
    task, _created = PeriodicTask.objects.update_or_create(
        name=schedule_name(catalog),
        defaults={"task": TASK_SCHEDULED, "crontab": schedule, "interval": None, "kwargs": json.dumps(kwargs),
                  "enabled": True, "description": f"retrain {catalog.name}"},
    )
    audit(actor=by, action="schedule.set", catalog=catalog, target=schedule_name(catalog),
          detail={"cron": cron, **kwargs})
    return task


@transaction.atomic
def training_schedule_clear(*, catalog: Catalog, by: Any = None) -> bool:
    """Remove the catalog's schedule; False when it had none."""
    deleted, _ = PeriodicTask.objects.filter(name=schedule_name(catalog)).delete()
    if deleted:
        audit(actor=by, action="schedule.clear", catalog=catalog, target=schedule_name(catalog))
    return bool(deleted)


def training_scheduled_launch(*, catalog_id: int, params: Mapping[str, Any], queue: str = JobQueue.CPU,
                              auto_promote: bool = True) -> TrainingJob | None:
    """One tick of a schedule: launch the job (None when the catalog has gone or has no events)."""
    catalog = Catalog.objects.filter(pk=catalog_id).first()
    if catalog is None:
        return None
    try:
        return training_job_start(catalog=catalog, params={**params, "auto_promote": auto_promote}, queue=queue)
    except TrainingInputError as exc:
        audit(actor=None, action="schedule.skip", catalog=catalog, target=schedule_name(catalog),
              detail={"reason": str(exc)})
        return None
