"""The catalog's contents: products, shoppers and events (read-only pages)."""
from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from dashboard import roles
from dashboard.forms import EventFilterForm, ProductFilterForm, ShopperFilterForm
from dashboard.selectors.events import event_list
from dashboard.selectors.products import (
    ProductFilter,
    category_choices,
    product_events,
    product_list,
    with_event_counts,
)
from dashboard.selectors.shoppers import group_by_day, shopper_history, shopper_list, with_activity
from dashboard.services.images import thumbnail_path
from dashboard.services.insights import (
    picture_title_check,
    product_lookalikes,
    product_related,
    shopper_profile,
    shopper_recommendations,
)
from dashboard.views.common import catalog_or_404, paginate

PER_PAGE = 50


@roles.viewer_required
def products(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    form = ProductFilterForm(request.GET or None, categories=category_choices(catalog=cat, include=request.GET.get("category")))
    data = form.cleaned_data if form.is_valid() else {}
    stock = {"yes": True, "no": False}.get(data.get("in_stock") or "")
    filters = ProductFilter(
        q=(data.get("q") or "").strip(), category=data.get("category") or "", in_stock=stock,
        sort=data.get("sort") or "title",
    )
    page = paginate(request, product_list(catalog=cat, filters=filters), PER_PAGE)
    page.object_list = with_event_counts(page.object_list)
    filtered = filters != ProductFilter(sort=filters.sort)
    layout = "table" if request.GET.get("view") == "table" else "grid"
    keep = request.GET.copy()
    keep.pop("view", None)
    keep.pop("page", None)
    return render(request, "dashboard/products.html", {
        "catalog": cat, "form": form, "page": page, "filtered": filtered, "layout": layout,
        "keep": keep.urlencode(), "sort": filters.sort,
    })


@roles.viewer_required
def product_detail(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    cat = catalog_or_404(catalog)
    product = get_object_or_404(cat.products, pk=pk)
    page = paginate(request, product_events(product=product), PER_PAGE)
    return render(request, "dashboard/product_detail.html", {
        "catalog": cat, "product": product, "page": page,
        "attributes": sorted(product.attributes.items()) if isinstance(product.attributes, dict) else [],
        "related": product_related(catalog=cat, product=product),
        "lookalikes": product_lookalikes(catalog=cat, product=product),
    })


@roles.viewer_required
def picture_check(request: HttpRequest, catalog: str) -> HttpResponse:
    """Data quality: the products whose picture and title agree least, to check first."""
    cat = catalog_or_404(catalog)
    return render(request, "dashboard/picture_check.html", {"catalog": cat, "check": picture_title_check(catalog=cat)})


@roles.viewer_required
def product_image(request: HttpRequest, catalog: str, pk: int) -> FileResponse:
    """The product's thumbnail (fetched by the worker), cached by the browser for a day."""
    product = get_object_or_404(catalog_or_404(catalog).products, pk=pk)
    path = thumbnail_path(product) if product.image_file else None
    if path is None or not path.is_file():
        raise Http404("no thumbnail")
    response = FileResponse(path.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@roles.viewer_required
def shoppers(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    form = ShopperFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    q = (data.get("q") or "").strip()
    page = paginate(request, shopper_list(catalog=cat, q=q, sort=data.get("sort") or "id"), PER_PAGE)
    page.object_list = with_activity(page.object_list)
    return render(request, "dashboard/shoppers.html", {"catalog": cat, "form": form, "page": page, "q": q})


@roles.viewer_required
def shopper_detail(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    cat = catalog_or_404(catalog)
    shopper = get_object_or_404(cat.shoppers, pk=pk)
    page = paginate(request, shopper_history(shopper=shopper), PER_PAGE)
    return render(request, "dashboard/shopper_detail.html", {
        "catalog": cat, "shopper": shopper, "page": page, "days": group_by_day(page.object_list),
        "profile": shopper_profile(catalog=cat, shopper=shopper),
        "recommendations": shopper_recommendations(catalog=cat, shopper=shopper),
    })


def _event_filters(form: EventFilterForm) -> dict[str, Any]:
    """The event list's filters from a bound form (invalid fields filter nothing); days in the operator's zone."""
    data = form.cleaned_data if form.is_valid() else {}

    def start_of(day: dt.date | None, plus: int = 0) -> dt.datetime | None:
        if day is None:
            return None
        return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=plus), dt.time.min))

    return {"type": data.get("type") or "", "oldest_first": data.get("sort") == "time",
            "since": start_of(data.get("since")), "until": start_of(data.get("until"), plus=1),
            "shopper": (data.get("shopper") or "").strip(), "product": (data.get("product") or "").strip()}


@roles.viewer_required
def events(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    form = EventFilterForm(request.GET or None)
    filters = _event_filters(form)
    page = paginate(request, event_list(catalog=cat, **filters), PER_PAGE)
    filtered = any(v for k, v in filters.items() if k != "oldest_first")
    return render(request, "dashboard/events.html", {"catalog": cat, "form": form, "page": page, "filtered": filtered,
                                                     "query": request.GET.urlencode()})


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> object:
    """A CSV cell that a spreadsheet will not run as a formula (text starting with = + - @ gets a quote)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@roles.viewer_required
def events_csv(request: HttpRequest, catalog: str) -> StreamingHttpResponse:
    """The filtered event list as CSV, streamed row by row (memory stays flat for any number of events)."""
    cat = catalog_or_404(catalog)
    rows = event_list(catalog=cat, **_event_filters(EventFilterForm(request.GET or None)))
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(["timestamp", "type", "shopper_id", "product_id", "product_title", "query", "quantity",
                               "value", "session_id", "event_id"])
        for e in rows.iterator(chunk_size=2000):
            yield writer.writerow([e.timestamp.isoformat(), e.type, _cell(e.shopper.external_id if e.shopper else ""),
                                   _cell(e.product.external_id if e.product else ""),
                                   _cell(e.product.title if e.product else ""), _cell(e.query or ""), e.quantity,
                                   "" if e.value is None else e.value, _cell(e.session_id), _cell(e.event_id or "")])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{cat.slug}-events.csv"'
    return response
