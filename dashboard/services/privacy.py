"""One shopper's data: export it as JSON, erase it everywhere, and the optional retention period.

Where a shopper's data lives, and what :func:`shopper_erase` does to each copy:

- the database: the shopper row, their events (search logs are events of type ``search``) and the lists
  served to them (impressions) — deleted in one transaction;
- the online state (recent items, trending counts): :mod:`dashboard.services.online_state`'s
  ``erase_shopper(catalog, external_id)`` when that service offers one (the hook :data:`ONLINE_ERASE`);
- training snapshots (``ARTIFACTS_DIR/jobs/<id>/*.parquet``): rewritten without the shopper's rows;
- model bundles: a bundle's seen lists are fitted arrays, so the shopper leaves them at the next training
  (whose snapshot no longer has them); until then the shopper's id is gone from every table that serving
  reads for history;
- raw uploads and import error reports: files of the catalog's event imports that mention the id are
  deleted (the rows they held were imported, or rejected, long ago; the import keeps its counts).

The audit entry names the shopper by pseudonym only, so the log does not keep the id it erased.
"""
from __future__ import annotations

import datetime as dt
import gzip
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dashboard.models import Catalog, Event, ImportBatch, ImportKind, Impression, Shopper, TrainingJob
from dashboard.services import access
from dashboard.services.audit import audit

log = logging.getLogger(__name__)
ONLINE_ERASE = "erase_shopper"  # the online-state function that forgets one shopper, when it exists
SNAPSHOT_FILES = ("events.parquet", "searches.parquet")
CHUNK = 1 << 20


class ShopperNotFound(LookupError):
    """No data for this shopper id in this catalog."""


def _event_row(e: Event) -> dict[str, Any]:
    return {"type": e.type, "product": e.product.external_id if e.product else None, "query": e.query,
            "quantity": e.quantity, "value": str(e.value) if e.value is not None else None,
            "timestamp": e.timestamp.isoformat(), "session_id": e.session_id, "event_id": e.event_id,
            "request_id": e.request_id}


def shopper_export(*, catalog: Catalog, external_id: str, by: Any = None, via: str = "") -> dict[str, Any]:
    """Everything stored about one shopper, as JSON-ready data: ``{"shopper", "events", "searches",
    "impressions", "profile", "exported_at"}``. :class:`ShopperNotFound` when nothing is stored."""
    access.require(by, catalog, "admin")
    shopper = Shopper.objects.filter(catalog=catalog, external_id=external_id).first()
    impressions = Impression.objects.filter(catalog=catalog, shopper_id=external_id).order_by("created_at")
    if shopper is None and not impressions.exists():
        raise ShopperNotFound(f"no shopper “{external_id}” in catalog {catalog.slug}")
    events = list(shopper.events.select_related("product").order_by("timestamp", "pk")) if shopper else []
    profile: dict[str, Any] = {}
    if shopper is not None:
        from dashboard.services.insights import shopper_profile

        try:
            profile = _plain(shopper_profile(catalog=catalog, shopper=shopper))
        except Exception as exc:  # the profile is inferred; the stored data above is the export's substance
            profile = {"error": f"{type(exc).__name__}"}
    out = {
        "catalog": catalog.slug,
        "shopper": {"id": external_id, "first_seen": shopper.created_at.isoformat() if shopper else None},
        "events": [_event_row(e) for e in events],
        "searches": [{"query": e.query, "timestamp": e.timestamp.isoformat()} for e in events if e.query],
        "impressions": [{"request_id": str(i.request_id), "surface": i.surface, "items": i.items,
                         "session_id": i.session_id, "model_version": i.model_version,
                         "served_at": i.created_at.isoformat()} for i in impressions],
        "profile": profile,
        "exported_at": timezone.now().isoformat(),
    }
    audit(actor=by, action="shopper.export", catalog=catalog, target=access.pseudonym(catalog.pk, external_id),
          detail={"events": len(out["events"]), "impressions": len(out["impressions"]), "via": via})
    return out


