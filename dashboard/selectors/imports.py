"""Reads about imports: history, the column-mapping form and live progress."""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from dashboard.models import ColumnMapping, ImportBatch
from mlcore.data.read_limits import ReadLimits
from mlcore.data.readers import preview
from mlcore.data.validate import FIELDS, suggest_mapping

COLUMNS_PER_PAGE = 50


def import_list(*, catalog) -> QuerySet[ImportBatch]:
    """The catalog's imports, newest first."""
    return ImportBatch.objects.filter(catalog=catalog).select_related("created_by").order_by("-created_at")


def import_mapping_form(*, batch: ImportBatch, limits: ReadLimits | None = None) -> dict[str, Any]:
    """Columns, sample rows, target fields and the suggested ``{column: field}`` for a draft batch.

    The suggestion starts from the catalog's saved mapping for this kind, then exact and similar names.
    Only the file's first rows are read (within ``limits``).
    """
    columns, samples = preview(batch.file.path, name=batch.original_name, limits=limits)
    saved = ColumnMapping.objects.filter(catalog=batch.catalog, kind=batch.kind).values_list("mapping", flat=True)
    suggested = suggest_mapping(columns, batch.kind, saved=saved.first() or {})
    fields = FIELDS[batch.kind]
    return {
        "columns": columns,
        "samples": {c: [row[i] for row in samples] for i, c in enumerate(columns)},
        "fields": [(f.name, f.required, f.example) for f in fields],
        "suggested": suggested,
    }


def import_progress(*, batch: ImportBatch) -> dict[str, Any]:
    """The JSON the progress bar polls: rows done/total, percent, rows/s and ETA (seconds).

    An import first counts the file's rows (phase ``checking``, limits checked), then reads, checks and
    writes them chunk by chunk (``importing``). ``rows_per_s`` is file rows handled per second of the run.
    """
    total = batch.rows_total or 0
    done = batch.rows_done
    rate = eta = None
    if batch.started_at and done:
        elapsed = ((batch.finished_at or timezone.now()) - batch.started_at).total_seconds()
        if elapsed > 0:
            rate = done / elapsed
            if total and not batch.is_finished:
                eta = max(total - done, 0) / rate
    percent = 100.0 if batch.is_finished else (min(99.0, 100.0 * done / total) if total else 0.0)
    return {
        "id": batch.pk,
        "status": batch.status,
        "status_label": str(batch.get_status_display()),
        "phase": batch.phase,
        "finished": batch.is_finished,
        "rows_total": batch.rows_total,
        "rows_done": done,
        "percent": round(percent, 1),
        "rows_per_s": round(rate) if rate else None,
        "eta_s": round(eta) if eta is not None else None,
        "rows_imported": batch.rows_imported,
        "rows_rejected": batch.rows_rejected,
        "rows_duplicate": batch.rows_duplicate,
        "products_created": batch.products_created,
        "products_updated": batch.products_updated,
        "shoppers_created": batch.shoppers_created,
        "attempts": batch.attempts,
        "cancel_requested": batch.cancel_requested,
        "error_message": batch.error_message,
        "has_report": bool(batch.error_report),
    }
