"""Import pages: history, upload, column mapping, live progress, error report download."""
from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dashboard import roles
from dashboard.models import Catalog, ImportBatch, ImportKind, ImportPolicy, ImportStatus
from dashboard.selectors.imports import import_list, import_mapping_form, import_progress
from dashboard.services.imports import ImportInputError, import_start, import_upload
from dashboard.views.common import catalog_or_404, paginate

SUPPORTED = gettext_lazy("CSV, JSON Lines or Parquet, optionally gzipped (.gz)")


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"), choices=ImportKind.choices,
                             widget=forms.RadioSelect)
    file = forms.FileField(label=gettext_lazy("File"), help_text=SUPPORTED, allow_empty_file=True)
    policy = forms.ChoiceField(label=gettext_lazy("If some rows are invalid"), choices=ImportPolicy.choices,
                               initial=ImportPolicy.VALID_ROWS, widget=forms.RadioSelect)


def _batch(catalog: str, pk: int) -> tuple[Catalog, ImportBatch]:
    cat = catalog_or_404(catalog)
    return cat, get_object_or_404(ImportBatch.objects.select_related("catalog"), catalog=cat, pk=pk)


@roles.viewer_required
def imports(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    page = paginate(request, import_list(catalog=cat), 25)
    return render(request, "dashboard/imports/list.html", {"catalog": cat, "page": page})


@roles.editor_required
def import_new(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    form = UploadForm(request.POST or None, request.FILES or None,
                      initial={"kind": request.GET.get("kind", ImportKind.PRODUCTS)})
    if request.method == "POST" and form.is_valid():
        try:
            batch = import_upload(catalog=cat, kind=form.cleaned_data["kind"], file=form.cleaned_data["file"],
                                  policy=form.cleaned_data["policy"], created_by=request.user)
        except ImportInputError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("dashboard:import_detail", catalog=cat.slug, pk=batch.pk)
    return render(request, "dashboard/imports/new.html",
                  {"catalog": cat, "form": form, "max_mb": settings.IMPORT_MAX_MB})


@roles.viewer_required
def import_detail(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    cat, batch = _batch(catalog, pk)
    context = {"catalog": cat, "batch": batch, "progress": import_progress(batch=batch)}
    if batch.status == ImportStatus.DRAFT:
        try:
            form = import_mapping_form(batch=batch)
        except (ValueError, OSError) as exc:  # ReadError: the stored file has gone or changed since the upload
            messages.error(request, str(exc))
            return redirect("dashboard:imports", catalog=cat.slug)
        context["mapping_rows"] = [
            (i, column, form["samples"][column], form["suggested"].get(column, ""))
            for i, column in enumerate(form["columns"])
        ]
        context["fields"] = form["fields"]
        context["error"] = request.session.pop(f"import-{batch.pk}-error", "")
    return render(request, "dashboard/imports/detail.html", context)


@roles.editor_required
def import_begin(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    """POST the column mapping (``col-<i>`` = field for the i-th column) and start the import."""
    cat, batch = _batch(catalog, pk)
    if request.method != "POST":
        return redirect("dashboard:import_detail", catalog=cat.slug, pk=batch.pk)
    columns = import_mapping_form(batch=batch)["columns"]
    mapping = {column: request.POST.get(f"col-{i}", "") for i, column in enumerate(columns)}
    try:
        import_start(batch=batch, mapping=mapping, policy=request.POST.get("policy") or None)
    except ImportInputError as exc:
        request.session[f"import-{batch.pk}-error"] = str(exc)
    else:
        if batch.status == ImportStatus.QUEUED:
            messages.info(request, _("The import is running in the background; you can leave this page."))
    return redirect("dashboard:import_detail", catalog=cat.slug, pk=batch.pk)


@roles.viewer_required
def import_progress_json(request: HttpRequest, catalog: str, pk: int) -> JsonResponse:
    _cat, batch = _batch(catalog, pk)
    return JsonResponse(import_progress(batch=batch))


@roles.viewer_required
def import_errors_csv(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    _cat, batch = _batch(catalog, pk)
    if not batch.error_report:
        raise Http404(_("This import has no error report."))
    with batch.error_report.open("rb") as report:
        response = HttpResponse(report.read(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.csv"'
    return response
