"""Reads about training: job lists and progress, versions, the launch form's signal settings."""
from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django_celery_beat.models import PeriodicTask

from dashboard.models import AuditEntry, Catalog, JobQueue, ModelVersion, TrainingJob, VersionState
from dashboard.services.bounds import MODEL_FIELDS, known_text_models, server_only
from mlcore.recommenders import REGISTRY

_FIELD_HELP = re.compile(r"``(\w+)``\s*:\s*(.+?)(?=(?:-\s*)?``\w+``\s*:|$)", re.S)


@dataclass(frozen=True)
class ConfigField:
    """One setting of a recommender's Config: ``kind`` is int, float, bool, text or choice."""

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    optional: bool = False


@dataclass(frozen=True)
class SignalForm:
    name: str
    summary: str
    fields: tuple[ConfigField, ...]


def _kind(tp: Any) -> tuple[str, tuple[str, ...], bool]:
    """(kind, choices, optional) for a dataclass field's annotation."""
    args = typing.get_args(tp)
    optional = False
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        optional = True
        rest = [a for a in args if a is not type(None)]
        tp = rest[0] if len(rest) == 1 else str
    if typing.get_origin(tp) is typing.Literal:
        return "choice", tuple(str(a) for a in typing.get_args(tp)), optional
    if tp is bool:
        return "bool", (), optional
    if tp is int:
        return "int", (), optional
    if tp is float:
        return "float", (), optional
    return "text", (), optional


def config_help(doc: str | None) -> dict[str, str]:
    """``{field: help}`` from a Config docstring's "``field``: text" passages.

    >>> config_help("- ``l2``: the ridge. ``binary``: count once.")
    {'l2': 'the ridge.', 'binary': 'count once.'}
    """
    text = " ".join((doc or "").split())
    return {m.group(1): m.group(2).strip().rstrip("-").strip() for m in _FIELD_HELP.finditer(text)}


def signal_forms(*, names: tuple[str, ...] | None = None) -> list[SignalForm]:
    """Each registered recommender's settings (simple-typed fields only), for the launch form."""
    out = []
    for name in names or tuple(sorted(REGISTRY)):
        config_cls = REGISTRY[name].Config
        hints = typing.get_type_hints(config_cls)
        helps = config_help(config_cls.__doc__)
        fields = []
        for f in dataclasses.fields(config_cls):
            kind, choices, optional = _kind(hints.get(f.name, str))
            default = f.default if f.default is not dataclasses.MISSING else None
            if server_only(name, f.name):
                continue  # a folder on the server: never typed into a form
            if f.name in MODEL_FIELDS:  # chosen from the models the server knows, never a typed path
                kind, choices = "choice", known_text_models()
            if kind == "text" and not isinstance(default, str | type(None)):
                continue  # tuples and nested configs are not edited from the form
            fields.append(ConfigField(f.name, kind, default, helps.get(f.name, ""), choices, optional))
        summary = (REGISTRY[name].__doc__ or "").strip().split("\n")[0]
        out.append(SignalForm(name, summary, tuple(fields)))
    return out


def job_list(*, catalog: Catalog) -> QuerySet[TrainingJob]:
    return (TrainingJob.objects.filter(catalog=catalog).select_related("started_by", "version")
            .defer("log", "metrics_history"))


def job_progress(*, job: TrainingJob) -> dict[str, Any]:
    """What the job page polls: status, progress, metrics, curve points, log tail."""
    version = ModelVersion.objects.filter(job=job).values_list("pk", "number").first()
    return {
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "finished": job.finished,
        "phase": job.phase,
        "done": job.progress_done,
        "total": job.progress_total,
        "percent": job.percent,
        "metrics": job.last_metrics,
        "history": job.metrics_history,
        "samples_per_s": job.samples_per_s,
        "eta_s": round(job.eta_seconds) if job.eta_seconds is not None else None,
        "device": job.device,
        "peak_memory_mb": round(job.peak_memory_mb, 1) if job.peak_memory_mb is not None else None,
        "heartbeat_at": job.heartbeat_at.isoformat() if job.heartbeat_at else None,
        "log": job.log[-5000:],
        "error": job.error,
        "cancel_requested": job.cancel_requested,
        "version": {"pk": version[0], "number": version[1]} if version else None,
    }


def version_list(*, catalog: Catalog) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(catalog=catalog).select_related("job", "promoted_by").order_by("-number")


def active_version(*, catalog: Catalog) -> ModelVersion | None:
    """The version serving the catalog now (None before the first promotion)."""
    return ModelVersion.objects.filter(catalog=catalog, state=VersionState.ACTIVE).first()


def audit_list(*, catalog: Catalog, limit: int = 20) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(catalog=catalog).select_related("actor")[:limit])


def schedule_name(catalog: Catalog) -> str:
    """The celery beat task name of the catalog's retraining schedule."""
    return f"retrain:{catalog.slug}"


def training_schedule_get(*, catalog: Catalog) -> dict[str, Any] | None:
    """The catalog's schedule as ``{"cron", "params", "queue", "auto_promote", "last_run_at"}``, or None."""
    task = PeriodicTask.objects.select_related("crontab").filter(name=schedule_name(catalog)).first()
    if task is None or task.crontab is None:
        return None
    c = task.crontab
    kwargs = json.loads(task.kwargs or "{}")
    return {"cron": f"{c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week}",
            "params": kwargs.get("params", {}), "queue": kwargs.get("queue", JobQueue.CPU),
            "auto_promote": kwargs.get("auto_promote", True), "last_run_at": task.last_run_at}
