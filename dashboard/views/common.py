"""Small helpers every page shares."""
from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from dashboard.middleware import resolved
from dashboard.models import Catalog


def catalog_or_404(slug: str) -> Catalog:
    """The catalog named by the URL's slug, or a 404 page (the one the access middleware already read, when
    it is this one)."""
    checked = resolved.get()
    if checked is not None and checked.slug == slug:
        return checked
    return get_object_or_404(Catalog, slug=slug)


def paginate(request: HttpRequest, items: QuerySet | list, per_page: int) -> Page:
    """The page of ``items`` asked for by ``?page=`` (the last page when out of range)."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))
