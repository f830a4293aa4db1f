"""The overview: catalogs and, per catalog, what is in it."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from dashboard import roles
from dashboard.forms import CatalogForm
from dashboard.models import Catalog
from dashboard.selectors.catalogs import catalog_summary
from dashboard.services.catalogs import catalog_create as create


@roles.viewer_required
def home(request: HttpRequest) -> HttpResponse:
    catalogs = list(Catalog.objects.all())
    if len(catalogs) == 1:
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


@roles.viewer_required
def catalog_overview(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = get_object_or_404(Catalog, slug=catalog)
    return render(request, "dashboard/catalog_overview.html", {"catalog": cat, **catalog_summary(catalog=cat)})
