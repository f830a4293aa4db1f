"""The worker side of an import: claim, check the limits, stream the file into one transaction, finish.

:func:`import_run` claims the batch through the job lifecycle (:mod:`dashboard.services.jobs`: row
lock, attempt limit ``settings.IMPORT_MAX_ATTEMPTS``, heartbeat; the reaper requeues or fails an import
whose worker died), then

1. *checking*: one pass over the bytes counts the rows for the progress bar and refuses a file that
   crosses a limit (decompressed size, line length, columns, rows) before anything is written;
2. *importing*: the file is read in bounded chunks (:func:`~dashboard.services.import_validate.iter_plans`);
   each chunk is validated and written before the next is read, all inside ONE transaction, so memory
   stays one chunk and a crash, a cancel or an all-or-nothing refusal leaves nothing written. Rejected
   rows stream into the error report (the first ones are kept on the batch for display).

The batch finishes *succeeded*, *finished with rejected rows* (``partial``), *failed* or *cancelled*.
"""
from __future__ import annotations

import io
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard.models import ImportBatch, ImportPolicy, ImportStatus
from dashboard.services import jobs
from dashboard.services.import_validate import import_limits, iter_plans, limit_message
from dashboard.services.import_write import WriteCounts, use_copy, write_plan
from mlcore.data.read_limits import LimitError
from mlcore.data.readers import ReadError, count_rows
from mlcore.data.validate import RowError, write_error_report

log = logging.getLogger(__name__)
TASK_NAME = "dashboard.import_run"
SHOWN_ERRORS = 200
SHOWN_CREATED = 1000

import_task_kind = jobs.register(jobs.JobKind(
    model=ImportBatch, task=TASK_NAME, error_field="error_message",
    max_attempts=lambda: int(getattr(settings, "IMPORT_MAX_ATTEMPTS", 2)),
))


class _Cancelled(Exception):
    pass


class _Refused(Exception):
    pass


def _progress(batch: ImportBatch, **fields) -> None:
    for key, value in fields.items():
        setattr(batch, key, value)
    ImportBatch.objects.filter(pk=batch.pk).update(**fields)


def _fail(batch: ImportBatch, message: str, status: str = ImportStatus.FAILED) -> ImportBatch:
    _progress(batch, status=status, phase="", error_message=message, finished_at=timezone.now())
    return batch


def import_run(*, batch: ImportBatch) -> ImportBatch:
    """Run the queued ``batch`` (see the module docstring); never raises for bad data. A batch that is
    not queued (running in another worker, finished, cancelled) is returned as it is."""
    claimed = jobs.job_claim(ImportBatch, batch.pk,
                             prepare=lambda b: {"phase": "checking", "rows_done": 0, "error_message": ""})
    if claimed is None:
        batch.refresh_from_db()
        return batch
    with jobs.JobHeartbeat(ImportBatch, claimed.pk, float(getattr(settings, "TRAINING_HEARTBEAT_S", 10.0))):
        _run(claimed)
    batch.refresh_from_db()  # the caller's instance shows the outcome
    return batch


