"""Imports of product and event files: upload, map columns, run.

1. :func:`import_upload` stores the file as a draft :class:`ImportBatch` after checking
   its type, size (``settings.IMPORT_MAX_MB``) and that a header and data can be read.
2. :func:`import_start` checks the column mapping ``{file column: field}``, saves it as the
   catalog's :class:`ColumnMapping` for next time, and runs the import inline (files up
   to ``settings.IMPORT_SYNC_MAX_ROWS`` rows) or queues the Celery task ``dashboard.import_run``
   after the transaction commits.
3. :func:`import_run` validates every row (progress saved as it goes, in autocommit),
   then writes everything in ONE transaction: a crash leaves nothing half-written.
   Policy ``valid_rows`` writes the valid rows and reports the rest; ``all_or_nothing``
   writes nothing when any row is bad.

Online Retail: rows without CustomerID are imported as anonymous events (no shopper;
the session id is the invoice number); negative quantities (the "C" cancellation
invoices) become ``return`` events with a positive quantity.
"""
from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard.models import Catalog, ColumnMapping, ImportBatch, ImportKind, ImportPolicy, ImportStatus
from dashboard.selectors.imports import import_mapping_form
from dashboard.services.import_validate import build_plan
from dashboard.services.import_write import use_copy, write_plan
from mlcore.data.readers import ReadError, count_rows, detect_format, preview
from mlcore.data.validate import FIELDS, missing_required, write_error_report

log = logging.getLogger(__name__)
SHOWN_ERRORS = 200
TASK_NAME = "dashboard.import_run"


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
        preview(batch.file.path, name=name)
    except ReadError as exc:
        batch.file.delete(save=False)
        raise ImportInputError(str(exc)) from None
    batch.save()
    return batch


def _clean_mapping(batch: ImportBatch, mapping: Mapping[str, str]) -> dict[str, str]:
    columns, _rows = preview(batch.file.path, name=batch.original_name)
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
                 run_inline: bool | None = None) -> ImportBatch:
    """Check and save ``mapping``, then run (small files, or ``run_inline``) or queue the import."""
    if batch.status != ImportStatus.DRAFT:
        raise ImportInputError(_("This import has already been started."))
    clean = _clean_mapping(batch, mapping)
    ColumnMapping.objects.update_or_create(catalog=batch.catalog, kind=batch.kind, defaults={"mapping": clean})
    batch.mapping = clean
    batch.policy = policy or batch.policy
    batch.status = ImportStatus.QUEUED
    batch.rows_total = count_rows(batch.file.path, name=batch.original_name)
    batch.save()
    if run_inline is None:
        run_inline = batch.rows_total is not None and batch.rows_total <= settings.IMPORT_SYNC_MAX_ROWS
    if run_inline:
        import_run(batch=batch)
    else:
        batch_id = batch.pk
        transaction.on_commit(lambda: current_app.send_task(TASK_NAME, args=[batch_id]))
    return batch


def import_file(*, catalog: Catalog, kind: str, path: str | Path, mapping: Mapping[str, str] | None = None,
                policy: str = ImportPolicy.VALID_ROWS, created_by=None) -> ImportBatch:
    """Upload and run a file from disk inline (management command, demo, benchmark).

    Without ``mapping`` the saved mapping and similar column names are used.
    """
    path = Path(path)
    with path.open("rb") as handle:
        batch = import_upload(catalog=catalog, kind=kind, file=File(handle, name=path.name), policy=policy,
                              created_by=created_by)
    if mapping is None:
        mapping = import_mapping_form(batch=batch)["suggested"]
    return import_start(batch=batch, mapping=mapping, run_inline=True)


def _progress(batch: ImportBatch, **fields) -> None:
    for key, value in fields.items():
        setattr(batch, key, value)
    ImportBatch.objects.filter(pk=batch.pk).update(**fields)


def _fail(batch: ImportBatch, message: str) -> ImportBatch:
    _progress(batch, status=ImportStatus.FAILED, phase="", error_message=message, finished_at=timezone.now())
    return batch


