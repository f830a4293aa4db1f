"""The fields every background job shares (imports, training jobs, auto-tunes), used by
:mod:`dashboard.services.jobs`: attempts, heartbeat, cancel request, and the outbox stamps.

A job is *queued* in the same transaction as the work it stands for; ``dispatched_at`` stays empty
until the broker has taken its message (after the commit). A queued job never dispatched (the broker
was down) or dispatched long ago and never claimed is sent again by the reaper, so a broker outage
never strands a committed job. Statuses are the model's own; the service uses ``queued``,
``running``, ``failed`` and ``cancelled``, which every job model has.
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class BackgroundJob(models.Model):
    """Abstract: a row a worker claims (row lock), keeps alive (heartbeat) and finishes."""

    attempts = models.IntegerField(_("attempts"), default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    celery_task_id = models.CharField(max_length=200, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
