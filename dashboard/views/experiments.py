"""Experiment pages: the list, creation (with the power calculation), results with the verdict, start, stop, ship."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.timezone import make_aware
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard import roles
from dashboard.experiment_charts import lift_figure, timeline_figure
from dashboard.models import (
    AuditEntry,
    Experiment,
    ExperimentMetric,
    ExperimentSurface,
    FusionConfig,
    ModelVersion,
    SearchSettings,
    Variant,
)
from dashboard.services.experiments import (
    ExperimentError,
    VariantSpec,
    experiment_create,
    experiment_results,
    experiment_ship,
    experiment_start,
    experiment_stop,
)
from dashboard.views.common import catalog_or_404, paginate

VARIANT_ROWS = 4  # variant rows on the creation form (empty rows are ignored)


@roles.viewer_required
def experiments(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    page = paginate(request, Experiment.objects.filter(catalog=cat).prefetch_related("variants"), 25)
    return render(request, "dashboard/experiments/list.html", {"catalog": cat, "page": page})


def _number(post: QueryDict, key: str, default: float, label: str) -> float:
    raw = (post.get(key) or "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ExperimentError(_("%(label)s: “%(raw)s” is not a number") % {"label": label, "raw": raw}) from None


def _when(post: QueryDict, key: str) -> dt.datetime | None:
    raw = (post.get(key) or "").strip()
    if not raw:
        return None
    value = parse_datetime(raw)
    if value is None:
        raise ExperimentError(_("schedule: “%(raw)s” is not a date and time (YYYY-MM-DD HH:MM)") % {"raw": raw})
    return make_aware(value) if value.tzinfo is None else value


def _pick(model: Any, catalog: Any, raw: str | None) -> Any:
    return model.objects.filter(catalog=catalog, pk=raw).first() if raw and raw.isdigit() else None


def variants_from_post(post: QueryDict, catalog: Any) -> list[VariantSpec]:
    """The creation form's variant rows (``variant-<i>-name``, ``-allocation``, ``-fusion_config``,
    ``-model_version``, ``-search_settings``; ``control`` = the control row's index)."""
    out = []
    for i in range(VARIANT_ROWS):
        name = (post.get(f"variant-{i}-name") or "").strip()
        if not name:
            continue
        share = _number(post, f"variant-{i}-allocation", 0.0, _("variant %(name)s traffic") % {"name": name})
        out.append(VariantSpec(name=name, allocation=share, is_control=post.get("control") == str(i),
                               fusion_config=_pick(FusionConfig, catalog, post.get(f"variant-{i}-fusion_config")),
                               model_version=_pick(ModelVersion, catalog, post.get(f"variant-{i}-model_version")),
                               search_settings=_pick(SearchSettings, catalog,
                                                     post.get(f"variant-{i}-search_settings"))))
    return out


def _create(request: HttpRequest, cat: Any) -> Experiment:
    post = request.POST
    mde = _number(post, "mde", 5.0, _("minimum detectable effect")) / 100
    return experiment_create(
        catalog=cat, name=post.get("name", ""), surface=post.get("surface", ExperimentSurface.RECOMMENDATIONS),
        variants=variants_from_post(post, cat), by=request.user,
        primary_metric=post.get("primary_metric", ExperimentMetric.CTR), guardrails=post.getlist("guardrails"),
        holdout_percent=_number(post, "holdout_percent", 0.0, _("hold-out")), mde=mde,
        baseline=_number(post, "baseline", 0.05, _("expected control value")),
        baseline_sd=_number(post, "baseline_sd", 0.0, _("standard deviation per shopper")) or None,
        attribution_hours=int(_number(post, "attribution_hours", 24, _("attribution window"))),
        starts_at=_when(post, "starts_at"), ends_at=_when(post, "ends_at"))


def _rows(values: QueryDict) -> list[dict[str, Any]]:
    """The creation form's variant rows, filled from ``values`` (the POST being corrected, or the defaults)."""
    fields = ("name", "allocation", "fusion_config", "model_version", "search_settings")
    return [{"i": i, "control": values.get("control") == str(i),
             **{f: values.get(f"variant-{i}-{f}", "") for f in fields}} for i in range(VARIANT_ROWS)]


@roles.editor_required
def experiment_new(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    error = ""
    if request.method == "POST":
        try:
            exp = _create(request, cat)
        except ExperimentError as exc:
            error = str(exc)
        else:
            messages.success(request, _("Experiment created: it needs %(n)s shoppers per variant to detect a "
                                        "%(mde)s change. Start it when ready.")
                             % {"n": f"{exp.sample_size:,}", "mde": f"{exp.mde:.1%}"})
            return redirect("dashboard:experiment_detail", catalog=cat.slug, pk=exp.pk)
    values = request.POST if request.method == "POST" else QueryDict(
        "variant-0-name=A&variant-0-allocation=50&variant-1-name=B&variant-1-allocation=50&control=0")
    return render(request, "dashboard/experiments/new.html", {
        "catalog": cat, "error": error, "values": values, "rows": _rows(values),
        "surfaces": ExperimentSurface.choices, "metrics": ExperimentMetric.choices,
        "fusion_configs": FusionConfig.objects.filter(catalog=cat).order_by("name"),
        "versions": ModelVersion.objects.filter(catalog=cat).order_by("-number")[:50],
        "search_settings": SearchSettings.objects.filter(catalog=cat).order_by("name")})


@roles.viewer_required
def experiment_detail(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    cat = catalog_or_404(catalog)
    exp = get_object_or_404(Experiment, catalog=cat, pk=pk)
    results = experiment_results(experiment=exp) if exp.started_at else None
    figures = {}
    if results is not None and results.timeline:
        names = [r.variant.name for r in results.variants]
        figures = {metric: timeline_figure(results.timeline, metric=metric, variants=names,
                                           label=str(ExperimentMetric(metric).label))
                   for metric in ExperimentMetric.values}
        figures["lift"] = lift_figure(results, label=str(ExperimentMetric(exp.primary_metric).label))
    audit = AuditEntry.objects.filter(catalog=cat, target=f"experiment {exp.key}").select_related("actor")[:20]
    return render(request, "dashboard/experiments/detail.html", {
        "catalog": cat, "experiment": exp, "results": results, "figures": figures, "audit": audit,
        "variants": exp.variants.select_related("fusion_config", "model_version", "search_settings"),
        "metrics": ExperimentMetric.values, "metric_labels": dict(ExperimentMetric.choices)})


def _act(request: HttpRequest, catalog: str, pk: int, action: Any, done: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    exp = get_object_or_404(Experiment, catalog=cat, pk=pk)
    try:
        action(exp)
    except ExperimentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("dashboard:experiment_detail", catalog=cat.slug, pk=exp.pk)


@require_POST
@roles.editor_required
def experiment_start_view(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    return _act(request, catalog, pk, lambda e: experiment_start(experiment=e, by=request.user),
                _("The experiment runs: shoppers are split between its variants now."))


@require_POST
@roles.editor_required
def experiment_stop_view(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    return _act(request, catalog, pk, lambda e: experiment_stop(experiment=e, by=request.user),
                _("The experiment is stopped: every shopper gets the catalog's defaults again."))


@require_POST
@roles.editor_required
def experiment_ship_view(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    variant = get_object_or_404(Variant, experiment_id=pk, pk=request.POST.get("variant") or 0)
    return _act(request, catalog, pk,
                lambda e: experiment_ship(experiment=e, variant=variant, by=request.user,
                                          override_reason=request.POST.get("override_reason") or None),
                _("Variant %(name)s is shipped: it now serves every shopper.") % {"name": variant.name})
