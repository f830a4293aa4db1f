"""Import batches (one uploaded file each) and saved column mappings."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dashboard.models.catalog import Catalog


class ImportKind(models.TextChoices):
    PRODUCTS = "products", _("products")
    EVENTS = "events", _("events")


class ImportPolicy(models.TextChoices):
    VALID_ROWS = "valid_rows", _("import valid rows, report the rest")
    ALL_OR_NOTHING = "all_or_nothing", _("all or nothing")


class ImportStatus(models.TextChoices):
    DRAFT = "draft", _("awaiting column mapping")
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")


class ImportBatch(models.Model):
    """One uploaded file: its progress, counts and row-level error report."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="imports")
    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    policy = models.CharField(
        _("policy"), max_length=16, choices=ImportPolicy.choices, default=ImportPolicy.VALID_ROWS
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=500)
    original_name = models.CharField(_("file name"), max_length=500)
    size_bytes = models.BigIntegerField(_("size"), default=0)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    phase = models.CharField(_("phase"), max_length=32, blank=True)
    rows_total = models.IntegerField(_("rows"), null=True, blank=True)
    rows_done = models.IntegerField(_("rows done"), default=0)
    rows_imported = models.IntegerField(_("rows imported"), default=0)
    rows_rejected = models.IntegerField(_("rows rejected"), default=0)
    rows_duplicate = models.IntegerField(_("duplicates dropped"), default=0)
    products_created = models.IntegerField(_("products created"), default=0)
    products_updated = models.IntegerField(_("products updated"), default=0)
    shoppers_created = models.IntegerField(_("shoppers created"), default=0)
    error_message = models.TextField(_("error"), blank=True)
    errors = models.JSONField(
        _("row errors"), default=list, blank=True, help_text=_("First rejected rows, for display")
    )
    error_report = models.FileField(_("error report"), upload_to="import-errors/%Y/%m/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.kind} import #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)


class ColumnMapping(models.Model):
    """The last column mapping used for a kind of file in a catalog, offered next time."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="column_mappings")
    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    mapping = models.JSONField(_("column mapping"), default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["catalog", "kind"], name="one_mapping_per_kind")]

    def __str__(self) -> str:
        return f"{self.kind} mapping for {self.catalog_id}"