def import_run(*, batch: ImportBatch) -> ImportBatch:
    """Validate then write ``batch`` (see the module docstring). Never raises for bad data."""
    if batch.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return batch
    started = time.monotonic()
    _progress(batch, status=ImportStatus.RUNNING, phase="validating", started_at=timezone.now(), rows_done=0)
    last = [0.0]

    def on_progress(done: int) -> None:
        if time.monotonic() - last[0] > 0.5:
            last[0] = time.monotonic()
            _progress(batch, rows_done=done)

    try:
        plan = build_plan(catalog=batch.catalog, kind=batch.kind, path=Path(batch.file.path),
                          name=batch.original_name, mapping=batch.mapping, on_progress=on_progress)
    except ReadError as exc:
        return _fail(batch, str(exc))
    except Exception as exc:
        log.exception("import %s failed while validating", batch.pk)
        return _fail(batch, _("Unexpected error while reading the file: %(error)s") % {"error": exc})
    _progress(batch, rows_done=plan.rows_read, rows_total=plan.rows_read, rows_rejected=plan.rejected_rows,
              rows_duplicate=plan.duplicates, errors=[_error_dict(e) for e in plan.errors[:SHOWN_ERRORS]])
    if plan.errors:
        _save_report(batch, plan.errors)
    if plan.errors and batch.policy == ImportPolicy.ALL_OR_NOTHING:
        return _fail(batch, _("%(n)d row(s) have errors, so nothing was imported (all-or-nothing). Fix them using "
                              "the error report and upload again, or choose “import valid rows”.")
                     % {"n": plan.rejected_rows})
    _progress(batch, phase="writing", rows_done=0)
    side, on_write = _write_progress(batch)
    try:
        with transaction.atomic():
            counts = write_plan(plan=plan, catalog=batch.catalog, batch=batch, on_progress=on_write)
            # Same transaction: a worker that dies after the commit cannot leave a batch that
            # looks unfinished and would be run (and its events written) a second time.
            _progress(batch, status=ImportStatus.SUCCEEDED, phase="", finished_at=timezone.now(), rows_done=plan.rows_read,
                      rows_imported=counts.rows_imported, rows_duplicate=plan.duplicates + counts.duplicates,
                      products_created=counts.products_created, products_updated=counts.products_updated,
                      shoppers_created=counts.shoppers_created)
            if counts.products_created:
                transaction.on_commit(_search_add_hook(batch.catalog_id))
    except Exception as exc:
        log.exception("import %s failed while writing", batch.pk)
        batch.refresh_from_db()
        return _fail(batch, _("Nothing was imported: the database write failed (%(error)s).") % {"error": exc})
    finally:
        if side is not None:
            side.close()
    log.info("import %s: %d rows in %.1f s", batch.pk, plan.rows_read, time.monotonic() - started)
    return batch


def _search_add_hook(catalog_id: int) -> Callable[[], None]:
    """After the commit: a worker adds the new products to the active search index (seconds; no retraining).
    Queued, never done here: a small import runs inside a web request, which must not encode products."""
    def hook() -> None:
        from dashboard.services.search_index import index_catch_up_later

        index_catch_up_later(catalog_id=catalog_id)

    return hook


def _write_progress(batch: ImportBatch):
    """(connection, callback) saving rows written through a second connection, so the progress shows
    while the write transaction is still open. PostgreSQL only: SQLite would wait for its own lock."""
    if not use_copy():
        return None, None
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    sql = f"UPDATE {ImportBatch._meta.db_table} SET rows_done = %s WHERE id = %s"
    last = [0.0]

    def update(done: int) -> None:
        if time.monotonic() - last[0] > 0.5:
            last[0] = time.monotonic()
            with side.cursor() as cursor:
                cursor.execute(sql, [done, batch.pk])

    return side, update


def _error_dict(e) -> dict:
    return {"row": e.row, "field": e.field, "column": e.column, "value": e.value[:200], "problem": e.problem}


def _save_report(batch: ImportBatch, errors) -> None:
    buffer = io.StringIO()
    write_error_report(errors, buffer)
    batch.error_report.save(f"import-{batch.pk}-errors.csv", ContentFile(buffer.getvalue().encode()), save=False)
    ImportBatch.objects.filter(pk=batch.pk).update(error_report=batch.error_report.name)
