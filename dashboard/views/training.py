"""Training pages: jobs (list, launch, live progress, cancel) and model versions (charts, promote, roll back)."""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard import charts, roles
from dashboard.models import Catalog, JobQueue, ModelVersion, TrainingJob, VersionState
from dashboard.selectors.training import (
    ConfigField,
    active_version,
    audit_list,
    job_list,
    job_progress,
    signal_forms,
    training_schedule_get,
    version_list,
)
from dashboard.services.access import for_viewer
from dashboard.services.training import TrainingInputError, training_job_cancel, training_job_start
from dashboard.services.training_schedules import training_schedule_clear, training_schedule_set
from dashboard.services.training_snapshot import DEFAULT_SPLIT, SPLIT_KINDS
from dashboard.services.versions import PromotionError, version_promote, version_rollback
from dashboard.views.common import catalog_or_404, paginate

DEFAULT_SIGNALS = ("popularity", "item_knn", "ease")
SPLIT_FIELDS = ("test_days", "validation_days", "n", "validation_n", "seed", "train", "validation", "test")



def _value(field: ConfigField, raw: str | None) -> Any:
    """A form value converted to the field's type; ValueError names the field."""
    if field.kind == "bool":
        return raw is not None
    raw = (raw or "").strip()
    if raw == "" and field.optional:
        return None
    try:
        if field.kind == "int":
            return int(raw)
        if field.kind == "float":
            return float(raw)
    except ValueError:
        raise ValueError(_("“%(value)s” is not a number") % {"value": raw}) from None
    if field.kind == "choice" and raw not in field.choices:
        raise ValueError(_("choose one of %(choices)s") % {"choices": ", ".join(field.choices)})
    return raw


def params_from_post(post: Any) -> tuple[dict[str, Any], str]:
    """(params, queue) from the launch form's POST; ValueError names the bad setting."""
    chosen = post.getlist("signal")
    configs: dict[str, dict[str, Any]] = {}
    for form in signal_forms(names=tuple(n for n in chosen if n in {f.name for f in signal_forms()})):
        for field in form.fields:
            key = f"cfg-{form.name}-{field.name}"
            if key not in post and field.kind != "bool":
                continue
            try:
                value = _value(field, post.get(key))
            except ValueError as exc:
                raise ValueError(f"{form.name} · {field.name}: {exc}") from None
            if value != field.default:
                configs.setdefault(form.name, {})[field.name] = value
    split: dict[str, Any] = {"kind": post.get("split_kind", DEFAULT_SPLIT["kind"])}
    split.update({k: post[f"split-{k}"] for k in SPLIT_FIELDS if post.get(f"split-{k}", "").strip()})
    params: dict[str, Any] = {"signals": chosen, "configs": configs, "split": split}
    if post.get("processes", "").strip():  # > 1: DistributedDataParallel (the service checks the number)
        params["processes"] = post["processes"].strip()
    return params, post.get("queue", "auto")