def _plain(value: Any) -> Any:
    """``value`` with dates and other objects turned into JSON-ready text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def shopper_erase(*, catalog: Catalog, external_id: str, by: Any = None, via: str = "") -> dict[str, int]:
    """Erase one shopper everywhere (see the module doc); returns what was removed, per place. ``via``: how it
    was asked for (the dashboard, ``api token <prefix>``, the command), for the audit."""
    access.require(by, catalog, "admin")
    with transaction.atomic():
        shopper = Shopper.objects.select_for_update().filter(catalog=catalog, external_id=external_id).first()
        events = Event.objects.filter(catalog=catalog, shopper=shopper).delete()[0] if shopper else 0
        impressions = Impression.objects.filter(catalog=catalog, shopper_id=external_id).delete()[0]
        if shopper is not None:
            shopper.delete()
    counts = {"shopper": int(shopper is not None), "events": events, "impressions": impressions,
              "online_state": _erase_online(catalog, external_id),
              "snapshot_rows": erase_from_snapshots(catalog=catalog, external_id=external_id),
              "upload_files": erase_from_uploads(catalog=catalog, external_id=external_id)}
    audit(actor=by, action="shopper.erase", catalog=catalog, target=access.pseudonym(catalog.pk, external_id),
          detail={**counts, "via": via})
    return counts


def _erase_online(catalog: Catalog, external_id: str) -> int:
    """The online state's copy (1 when it was asked to forget the shopper, 0 when it offers no way yet)."""
    from dashboard.services import online_state

    erase = getattr(online_state, ONLINE_ERASE, None)
    if erase is None:
        log.warning("the online state offers no %s(): shopper history there expires with its windows", ONLINE_ERASE)
        return 0
    erase(catalog, external_id)
    return 1


def _write_private(frame: pd.DataFrame, path: Path) -> None:
    """Replace ``path`` atomically with ``frame`` as Parquet, mode 0600."""
    tmp = path.with_suffix(path.suffix + ".erasing")
    frame.to_parquet(tmp, index=False)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def erase_from_snapshots(*, catalog: Catalog, external_id: str) -> int:
    """Rewrite the catalog's training snapshots without the shopper's rows; the number of rows removed."""
    removed = 0
    root = Path(settings.ARTIFACTS_DIR) / "jobs"
    for job_id in TrainingJob.objects.filter(catalog=catalog).values_list("pk", flat=True):
        for name in SNAPSHOT_FILES:
            path = root / str(job_id) / name
            if not path.exists():
                continue
            frame = pd.read_parquet(path)
            if "user_id" not in frame.columns:
                continue
            keep = frame["user_id"].astype("string") != external_id
            keep = keep.fillna(True)
            if not keep.all():
                removed += int((~keep).sum())
                _write_private(frame[keep.to_numpy()], path)
    return removed


def _text_chunks(path: Path) -> Iterator[str]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as handle:  # type: ignore[operator]
        tail = ""
        while chunk := handle.read(CHUNK):
            text = tail + chunk.decode("utf-8", errors="replace")
            yield text
            tail = text[-400:]


def file_mentions(path: Path, external_id: str) -> bool:
    """Whether the file holds ``external_id`` as a whole value (not inside a longer id), read in chunks."""
    if path.suffix == ".parquet" or path.name.endswith(".parquet.gz"):
        try:
            frame = pd.read_parquet(path)
        except Exception:  # unreadable: it cannot be told apart, so it counts as mentioning the shopper
            return True
        return any(frame[c].astype("string").eq(external_id).any() for c in frame.columns
                   if frame[c].dtype == object or str(frame[c].dtype).startswith("string"))
    pattern = re.compile(rf"(?<![\w.-]){re.escape(external_id)}(?![\w.-])")
    try:
        return any(pattern.search(text) for text in _text_chunks(path))
    except (OSError, EOFError):
        return True


def erase_from_uploads(*, catalog: Catalog, external_id: str) -> int:
    """Delete the raw event uploads and error reports of finished imports that mention the shopper."""
    removed = 0
    for batch in ImportBatch.objects.filter(catalog=catalog, kind=ImportKind.EVENTS).exclude(
            status__in=["queued", "running", "draft"]):
        for field in ("file", "error_report"):
            stored = getattr(batch, field)
            if not stored or not stored.name:
                continue
            path = Path(stored.path)
            if path.exists() and file_mentions(path, external_id):
                path.unlink()
                setattr(batch, field, "")
                batch.save(update_fields=[field])
                removed += 1
    return removed


def retention_apply(*, days: int | None = None, now: Any = None) -> dict[str, int]:
    """Delete raw events and uploaded files older than ``days`` (default ``settings.RETENTION_DAYS``; 0 or
    less: nothing). Returns what was removed."""
    days = settings.RETENTION_DAYS if days is None else days
    if not days or days <= 0:
        return {"events": 0, "upload_files": 0}
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    events = Event.objects.filter(timestamp__lt=cutoff).delete()[0]
    files = 0
    for batch in ImportBatch.objects.filter(created_at__lt=cutoff).exclude(status__in=["queued", "running"]):
        for field in ("file", "error_report"):
            stored = getattr(batch, field)
            if stored and stored.name:
                Path(stored.path).unlink(missing_ok=True)
                setattr(batch, field, "")
                batch.save(update_fields=[field])
                files += 1
    audit(actor=None, action="privacy.retention", catalog=None, target=f"older than {days} days",
          detail={"events": events, "upload_files": files})
    return {"events": events, "upload_files": files}
