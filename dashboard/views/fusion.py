"""Fusion pages: configs (list, create, edit with history) and the live preview's JSON endpoints."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dashboard import roles
from dashboard.charts import signal_colour
from dashboard.models import AutoTuneRun, Catalog, Fallback, FusionConfig, FusionMode
from dashboard.selectors.fusion import (
    editor_signals,
    fusion_config_default,
    fusion_config_list,
    fusion_revisions,
)
from dashboard.selectors.training import active_version
from dashboard.services.autotune import (
    AutoTuneError,
    accepted_weights,
    autotune_accept,
    autotune_dismiss,
    autotune_latest,
    autotune_progress,
    autotune_start,
    proposal_rows,
)
from dashboard.services.fusion import (
    RULE_CHOICES,
    FusionConfigError,
    config_settings,
    fusion_config_create,
    fusion_config_update,
    version_has_learned,
)
from dashboard.services.preview import preview_compare, random_active_shopper
from dashboard.services.serving import ServingError
from dashboard.views.common import catalog_or_404
from mlcore.fusion import NORMALIZATIONS

# Parts of a preview bar that are not sliders: the page's context item, the learned ranker's base and context
# features, and the live signals of the online state.
PREVIEW_EXTRA_PARTS = ("context", "base", "co_occurrence", "trending")
RULE_FIELDS = ("column", "value", "factor", "item_id", "position", "context", "low", "high", "include", "exclude",
               "days", "types")


def _num(raw: str, cast: Any) -> Any:
    raw = raw.strip()
    if raw == "":
        return None
    try:
        return cast(raw)
    except ValueError:
        raise FusionConfigError(_("“%(value)s” is not a number") % {"value": raw}) from None


def _split(raw: str) -> list[str]:
    return [p.strip() for p in raw.split(",") if p.strip()]


def _rules_from_post(post: Any) -> list[dict[str, Any]]:
    cols = {f: post.getlist(f"rule_{f}") for f in RULE_FIELDS}
    out: list[dict[str, Any]] = []
    for i, kind in enumerate(post.getlist("rule_kind")):
        if not kind:
            continue

        def get(f: str, i: int = i) -> str:
            return str(cols[f][i]) if i < len(cols[f]) else ""
        try:
            out.append(_rule_from_row(kind, get))
        except FusionConfigError as exc:  # numbered as the services number rules: rows with a kind
            raise FusionConfigError(f"rule {len(out) + 1} ({kind}): {exc}") from None
    return out


def _rule_from_row(kind: str, get: Callable[[str], str]) -> dict[str, Any]:
    """One editor row (``get(field)`` reads its inputs) as a rule dict; empty optional fields keep their defaults."""
    rule: dict[str, Any] = {"kind": kind}
    if kind == "category":
        rule["include"] = _split(get("include"))
        rule["exclude"] = _split(get("exclude"))
    elif kind == "price_range":
        rule["low"], rule["high"] = _num(get("low"), float), _num(get("high"), float)
    elif kind in ("boost", "bury"):
        rule.update(column=get("column").strip(), value=get("value").strip())
        for key in ("factor", "low", "high"):  # low/high: a band (e.g. a price band) instead of a value
            number = _num(get(key), float)
            if number is not None:
                rule[key] = number
    elif kind == "pin":
        rule["item_id"] = get("item_id").strip()
        position = _num(get("position"), int)
        if position is not None:
            rule["position"] = position
        if get("context").strip():
            rule["context"] = " ".join(get("context").split())
    elif kind == "exclude_recent":
        days = _num(get("days"), int)
        if days is not None:
            rule["days"] = days
        if _split(get("types")):
            rule["types"] = _split(get("types"))
    return rule


def settings_from_post(post: Any, signals: list[str]) -> dict[str, Any]:
    """The editor form (also what the preview's fetch() sends) as a plain settings dict."""
    weights = {s: _num(post.get(f"weight_{s}", "0"), float) or 0.0 for s in signals}
    return {
        "name": post.get("name", ""),
        "weights": weights,
        "normalization": post.get("normalization", "rank"),
        "mode": post.get("mode") or "weighted",
        "diversity": post.get("diversity") if post.get("diversity_on") else None,
        "pool_size": post.get("pool_size") or 200,
        "fallback": post.get("fallback") or Fallback.POPULAR,
        "rules": _rules_from_post(post),
        "is_default": bool(post.get("is_default")),
    }


def _form_context(request: HttpRequest, cat: Catalog, values: dict[str, Any],
                  config: FusionConfig | None) -> dict[str, Any]:
    return {"catalog": cat, "config": config, "values": values,
            "signals": editor_signals(catalog=cat, weights=values.get("weights")),
            "normalizations": NORMALIZATIONS, "fallbacks": Fallback.choices, "fusion_modes": FusionMode.choices,
            "version_has_learned": version_has_learned(active_version(catalog=cat)), "rule_kinds": RULE_CHOICES,
            "rules": values.get("rules") or [], "version": active_version(catalog=cat),
            "revisions": fusion_revisions(config=config) if config else [],
            "can_edit": roles.can_edit(request.user), **_autotune_context(config),
            "signal_colours": {name: signal_colour(name) for name in
                               [*(s["name"] for s in editor_signals(catalog=cat)), *PREVIEW_EXTRA_PARTS]}}



def _autotune_context(config: FusionConfig | None) -> dict[str, Any]:
    run = autotune_latest(config=config) if config is not None else None
    return {"autotune": run, "autotune_rows": proposal_rows(run) if run is not None else []}


@roles.viewer_required
def fusion_configs(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    return render(request, "dashboard/fusion/list.html", {
        "catalog": cat, "configs": fusion_config_list(catalog=cat),
        "version": active_version(catalog=cat)})


def _save(request: HttpRequest, cat: Catalog, config: FusionConfig | None) -> HttpResponse:
    signals = [s["name"] for s in editor_signals(catalog=cat)]
    try:
        values = settings_from_post(request.POST, signals)
        if config is None:
            config = fusion_config_create(catalog=cat, by=request.user, **values)
        else:
            config = fusion_config_update(config=config, by=request.user, **values)
    except FusionConfigError as exc:
        messages.error(request, str(exc))
        ctx = _form_context(request, cat, {**request.POST.dict(), "weights": {}, "rules": []}, config)
        return render(request, "dashboard/fusion/edit.html", ctx, status=400)
    messages.success(request, _("Fusion config saved."))
    return redirect("dashboard:fusion_edit", cat.slug, config.pk)


@roles.editor_required
def fusion_config_new(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    if request.method == "POST":
        return _save(request, cat, None)
    base = fusion_config_default(catalog=cat)
    values = config_settings(base) if base else {"name": "", "normalization": "rank", "pool_size": 200,
                                                 "fallback": Fallback.POPULAR, "rules": []}
    values = {**values, "name": "", "is_default": False}
    return render(request, "dashboard/fusion/edit.html", _form_context(request, cat, values, None))


@roles.viewer_required
def fusion_config_edit(request: HttpRequest, catalog: str, pk: int) -> HttpResponseBase:
    cat = catalog_or_404(catalog)
    config = get_object_or_404(FusionConfig, catalog=cat, pk=pk)
    if request.method == "POST":
        return _edit_post(request, cat, config)
    values = config_settings(config)
    proposed = accepted_weights(config=config, run_id=request.GET.get("autotune"))
    if proposed is not None:  # an accepted auto-tune proposal, loaded for review before saving
        values["weights"] = {**values["weights"], **proposed}
        messages.info(request, _("The proposed weights are in the sliders: check the preview, then save."))
    return render(request, "dashboard/fusion/edit.html", _form_context(request, cat, values, config))


@roles.editor_required
def _edit_post(request: HttpRequest, cat: Catalog, config: FusionConfig) -> HttpResponse:
    return _save(request, cat, config)


@require_POST
@roles.viewer_required
def fusion_preview_json(request: HttpRequest, catalog: str) -> JsonResponse:
    """Preview the form's unsaved settings beside the saved config (``config`` pk) or the default one,
    for the ``shopper`` on the page ``context`` (e.g. "category:Home > Kitchen"; both optional)."""
    cat = catalog_or_404(catalog)
    signals = [s["name"] for s in editor_signals(catalog=cat)]
    config_pk = request.POST.get("config")
    saved = (get_object_or_404(FusionConfig, catalog=cat, pk=int(config_pk)) if config_pk
             else fusion_config_default(catalog=cat))
    shopper = request.POST.get("shopper", "").strip() or None
    try:
        edited = settings_from_post(request.POST, signals)
        out = preview_compare(catalog=cat, shopper_external_id=shopper, saved=saved or edited, edited=edited,
                              k=min(int(request.POST.get("k") or 20), 100), context=request.POST.get("context", ""))
    except (FusionConfigError, ServingError, ValueError) as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(json.loads(json.dumps(out, default=str)))


@require_GET
@roles.viewer_required
def fusion_random_shopper(request: HttpRequest, catalog: str) -> JsonResponse:
    return JsonResponse({"shopper": random_active_shopper(catalog=catalog_or_404(catalog))})


# -- auto-tune ----------------------------------------------------------------------------
def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _run(catalog: str, pk: int, run: int) -> tuple[Catalog, FusionConfig, AutoTuneRun]:
    cat = catalog_or_404(catalog)
    config = get_object_or_404(FusionConfig, catalog=cat, pk=pk)
    return cat, config, get_object_or_404(AutoTuneRun, config=config, pk=run)


@require_POST
@roles.editor_required
def fusion_autotune_start(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    cat = catalog_or_404(catalog)
    config = get_object_or_404(FusionConfig, catalog=cat, pk=pk)
    try:
        autotune_start(config=config, started_by=request.user)
    except AutoTuneError as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, _("Auto-tune started: it fits the signals and searches the weights on the validation "
                                 "window. You may leave this page and come back."))
    return redirect(reverse("dashboard:fusion_edit", args=[cat.slug, config.pk]) + "#autotune")


@require_GET
@roles.viewer_required
def fusion_autotune_progress(request: HttpRequest, catalog: str, pk: int, run: int) -> JsonResponse:
    _cat, _config, row = _run(catalog, pk, run)
    return JsonResponse(autotune_progress(run=row))


@require_POST
@roles.editor_required
def fusion_autotune_accept(request: HttpRequest, catalog: str, pk: int, run: int) -> HttpResponse:
    """Accept a proposal: JSON answers the weights for the sliders; a plain post reopens the editor with them."""
    cat, config, row = _run(catalog, pk, run)
    try:
        row = autotune_accept(run=row, by=request.user)
    except AutoTuneError as exc:
        return _refused(request, cat, config, exc)
    if _wants_json(request):
        return JsonResponse({"weights": row.proposed_weights, "run": row.pk})
    return redirect(reverse("dashboard:fusion_edit", args=[cat.slug, config.pk]) + f"?autotune={row.pk}")


@require_POST
@roles.editor_required
def fusion_autotune_dismiss(request: HttpRequest, catalog: str, pk: int, run: int) -> HttpResponse:
    cat, config, row = _run(catalog, pk, run)
    try:
        row = autotune_dismiss(run=row, by=request.user)
    except AutoTuneError as exc:
        return _refused(request, cat, config, exc)
    if _wants_json(request):
        return JsonResponse({"status": row.status, "decision": row.decision})
    messages.info(request, _("Auto-tune proposal dismissed."))
    return redirect("dashboard:fusion_edit", cat.slug, config.pk)


def _refused(request: HttpRequest, cat: Catalog, config: FusionConfig, exc: AutoTuneError) -> HttpResponse:
    """An accept/dismiss the service refused: JSON 400 for the page's script, else a message on the editor."""
    if _wants_json(request):
        return JsonResponse({"error": str(exc)}, status=400)
    messages.error(request, str(exc))
    return redirect("dashboard:fusion_edit", cat.slug, config.pk)
