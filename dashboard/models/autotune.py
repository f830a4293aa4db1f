"""Auto-tune runs: a job that proposes fusion weights for a config, measured on the validation window."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dashboard.models.fusion import FusionConfig
from dashboard.models.jobs import BackgroundJob
from dashboard.models.training import FINISHED_STATUSES, JobStatus, ModelVersion


class Decision(models.TextChoices):
    PENDING = "", _("pending")
    ACCEPTED = "accepted", _("accepted")
    DISMISSED = "dismissed", _("dismissed")


class AutoTuneRun(BackgroundJob):
    """One auto-tune of ``config``'s weights with the recipe of ``version`` (the active one at launch).

    ``start_weights`` are the config's weights when the run was launched and ``metric_before``
    their score; ``proposed_weights`` the tuned ones and ``metric_after`` theirs, both on the
    same validation users. ``target`` is ``all`` or ``exclude_seen`` (already-bought items removed,
    when the config has an exclude-bought rule).
    """

    config = models.ForeignKey(FusionConfig, on_delete=models.CASCADE, related_name="autotune_runs")
    version = models.ForeignKey(ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    phase = models.CharField(_("phase"), max_length=100, blank=True)
    percent = models.FloatField(default=0.0)
    metric_name = models.CharField(_("metric"), max_length=40, blank=True)
    target = models.CharField(_("tuning target"), max_length=16, blank=True)
    normalization = models.CharField(_("normalisation"), max_length=16, blank=True)
    start_weights = models.JSONField(_("weights before"), default=dict)
    proposed_weights = models.JSONField(_("proposed weights"), null=True, blank=True)
    metric_before = models.FloatField(_("metric with the current weights"), null=True, blank=True)
    metric_after = models.FloatField(_("metric with the proposed weights"), null=True, blank=True)
    validation_users = models.IntegerField(null=True, blank=True)
    validation_events = models.IntegerField(null=True, blank=True)
    evaluations = models.IntegerField(null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    cancel_requested = models.BooleanField(default=False)
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices, default=Decision.PENDING,
                                blank=True)
    celery_task_id = models.CharField(max_length=200, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # stamped while a worker runs it (see the reaper)
    finished_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["config", "-created_at"])]
        verbose_name = _("auto-tune run")
        verbose_name_plural = _("auto-tune runs")

    def __str__(self) -> str:
        return f"auto-tune {self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def gain(self) -> float | None:
        if self.metric_before is None or self.metric_after is None:
            return None
        return self.metric_after - self.metric_before

    @property
    def gain_percent(self) -> float | None:
        """The gain relative to the current weights' metric, in percent (None when that metric is 0)."""
        gain = self.gain
        if gain is None or not self.metric_before:
            return None
        return 100.0 * gain / self.metric_before
