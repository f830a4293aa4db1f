"""The catalog's contents: products, shoppers and events (read-only pages)."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

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
from dashboard.services.insights import product_related, shopper_profile
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
    return render(request, "dashboard/products.html", {
        "catalog": cat, "form": form, "page": page, "filtered": filtered,
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
    })


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
    })


@roles.viewer_required
def events(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    form = EventFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    page = paginate(request, event_list(catalog=cat, type=data.get("type") or "", oldest_first=data.get("sort") == "time"), PER_PAGE)
    return render(request, "dashboard/events.html", {"catalog": cat, "form": form, "page": page})