class _Report:
    """Rejected rows: the first :data:`SHOWN_ERRORS` in memory, all of them streamed to a CSV file."""

    def __init__(self) -> None:
        self.shown: list[dict] = []
        self.count = 0
        self.rows = 0
        self._file: tempfile._TemporaryFileWrapper | None = None

    def add(self, errors: list[RowError]) -> None:
        if not errors:
            return
        self.count += len(errors)
        self.rows += len({e.row for e in errors})
        room = SHOWN_ERRORS - len(self.shown)
        self.shown += [_error_dict(e) for e in errors[:max(room, 0)]]
        if self._file is None:
            self._file = tempfile.NamedTemporaryFile("w+", encoding="utf-8", newline="", suffix=".csv")  # noqa: SIM115
            write_error_report(errors, self._file)
        else:
            csv_rows = io.StringIO()
            write_error_report(errors, csv_rows)
            self._file.write(csv_rows.getvalue().split("\r\n", 1)[1])

    def save(self, batch: ImportBatch) -> None:
        if self._file is None:
            return
        self._file.flush()
        with open(self._file.name, "rb") as handle:
            batch.error_report.save(f"import-{batch.pk}-errors.csv", File(handle), save=False)
        ImportBatch.objects.filter(pk=batch.pk).update(error_report=batch.error_report.name)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _run(batch: ImportBatch) -> ImportBatch:
    started = time.monotonic()
    limits = import_limits()
    path, name = Path(batch.file.path), batch.original_name
    try:
        total = count_rows(path, name=name, limits=limits)
    except LimitError as exc:
        return _fail(batch, _("Nothing was imported: %(error)s") % {"error": limit_message(exc)})
    _progress(batch, rows_total=total, phase="importing", heartbeat_at=timezone.now())
    report = _Report()
    counts = WriteCounts()
    read = duplicates = 0
    side, on_progress = _side_progress(batch)
    try:
        with transaction.atomic():
            for plan in iter_plans(catalog=batch.catalog, kind=batch.kind, path=path, name=name,
                                   mapping=batch.mapping, limits=limits, natural_key=batch.natural_key,
                                   unknown_products=batch.unknown_products):
                report.add(plan.errors)
                duplicates += plan.duplicates
                if not (batch.policy == ImportPolicy.ALL_OR_NOTHING and report.count):
                    counts.add(write_plan(plan=plan, catalog=batch.catalog, batch=batch))
                read += plan.rows_read
                on_progress(read)
                if jobs.cancel_requested(batch):
                    raise _Cancelled
            if batch.policy == ImportPolicy.ALL_OR_NOTHING and report.count:
                raise _Refused
            status = ImportStatus.PARTIAL if report.count else ImportStatus.SUCCEEDED
            # Same transaction: a worker that dies after the commit cannot leave a batch that
            # looks unfinished and would be run (and its events written) a second time.
            _progress(batch, status=status, phase="", finished_at=timezone.now(), rows_done=read, rows_total=read,
                      rows_imported=counts.rows_imported, rows_rejected=report.rows,
                      rows_duplicate=duplicates + counts.duplicates, errors=report.shown,
                      products_created=counts.products_created, products_updated=counts.products_updated,
                      shoppers_created=counts.shoppers_created, created_products=counts.created_ids[:SHOWN_CREATED])
            report.save(batch)
            if counts.products_created:
                transaction.on_commit(_search_add_hook(batch.catalog_id))
    except _Refused:
        _progress(batch, rows_done=read, rows_total=read, rows_rejected=report.rows, errors=report.shown)
        report.save(batch)
        return _fail(batch, _("%(n)d row(s) have errors, so nothing was imported (all-or-nothing). Fix them using "
                              "the error report and upload again, or choose “import valid rows”.")
                     % {"n": report.rows})
    except _Cancelled:
        return _fail(batch, _("Cancelled: nothing was imported."), status=ImportStatus.CANCELLED)
    except LimitError as exc:
        return _fail(batch, _("Nothing was imported: %(error)s") % {"error": limit_message(exc)})
    except ReadError as exc:
        return _fail(batch, _("Nothing was imported: %(error)s") % {"error": exc})
    except Exception as exc:
        log.exception("import %s failed", batch.pk)
        return _fail(batch, _("Nothing was imported: the import failed (%(error)s).") % {"error": exc})
    finally:
        report.close()
        if side is not None:
            side.close()
    log.info("import %s: %d rows in %.1f s", batch.pk, read, time.monotonic() - started)
    return batch


def _search_add_hook(catalog_id: int) -> Callable[[], None]:
    """After the commit: a worker adds the new products to the active search index (seconds; no retraining).
    Queued, never done here: a small import runs inside a web request, which must not encode products."""
    def hook() -> None:
        from dashboard.services.search_index import index_catch_up_later

        index_catch_up_later(catalog_id=catalog_id)

    return hook


def _side_progress(batch: ImportBatch):
    """(connection, callback) saving rows done (and the heartbeat) through a second connection, so the
    progress shows while the write transaction is still open. PostgreSQL only: SQLite would wait for its
    own lock, so there the callback does nothing."""
    if not use_copy():
        return None, lambda done: None
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    sql = f"UPDATE {ImportBatch._meta.db_table} SET rows_done = %s, heartbeat_at = %s WHERE id = %s"
    last = [0.0]

    def update(done: int) -> None:
        if time.monotonic() - last[0] > 0.5:
            last[0] = time.monotonic()
            with side.cursor() as cursor:
                cursor.execute(sql, [done, timezone.now(), batch.pk])

    return side, update


def _error_dict(e: RowError) -> dict:
    return {"row": e.row, "field": e.field, "column": e.column, "value": e.value[:200], "problem": e.problem}


__all__ = ["TASK_NAME", "import_run", "import_task_kind"]
