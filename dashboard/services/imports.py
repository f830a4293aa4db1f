"""Imports of product and event files: upload, map columns, run, cancel.

1. :func:`import_upload` stores the file as a draft :class:`ImportBatch` after checking its
   type, size (``settings.IMPORT_MAX_MB``) and — reading only what a preview needs, within
   :func:`~dashboard.services.import_validate.import_limits` — that a header and data can be read.
   The stored bytes' SHA-256 is kept: the same file imported before is detected
   (:func:`same_file_imports`) and only re-imported when the operator says so.
2. :func:`import_start` locks the batch row, checks it is still a draft and the column mapping
   ``{file column: field}``, saves the mapping as the catalog's :class:`ColumnMapping`, and runs the
   import inline (files of at most ``settings.IMPORT_SYNC_MAX_ROWS`` rows, counted by reading no
   further than that) or queues ``dashboard.import_run`` through the job lifecycle
   (:mod:`dashboard.services.jobs`: outbox, claim, heartbeat, attempt limit, reaper). Two concurrent
   starts of one batch import it once.
3. :func:`~dashboard.services.import_run.import_run` streams the file in bounded chunks into one
   transaction (see there); a crash leaves nothing half-written.

Online Retail: rows without CustomerID are imported as anonymous events (no shopper;
the session id is the invoice number); negative quantities (the "C" cancellation
invoices) become ``return`` events with a positive quantity.
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from dashboard.models import (
    Catalog,
    ColumnMapping,
    ImportBatch,
    ImportKind,
    ImportPolicy,
    ImportStatus,
    UnknownProducts,
)
from dashboard.selectors.imports import import_mapping_form
from dashboard.services import jobs
from dashboard.services.import_run import TASK_NAME, import_run, import_task_kind
from dashboard.services.import_validate import import_limits, limit_message
from mlcore.data.read_limits import LimitError
from mlcore.data.readers import ReadError, count_rows, detect_format, preview
from mlcore.data.validate import FIELDS, missing_required

__all__ = ["TASK_NAME", "ImportInputError", "import_cancel", "import_file", "import_run", "import_start",
           "import_task_kind", "import_upload", "imports_reap", "same_file_imports"]
HASH_BLOCK = 1 << 20


class ImportInputError(ValueError):
    """The upload or the mapping cannot be used; the message says how to fix it."""


def _check_file(name: str, size: int) -> None:
    try:
        detect_format(name)
    except ReadError as exc:
        raise ImportInputError(str(exc)) from None
    if size == 0:
        raise ImportInputError(_("“%(name)s” is empty (0 bytes). Upload a file with a header row and data rows.")
                               % {"name": name})
    limit = settings.IMPORT_MAX_MB
    if size > limit * 1024 * 1024:
        raise ImportInputError(
            _("“%(name)s” is %(size).1f MB; the limit is %(limit)d MB. Split the file, or compress it "
              "(.csv.gz), or ask an administrator to raise IMPORT_MAX_MB.")
            % {"name": name, "size": size / 1024 / 1024, "limit": limit})


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def read_preview(batch: ImportBatch) -> tuple[list[str], list[list[str]]]:
    """The batch file's columns and first rows, read within the limits (:class:`ImportInputError` if not).

    A gzipped Parquet file must be decompressed to reach its columns (they are in its footer): in a web
    request only up to ``IMPORT_PREVIEW_GZ_PARQUET_MB`` of it, so an upload never spends long decompressing.
    """
    limits = import_limits()
    fmt = detect_format(batch.original_name)
    gz_parquet = fmt.kind == "parquet" and fmt.gzipped
    if gz_parquet:
        cap = int(getattr(settings, "IMPORT_PREVIEW_GZ_PARQUET_MB", 100)) * 1024 * 1024
        limits = dataclasses.replace(limits, max_bytes=min(limits.max_bytes or cap, cap))
    try:
        return preview(batch.file.path, name=batch.original_name, limits=limits)
    except LimitError as exc:
        if gz_parquet and exc.limit == "bytes":
            raise ImportInputError(
                _("“%(name)s” holds more than %(mb)d MB once decompressed. Parquet compresses itself: upload the "
                  ".parquet file without .gz (or ask an administrator to raise IMPORT_PREVIEW_GZ_PARQUET_MB).")
                % {"name": batch.original_name, "mb": (limits.max_bytes or 0) // 2**20}) from None
        raise ImportInputError(limit_message(exc)) from None
    except ReadError as exc:
        raise ImportInputError(str(exc)) from None


def import_upload(*, catalog: Catalog, kind: str, file: File, policy: str = ImportPolicy.VALID_ROWS,
                  created_by=None) -> ImportBatch:
    """Store ``file`` as a draft batch; :class:`ImportInputError` when it cannot be imported."""
    if kind not in ImportKind.values:
        raise ImportInputError(_("Unknown import kind “%(kind)s”: use products or events.") % {"kind": kind})
    name = Path(file.name or "upload").name
    _check_file(name, file.size or 0)
    batch = ImportBatch(catalog=catalog, kind=kind, policy=policy, status=ImportStatus.DRAFT, original_name=name,
                        size_bytes=file.size or 0, created_by=created_by)
    batch.file.save(name, file, save=False)
    try:
        read_preview(batch)
    except ImportInputError:
        batch.file.delete(save=False)
        raise
    batch.content_sha256 = _sha256(batch.file.path)
    batch.save()
    return batch


def same_file_imports(batch: ImportBatch) -> QuerySet[ImportBatch]:
    """Earlier imports of the same bytes into the same catalog that stored (or are storing) rows."""
    if not batch.content_sha256:
        return ImportBatch.objects.none()
    return ImportBatch.objects.filter(
        catalog_id=batch.catalog_id, kind=batch.kind, content_sha256=batch.content_sha256,
        status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.SUCCEEDED, ImportStatus.PARTIAL],
    ).exclude(pk=batch.pk).order_by("-created_at")


def _clean_mapping(batch: ImportBatch, mapping: Mapping[str, str]) -> dict[str, str]:
    columns, _rows = read_preview(batch)
    fields = {s.name for s in FIELDS[batch.kind]}
    clean: dict[str, str] = {}
    for column, field in mapping.items():
        if not field:
            continue
        if column not in columns:
            raise ImportInputError(_("The file has no column “%(column)s”. Its columns are: %(columns)s.")
                                   % {"column": column, "columns": ", ".join(columns)})
        if field not in fields:
            raise ImportInputError(_("“%(field)s” is not a %(kind)s field. Use one of: %(fields)s.")
                                   % {"field": field, "kind": batch.kind, "fields": ", ".join(sorted(fields))})
        twice = [c for c, f in clean.items() if f == field]
        if twice:
            raise ImportInputError(_("Columns “%(a)s” and “%(b)s” are both mapped to “%(field)s”; map each field "
                                     "to one column.") % {"a": twice[0], "b": column, "field": field})
        clean[column] = field
    missing = missing_required(clean, batch.kind)
    if missing:
        raise ImportInputError(
            _("No column is mapped to the required field(s) %(fields)s. The file's columns are: %(columns)s. "
              "Map one of them (or rename the column in the file).")
            % {"fields": ", ".join(f"“{m}”" for m in missing), "columns": ", ".join(columns)})
    return clean


def import_start(*, batch: ImportBatch, mapping: Mapping[str, str], policy: str | None = None,
                 run_inline: bool | None = None, unknown_products: str | None = None,
                 natural_key: bool | None = None, allow_same_file: bool = False) -> ImportBatch:
    """Check and save ``mapping``, then run (small files, or ``run_inline``) or queue the import.

    ``unknown_products``: ``reject`` (default) or ``create`` (events only); ``natural_key``: deduplicate
    events without ids on (shopper, product, timestamp, type); ``allow_same_file``: import a file
    whose bytes were imported before (else :class:`ImportInputError` naming that import).
    """
    if unknown_products is not None and unknown_products not in UnknownProducts.values:
        raise ImportInputError(_("Unknown choice “%(value)s” for events of unknown products: use reject or create.")
                               % {"value": unknown_products})
    clean = _clean_mapping(batch, mapping)
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != ImportStatus.DRAFT:
            raise ImportInputError(_("This import has already been started (it is %(status)s).")
                                   % {"status": locked.get_status_display()})
        earlier = same_file_imports(locked).first()
        if earlier is not None and not allow_same_file:
            raise ImportInputError(
                _("This file was already imported as import #%(id)d on %(date)s (%(status)s). Importing it again "
                  "would store its rows twice; tick “import it again anyway” (with “skip events already "
                  "stored” for events without ids) to go on.")
                % {"id": earlier.pk, "date": f"{earlier.created_at:%Y-%m-%d %H:%M}",
                   "status": earlier.get_status_display()})
        ColumnMapping.objects.update_or_create(catalog=batch.catalog, kind=batch.kind, defaults={"mapping": clean})
        batch.mapping = clean
        batch.policy = policy or batch.policy
        if unknown_products is not None:
            batch.unknown_products = unknown_products
        if natural_key is not None:
            batch.natural_key = natural_key
        # The conditional update decides between two concurrent starts on every database (SQLite has no row lock).
        if not ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.DRAFT).update(status=ImportStatus.QUEUED):
            raise ImportInputError(_("This import has already been started."))
        batch.status = ImportStatus.QUEUED
        batch.rows_total = _quick_count(batch)
        batch.save()
        if run_inline is None:
            run_inline = batch.rows_total is not None and batch.rows_total <= settings.IMPORT_SYNC_MAX_ROWS
        if not run_inline:
            jobs.job_enqueue(batch)  # sent after the commit; a broker outage leaves it for the reaper
    if run_inline:
        import_run(batch=batch)
    return batch


def _quick_count(batch: ImportBatch) -> int | None:
    """The row count when the file has at most ``IMPORT_SYNC_MAX_ROWS`` rows (reading no further), else
    None (the worker counts it). A gzipped Parquet file is left to the worker too."""
    try:
        fmt = detect_format(batch.original_name)
        if fmt.kind == "parquet":
            return count_rows(batch.file.path, name=batch.original_name) if not fmt.gzipped else None
        n = count_rows(batch.file.path, name=batch.original_name, limits=import_limits(),
                       stop_after=settings.IMPORT_SYNC_MAX_ROWS)
    except LimitError as exc:
        raise ImportInputError(limit_message(exc)) from None
    except ReadError:
        return None  # the worker reports it with the import
    return None if n is not None and n > settings.IMPORT_SYNC_MAX_ROWS else n


def import_cancel(*, batch: ImportBatch) -> ImportBatch:
    """Cancel a queued import at once, or ask a running one to stop (its transaction is rolled back)."""
    if batch.status == ImportStatus.DRAFT:
        ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.DRAFT).update(status=ImportStatus.CANCELLED)
    else:
        try:
            jobs.job_cancel(batch)
        except jobs.JobStateError as exc:
            raise ImportInputError(_("This import is already %(status)s; nothing to cancel.") % {"status": exc}) \
                from None
    batch.refresh_from_db()
    return batch


def imports_reap(*, stale_after_s: float | None = None) -> dict[str, list[int]]:
    """Requeue or fail imports whose worker died, and send again imports the broker never took."""
    return jobs.jobs_reap(ImportBatch, stale_after_s=stale_after_s)


def import_file(*, catalog: Catalog, kind: str, path: str | Path, mapping: Mapping[str, str] | None = None,
                policy: str = ImportPolicy.VALID_ROWS, created_by=None, unknown_products: str | None = None,
                natural_key: bool | None = None, allow_same_file: bool = False) -> ImportBatch:
    """Upload and run a file from disk inline (management command, demo, benchmark).

    Without ``mapping`` the saved mapping and similar column names are used.
    """
    path = Path(path)
    with path.open("rb") as handle:
        batch = import_upload(catalog=catalog, kind=kind, file=File(handle, name=path.name), policy=policy,
                              created_by=created_by)
    if mapping is None:
        mapping = import_mapping_form(batch=batch, limits=import_limits())["suggested"]
    return import_start(batch=batch, mapping=mapping, run_inline=True, unknown_products=unknown_products,
                        natural_key=natural_key, allow_same_file=allow_same_file)
