"""Django admin for every dashboard model (superusers only: Django admin requires staff status)."""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from dashboard.models import (
    ApiToken,
    AuditEntry,
    AutoTuneRun,
    Catalog,
    ColumnMapping,
    EvaluationReport,
    Event,
    Experiment,
    FusionConfig,
    FusionConfigRevision,
    ImportBatch,
    Impression,
    Membership,
    ModelVersion,
    OnlineState,
    Product,
    SearchSettings,
    Shopper,
    TrainingJob,
    Variant,
)


@admin.register(Catalog)
class CatalogAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "default_currency", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("external_id", "title", "catalog", "category_path", "price", "currency", "in_stock")
    list_filter = ("catalog", "in_stock")
    search_fields = ("external_id", "title", "brand", "category_path")
    list_select_related = ("catalog",)
    list_per_page = 50


@admin.register(Shopper)
class ShopperAdmin(admin.ModelAdmin):
    """Deleting a shopper here erases them everywhere (snapshots, uploads, impressions: the privacy service)."""

    list_display = ("external_id", "catalog", "created_at")
    list_filter = ("catalog",)
    search_fields = ("external_id",)
    list_select_related = ("catalog",)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        from dashboard.services.privacy import shopper_erase

        shopper_erase(catalog=obj.catalog, external_id=obj.external_id, by=request.user, via="django admin")

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset.select_related("catalog"):
            self.delete_model(request, obj)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("timestamp", "type", "catalog", "shopper", "product", "quantity", "value")
    list_filter = ("catalog", "type")
    search_fields = ("event_id", "session_id", "query", "shopper__external_id", "product__external_id")
    list_select_related = ("catalog", "shopper", "product")
    raw_id_fields = ("shopper", "product", "batch")
    date_hierarchy = "timestamp"
    show_full_result_count = False


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ("id", "catalog", "kind", "status", "original_name", "rows_imported", "rows_rejected", "created_at")
    list_filter = ("catalog", "kind", "status")
    search_fields = ("original_name",)
    list_select_related = ("catalog",)
    raw_id_fields = ("created_by",)


@admin.register(ColumnMapping)
class ColumnMappingAdmin(admin.ModelAdmin):
    list_display = ("catalog", "kind", "updated_at")
    list_filter = ("catalog", "kind")


@admin.register(TrainingJob)
class TrainingJobAdmin(admin.ModelAdmin):
    list_display = ("id", "catalog", "status", "queue", "device", "percent", "created_at", "finished_at")
    list_filter = ("catalog", "status", "queue")
    list_select_related = ("catalog",)
    raw_id_fields = ("started_by",)


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("number", "catalog", "state", "created_at", "promoted_at")
    list_filter = ("catalog", "state")
    list_select_related = ("catalog",)
    raw_id_fields = ("job", "promoted_by")


@admin.register(EvaluationReport)
class EvaluationReportAdmin(admin.ModelAdmin):
    list_display = ("version",)
    list_select_related = ("version",)
    raw_id_fields = ("version",)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log is a record: readable here, never edited or deleted."""

    list_display = ("at", "actor", "action", "catalog", "target")
    list_filter = ("action", "catalog")
    search_fields = ("target", "action")
    list_select_related = ("actor", "catalog")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Fusion configs and their history
@admin.register(FusionConfig)
class FusionConfigAdmin(admin.ModelAdmin):
    list_display = ("name", "catalog", "normalization", "is_default", "updated_at", "updated_by")
    list_filter = ("catalog", "is_default")
    search_fields = ("name",)
    list_select_related = ("catalog", "updated_by")


@admin.register(FusionConfigRevision)
class FusionConfigRevisionAdmin(admin.ModelAdmin):
    """The history is a record: readable here, never edited."""

    list_display = ("config", "number", "at", "by")
    list_select_related = ("config", "by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Fusion auto-tune runs
@admin.register(AutoTuneRun)
class AutoTuneRunAdmin(admin.ModelAdmin):
    """Runs are written by the worker and decided on in the fusion editor: readable here, never edited."""

    list_display = ("config", "status", "metric_name", "metric_before", "metric_after", "decision", "created_at")
    list_filter = ("status", "decision")
    list_select_related = ("config",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Search settings
@admin.register(OnlineState)
class OnlineStateAdmin(admin.ModelAdmin):
    list_display = ("catalog", "trending_half_life_hours", "trending_share", "co_occurrence_share", "applied_event_id",
                    "last_applied_at", "pending_since")
    # the half-life is set on the Real time page (or rebuild_online_state --half-life): changing it rebuilds the state
    readonly_fields = ("trending_half_life_hours", "applied_event_id", "events_applied", "last_applied_at",
                       "lag_ms_p95", "pending_since", "last_error", "rebuilt_at")
    list_select_related = ("catalog",)


@admin.register(SearchSettings)
class SearchSettingsAdmin(admin.ModelAdmin):
    list_display = ("name", "catalog", "mode", "fusion", "lexical_weight", "dense_weight", "profile_weight", "is_default")
    list_filter = ("catalog", "mode")
    list_select_related = ("catalog",)


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    raw_id_fields = ("fusion_config", "model_version", "search_settings")


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    """Read and correct experiments here; start, stop and ship them on their dashboard page (audited)."""

    list_display = ("name", "catalog", "surface", "state", "primary_metric", "sample_size", "started_at")
    list_filter = ("catalog", "surface", "state")
    list_select_related = ("catalog",)
    readonly_fields = ("state", "salt", "started_at", "stopped_at", "shipped_at", "shipped_variant")
    inlines = (VariantInline,)


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    """Variants are edited with their experiment (inline there); listed here to find one by its config."""

    list_display = ("experiment", "name", "is_control", "allocation", "fusion_config", "model_version")
    list_select_related = ("experiment",)
    raw_id_fields = ("fusion_config", "model_version", "search_settings")


# Storefront API
@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created on the dashboard's API tokens page (the key is shown once there); here they are read."""

    list_display = ("name", "kind", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("kind",)
    search_fields = ("name", "prefix")
    exclude = ("key_hash",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Impression)
class ImpressionAdmin(admin.ModelAdmin):
    """Every list the API served, as logged; never edited."""

    list_display = ("request_id", "catalog", "surface", "shopper_id", "model_version", "fallback", "created_at")
    list_filter = ("surface", "fallback")
    list_select_related = ("catalog",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """A user's role in one catalog (install-wide roles are the groups of the same name)."""

    list_display = ("user", "catalog", "role", "shopper_ids", "created_at")
    list_filter = ("catalog", "role")
    search_fields = ("user__username",)
    list_select_related = ("user", "catalog")
