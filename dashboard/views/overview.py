"""The overview: catalogs and, per catalog, what is in it and its events per day."""
from __future__ import annotations

import csv

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from dashboard import roles
from dashboard.charts import events_per_day_figure
from dashboard.forms import CatalogForm
from dashboard.models import Catalog, EventType
from dashboard.selectors.catalogs import catalog_summary, events_per_day, top_products
from dashboard.services.access import visible_catalogs
from dashboard.services.catalogs import catalog_create as create
from dashboard.services.catalogs import catalog_update
from dashboard.views.common import catalog_or_404


@roles.viewer_required
def home(request: HttpRequest) -> HttpResponse:
    catalogs = list(visible_catalogs(request.user))  # only the catalogs the user has a role in
    if len(catalogs) == 1 and "all" not in request.GET:  # ?all=1 (the switcher's "All catalogs") stays here
        return redirect("dashboard:catalog_overview", catalog=catalogs[0].slug)
    return render(request, "dashboard/home.html", {"catalogs": catalogs})


@roles.editor_required
def catalog_create(request: HttpRequest) -> HttpResponse:
    form = CatalogForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        catalog = create(**form.cleaned_data)
        messages.success(request, _("Catalog created. Next, import its products."))
        return redirect("dashboard:catalog_overview", catalog=catalog.slug)
    return render(request, "dashboard/catalog_form.html", {"form": form})


@roles.editor_required
def catalog_edit(request: HttpRequest, catalog: str) -> HttpResponse:
    """The catalog's settings: name, address, currency and how much each event type counts in training."""
    cat = catalog_or_404(catalog)
    form = CatalogForm(request.POST or None, instance=cat)
    if request.method == "POST" and form.is_valid():
        cat = catalog_update(catalog=Catalog.objects.get(pk=cat.pk), actor=request.user, **form.cleaned_data)
        messages.success(request, _("Catalog settings saved. New event weights apply from the next training job."))
        return redirect("dashboard:catalog_overview", catalog=cat.slug)
    return render(request, "dashboard/catalog_form.html", {"form": form, "catalog": cat})


@roles.viewer_required
def catalog_overview(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    summary = catalog_summary(catalog=cat)
    fingerprint = (summary["event_count"], summary["last_event_at"])
    daily = events_per_day(catalog=cat, fingerprint=fingerprint)
    labels = dict(EventType.choices)
    table_types = [code for code in labels if any(row.type == code for row in daily)]
    table: dict = {}
    for row in daily:
        table.setdefault(row.day, dict.fromkeys(table_types, 0))[row.type] = row.count
    return render(request, "dashboard/catalog_overview.html", {
        "catalog": cat,
        **summary,
        "chart": events_per_day_figure(daily, type_labels=labels) if daily else None,
        "table_types": [labels[code] for code in table_types],
        "table_rows": [(day, [counts[c] for c in table_types], sum(counts.values())) for day, counts in table.items()],
        "top_products": top_products(catalog=cat, fingerprint=fingerprint) if daily else [],
    })


@roles.viewer_required
def events_per_day_csv(request: HttpRequest, catalog: str) -> HttpResponse:
    """The chart's figures as CSV: one row per (day, type) with its count; days in the operator's time zone."""
    cat = catalog_or_404(catalog)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{cat.slug}-events-per-day.csv"'
    writer = csv.writer(response)
    writer.writerow(["day", "type", "events"])
    for row in events_per_day(catalog=cat):
        writer.writerow([row.day.isoformat(), row.type, row.count])
    return response
