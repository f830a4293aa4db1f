"""Import batches (one uploaded file each) and saved column mappings."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dashboard.models.catalog import Catalog
from dashboard.models.jobs import BackgroundJob


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
    PARTIAL = "partial", _("finished with rejected rows")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")


FINISHED_IMPORT = (ImportStatus.SUCCEEDED, ImportStatus.PARTIAL, ImportStatus.FAILED, ImportStatus.CANCELLED)


class UnknownProducts(models.TextChoices):
    REJECT = "reject", _("reject the row")
    CREATE = "create", _("create a placeholder product")


class ImportBatch(BackgroundJob):
    """One uploaded file: its progress, counts and row-level error report.

    ``content_sha256`` is the stored file's hash (the same file uploaded twice is detected);
    ``natural_key``: events without an event id are deduplicated on (shopper, product, timestamp, type);
    ``unknown_products``: what an events row whose product is not in the catalog does;
    ``created_products``: the ids of the placeholders created (the first ones, for the report).
    """

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
    content_sha256 = models.CharField(_("content hash"), max_length=64, blank=True, db_index=True)
    natural_key = models.BooleanField(_("deduplicate events without ids"), default=False)
    unknown_products = models.CharField(_("events for unknown products"), max_length=16,
                                        choices=UnknownProducts.choices, default=UnknownProducts.REJECT)
    created_products = models.JSONField(_("placeholder products created"), default=list, blank=True)
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

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.kind} import #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_IMPORT

    @property
    def finished(self) -> bool:
        return self.is_finished


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
