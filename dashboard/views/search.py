"""Search pages: the preview (two settings side by side, JSON endpoint), settings, and analytics."""
from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dashboard import roles
from dashboard.models import Catalog, FusionConfig, SearchFusion, SearchMode, SearchSettings
from dashboard.selectors.training import active_version
from dashboard.services.search import (
    SearchInputError,
    SearchUnavailable,
    search_compare,
    search_settings_ensure,
    search_settings_save,
    settings_values,
)
from dashboard.services.search_analytics import (
    CLICK_WINDOW_MINUTES,
    default_period,
    query_stats,
    totals,
    zero_result_queries,
)
from dashboard.services.search_index import active_index
from dashboard.views.common import catalog_or_404, paginate

PER_PAGE = 25
SETTINGS_FIELDS = ("name", "mode", "fusion", "lexical_weight", "dense_weight", "profile_weight", "boost", "synonyms",
                   "fusion_config", "is_default")


def _index_problem(cat: Catalog) -> str | None:
    """Why the catalog cannot be searched now (None: it can)."""
    try:
        active_index(cat)
    except SearchUnavailable as exc:
        return str(exc)
    return None


@roles.viewer_required
def search_preview(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    choices = search_settings_ensure(catalog=cat)
    a = request.GET.get("a") or str(choices[0].pk)
    b = request.GET.get("b") or str(choices[min(1, len(choices) - 1)].pk)
    return render(request, "dashboard/search/preview.html", {
        "catalog": cat, "choices": choices, "a": a, "b": b, "q": request.GET.get("q", ""),
        "shopper": request.GET.get("shopper", ""), "problem": _index_problem(cat),
        "version": active_version(catalog=cat),
    })


@require_GET
@roles.viewer_required
def search_results_json(request: HttpRequest, catalog: str) -> JsonResponse:
    """``?q=&a=<settings pk>&b=<settings pk>[&shopper=&profile_weight=&k=&context=]`` → ``{"a": result, "b": result}``."""
    cat = catalog_or_404(catalog)
    try:
        a = get_object_or_404(SearchSettings, catalog=cat, pk=int(request.GET.get("a") or 0))
        b = get_object_or_404(SearchSettings, catalog=cat, pk=int(request.GET.get("b") or 0))
        weight = request.GET.get("profile_weight", "").strip()
        out = search_compare(catalog=cat, query=request.GET.get("q", ""), a=a, b=b,
                             k=int(request.GET.get("k") or 10), shopper=request.GET.get("shopper", "").strip() or None,
                             profile_weight=float(weight) if weight else None,
                             context=request.GET.get("context", "").strip()[:200])
    except (SearchInputError, SearchUnavailable) as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except ValueError:
        return JsonResponse({"error": _("k, a, b and profile_weight must be numbers.")}, status=400)
    return JsonResponse(out)


@roles.viewer_required
def search_settings_list(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    return render(request, "dashboard/search/settings_list.html", {
        "catalog": cat, "settings_list": search_settings_ensure(catalog=cat)})


def _form(request: HttpRequest, cat: Catalog, values: dict[str, Any], obj: SearchSettings | None,
          status: int = 200) -> HttpResponse:
    chosen = values.get("fusion_config")
    values = {**values, "fusion_config": str(chosen.pk) if isinstance(chosen, FusionConfig) else str(chosen or "")}
    return render(request, "dashboard/search/settings_edit.html", {
        "catalog": cat, "obj": obj, "values": values, "modes": SearchMode.choices, "fusions": SearchFusion.choices,
        "fusion_configs": FusionConfig.objects.filter(catalog=cat).order_by("name"),
        "can_edit": roles.can_edit(request.user)}, status=status)


def _save(request: HttpRequest, cat: Catalog, obj: SearchSettings | None) -> HttpResponse:
    values: dict[str, Any] = {f: request.POST.get(f, "") for f in SETTINGS_FIELDS}
    values["is_default"] = bool(request.POST.get("is_default"))
    try:
        obj = search_settings_save(catalog=cat, values=values, by=request.user, settings=obj)
    except SearchInputError as exc:
        messages.error(request, str(exc))
        return _form(request, cat, values, obj, status=400)
    messages.success(request, _("Search settings saved."))
    return redirect("dashboard:search_settings_edit", cat.slug, obj.pk)


@roles.editor_required
def search_settings_new(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    if request.method == "POST":
        return _save(request, cat, None)
    base = settings_values(search_settings_ensure(catalog=cat)[0])
    return _form(request, cat, {**base, "name": "", "is_default": False}, None)


@roles.viewer_required
def search_settings_edit(request: HttpRequest, catalog: str, pk: int) -> HttpResponseBase:
    cat = catalog_or_404(catalog)
    obj = get_object_or_404(SearchSettings, catalog=cat, pk=pk)
    if request.method == "POST":
        return _edit_post(request, cat, obj)
    return _form(request, cat, settings_values(obj), obj)


@roles.editor_required
def _edit_post(request: HttpRequest, cat: Catalog, obj: SearchSettings) -> HttpResponse:
    return _save(request, cat, obj)


def _date(raw: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


def _period(request: HttpRequest, default: tuple[dt.date, dt.date]) -> tuple[dt.date, dt.date]:
    start, end = _date(request.GET.get("start"), default[0]), _date(request.GET.get("end"), default[1])
    if start > end:
        messages.error(request, _("The start date is after the end date; they were swapped."))
        start, end = end, start
    return start, end


@roles.viewer_required
def search_analytics(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    period = default_period(catalog=cat)
    ctx: dict[str, Any] = {"catalog": cat, "has_events": period is not None, "window": CLICK_WINDOW_MINUTES}
    if period is None:
        return render(request, "dashboard/search/analytics.html", ctx)
    start, end = _period(request, period)
    sort = request.GET.get("sort") or "searches"
    stats = query_stats(catalog=cat, start=start, end=end, sort=sort)
    ctx.update(start=start, end=end, sort=sort, totals=totals(stats), page=paginate(request, stats, PER_PAGE))
    try:
        zero = zero_result_queries(catalog=cat, stats=stats)
        ctx["zero_page"] = Paginator(zero, PER_PAGE).get_page(request.GET.get("zpage"))  # pages on its own
    except SearchUnavailable as exc:
        ctx["problem"] = str(exc)
    return render(request, "dashboard/search/analytics.html", ctx)



@roles.viewer_required
def search_analytics_csv(request: HttpRequest, catalog: str) -> HttpResponse:
    """The top-queries table of the period as CSV (every row, not one page)."""
    cat = catalog_or_404(catalog)
    period = default_period(catalog=cat) or (dt.date.today(), dt.date.today())
    start, end = _period(request, period)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{cat.slug}-search-queries-{start}-{end}.csv"'
    writer = csv.writer(response)
    writer.writerow(["query", "searches", "shoppers", "clicked", "click_through", "last_searched"])
    for s in query_stats(catalog=cat, start=start, end=end, sort=request.GET.get("sort") or "searches"):
        query = "'" + s.query if s.query[:1] in ("=", "+", "-", "@") else s.query  # no spreadsheet formulas
        writer.writerow([query, s.searches, s.shoppers, s.clicked, f"{s.ctr:.4f}", s.last.isoformat()])
    return response
