"""Training jobs, the model versions they register, their evaluation, and the audit trail."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dashboard.models.catalog import Catalog
from dashboard.models.jobs import BackgroundJob


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")


FINISHED_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class JobQueue(models.TextChoices):
    CPU = "cpu", _("CPU")
    GPU = "gpu", _("GPU")


class TrainingJob(BackgroundJob):
    """One training run of a catalog's signals; the row the job page polls.

    ``params``: ``{"signals": [names], "configs": {name: {field: value}}, "split": {...},
    "ks": [...]}``. ``metrics_history``: a list of ``{"t": seconds since start, "phase",
    "done", "total", <metric>: value}`` points for the curves.
    """

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="training_jobs")
    status = models.CharField(_("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    queue = models.CharField(_("queue"), max_length=8, choices=JobQueue.choices, default=JobQueue.CPU)
    params = models.JSONField(_("parameters"), default=dict)
    phase = models.CharField(_("phase"), max_length=100, blank=True)
    progress_done = models.IntegerField(default=0)
    progress_total = models.IntegerField(default=0)
    percent = models.FloatField(default=0.0)
    last_metrics = models.JSONField(default=dict, blank=True)
    metrics_history = models.JSONField(default=list, blank=True)
    samples_per_s = models.FloatField(null=True, blank=True)
    eta_seconds = models.FloatField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    device = models.CharField(_("device"), max_length=200, blank=True)
    peak_memory_mb = models.FloatField(null=True, blank=True)
    log = models.TextField(_("log"), blank=True)
    error = models.TextField(_("error"), blank=True)
    cancel_requested = models.BooleanField(default=False)
    attempts = models.IntegerField(default=0)
    celery_task_id = models.CharField(max_length=200, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["catalog", "-created_at"]), models.Index(fields=["status", "heartbeat_at"])]
        verbose_name = _("training job")
        verbose_name_plural = _("training jobs")

    def __str__(self) -> str:
        return f"job {self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class VersionState(models.TextChoices):
    CANDIDATE = "candidate", _("candidate")
    ACTIVE = "active", _("active")
    RETIRED = "retired", _("retired")


class ModelVersion(models.Model):
    """A servable bundle registered by a successful job; at most one per catalog is active."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="model_versions")
    job = models.OneToOneField(TrainingJob, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="version")
    number = models.PositiveIntegerField(_("version"))
    artifact_path = models.CharField(_("artifact folder"), max_length=1000)
    state = models.CharField(_("state"), max_length=16, choices=VersionState.choices,
                             default=VersionState.CANDIDATE)
    metrics = models.JSONField(_("headline metrics"), default=dict)
    signals = models.JSONField(_("signals and settings"), default=dict)
    fusion = models.JSONField(_("fusion"), default=dict)
    data_fingerprint = models.CharField(_("data fingerprint"), max_length=64)
    split = models.CharField(_("split"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    promoted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")

    class Meta:
        ordering = ["catalog", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["catalog", "number"], name="version_unique_number"),
            models.UniqueConstraint(fields=["catalog"], condition=models.Q(state="active"),
                                    name="version_one_active_per_catalog"),
        ]
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")

    def __str__(self) -> str:
        return f"v{self.number} ({self.state})"

    @property
    def ndcg10(self) -> float | None:
        value = self.metrics.get("ndcg@10")
        return float(value) if value is not None else None

    @property
    def recall10(self) -> float | None:
        value = self.metrics.get("recall@10")
        return float(value) if value is not None else None


class EvaluationReport(models.Model):
    """The engine's full report of a version (``mlcore.evaluation.EvaluationReport.to_dict()``)."""

    version = models.OneToOneField(ModelVersion, on_delete=models.CASCADE, related_name="report")
    report = models.JSONField(default=dict)
    tuning = models.JSONField(null=True, blank=True)
    timings = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("evaluation report")
        verbose_name_plural = _("evaluation reports")

    def __str__(self) -> str:
        return f"report of version {self.version_id}"


class AuditEntry(models.Model):
    """Who did what: launched, cancelled, promoted, rolled back (with reasons for overrides)."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    action = models.CharField(_("action"), max_length=40)
    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    target = models.CharField(_("target"), max_length=300)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target}"