@roles.viewer_required
def jobs(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    page = paginate(request, job_list(catalog=cat), 25)
    schedule = training_schedule_get(catalog=cat)
    scheduled = set(schedule["params"].get("signals", [])) if schedule else set(DEFAULT_SIGNALS)
    return render(request, "dashboard/training/jobs.html", {
        "catalog": cat, "page": page, "audit": audit_list(catalog=cat), "schedule": schedule,
        "schedule_signals": [(f.name, f.name in scheduled) for f in signal_forms()],
    })


@require_POST
@roles.editor_required
def job_schedule(request: HttpRequest, catalog: str) -> HttpResponse:
    """Set (``cron``, ``signal``, ``auto_promote``) or clear (``clear``) the retraining schedule."""
    cat = catalog_or_404(catalog)
    if "clear" in request.POST:
        training_schedule_clear(catalog=cat, by=request.user)
        messages.info(request, _("The retraining schedule is removed."))
        return redirect("dashboard:jobs", catalog=cat.slug)
    params = {"signals": request.POST.getlist("signal"), "split": DEFAULT_SPLIT}
    try:
        training_schedule_set(catalog=cat, cron=request.POST.get("cron", ""), params=params, by=request.user,
                              auto_promote="auto_promote" in request.POST)
    except TrainingInputError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The retraining schedule is saved."))
    return redirect("dashboard:jobs", catalog=cat.slug)


@roles.editor_required
def job_new(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    error = ""
    posted = request.POST if request.method == "POST" else None
    if posted is not None:
        try:
            params, queue = params_from_post(posted)
            job = training_job_start(catalog=cat, params=params, started_by=request.user, queue=queue)
        except (TrainingInputError, ValueError) as exc:
            error = str(exc)
        else:
            messages.success(request, _("Training job %(n)d is queued.") % {"n": job.pk})
            return redirect("dashboard:job_detail", catalog=cat.slug, pk=job.pk)
    chosen = set(posted.getlist("signal")) if posted is not None else set(DEFAULT_SIGNALS)
    forms = [
        {"name": f.name, "summary": f.summary, "checked": f.name in chosen,
         "fields": [{"field": fld, "key": f"cfg-{f.name}-{fld.name}",
                     "value": posted.get(f"cfg-{f.name}-{fld.name}") if posted is not None else fld.default}
                    for fld in f.fields]}
        for f in signal_forms()
    ]
    split = {k: (posted.get(f"split-{k}") if posted is not None else None) for k in SPLIT_FIELDS}
    return render(request, "dashboard/training/job_new.html", {
        "catalog": cat, "forms": forms, "error": error, "split_kinds": SPLIT_KINDS,
        "split_kind": posted.get("split_kind") if posted is not None else DEFAULT_SPLIT["kind"],
        "split": split, "queues": [("auto", _("Automatic (GPU when a GPU worker runs)")), *JobQueue.choices],
    })


def _readable(progress: dict[str, Any], request: HttpRequest, cat: Catalog) -> dict[str, Any]:
    """The job's error and log without tracebacks and server paths, unless the viewer is an admin."""
    for key in ("error", "log"):
        progress[key] = for_viewer(request.user, cat, progress[key])
    return progress


def _job(catalog: str, pk: int) -> tuple[Catalog, TrainingJob]:
    cat = catalog_or_404(catalog)
    return cat, get_object_or_404(TrainingJob.objects.select_related("catalog", "started_by"), catalog=cat, pk=pk)


@roles.viewer_required
def job_detail(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    cat, job = _job(catalog, pk)
    progress = _readable(job_progress(job=job), request, cat)
    job.error, job.log = progress["error"], progress["log"]  # what this viewer may read (tracebacks: admins)
    return render(request, "dashboard/training/job_detail.html", {
        "catalog": cat, "job": job, "progress": progress, "figure": charts.job_curve_figure(job.metrics_history),
    })


@roles.viewer_required
def job_progress_json(request: HttpRequest, catalog: str, pk: int) -> JsonResponse:
    cat, job = _job(catalog, pk)
    data = _readable(job_progress(job=job), request, cat)
    data["figure"] = charts.job_curve_figure(job.metrics_history)
    return JsonResponse(data)


@require_POST
@roles.editor_required
def job_cancel(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    cat, job = _job(catalog, pk)
    try:
        training_job_cancel(job=job, by=request.user)
    except TrainingInputError as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, _("Cancelling: the job stops at its next safe point, within seconds."))
    return redirect("dashboard:job_detail", catalog=cat.slug, pk=job.pk)


@roles.viewer_required
def versions(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    page = paginate(request, version_list(catalog=cat), 25)
    return render(request, "dashboard/training/versions.html",
                  {"catalog": cat, "page": page, "active": active_version(catalog=cat)})


def _version(catalog: str, pk: int) -> tuple[Catalog, ModelVersion]:
    cat = catalog_or_404(catalog)
    return cat, get_object_or_404(ModelVersion.objects.select_related("job", "promoted_by"), catalog=cat, pk=pk)


@roles.viewer_required
def version_detail(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    cat, version = _version(catalog, pk)
    report_row = getattr(version, "report", None)
    report = report_row.report if report_row else {}
    figures = {
        "fig-metrics": charts.metrics_at_k_figure(report),
        "fig-exclude-seen": charts.metrics_at_k_figure(report, slice="exclude_seen"),
        "fig-cold-start": charts.metrics_at_k_figure(report, slice="cold_start"),
        "fig-ablation": charts.ablation_figure(report),
        "fig-beyond": charts.beyond_accuracy_figure(report),
    }
    if version.job is not None and version.job.metrics_history:
        figures["fig-curves"] = charts.job_curve_figure(version.job.metrics_history)
    active = active_version(catalog=cat)
    by = report.get("metrics", {}).get("all", {})
    columns = [m for m in next(iter(by.values()), {}) if m.endswith("@10")]
    rows = [(name, [values.get(m) for m in columns]) for name, values in by.items()]
    others = version_list(catalog=cat).exclude(pk=version.pk)
    raw = request.GET.get("compare", "")
    compare = others.filter(pk=int(raw)).first() if raw.isdigit() else None
    compare_rows = []
    if compare is not None:
        for key in sorted(set(version.metrics) & set(compare.metrics) - {"scorer"}):
            a, b = version.metrics[key], compare.metrics[key]
            compare_rows.append((key, a, b, a - b))
    return render(request, "dashboard/training/version_detail.html", {
        "catalog": cat, "version": version, "report": report, "figures": figures, "active": active,
        "columns": columns, "rows": rows, "others": others, "compare": compare, "compare_rows": compare_rows,
        "can_rollback": active is not None and version.number < active.number,
        "can_promote": version.state != VersionState.ACTIVE and (active is None or version.number > active.number),
        "is_admin": roles.is_admin(request.user),
    })


@require_POST
@roles.editor_required
def version_promote_view(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    cat, version = _version(catalog, pk)
    try:
        version_promote(version=version, by=request.user, override_reason=request.POST.get("override_reason"))
    except PromotionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Version %(n)d is now active.") % {"n": version.number})
    return redirect("dashboard:version_detail", catalog=cat.slug, pk=version.pk)


@require_POST
@roles.editor_required
def version_rollback_view(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    cat, version = _version(catalog, pk)
    try:
        version_rollback(catalog=cat, to_version=version, by=request.user)
    except PromotionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Rolled back: version %(n)d is active again.") % {"n": version.number})
    return redirect("dashboard:version_detail", catalog=cat.slug, pk=version.pk)
