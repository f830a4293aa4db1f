"""Import pages: history, upload, column mapping (paginated for wide files), live progress, cancel,
error report download."""
from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dashboard import roles
from dashboard.models import Catalog, ImportBatch, ImportKind, ImportPolicy, ImportStatus, UnknownProducts
from dashboard.selectors.imports import COLUMNS_PER_PAGE, import_list, import_mapping_form, import_progress
from dashboard.services.import_validate import import_limits
from dashboard.services.imports import (
    ImportInputError,
    import_cancel,
    import_start,
    import_upload,
    same_file_imports,
)
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


def _column_page(request: HttpRequest, count: int) -> tuple[int, int]:
    """(page number from ``?cols=``, number of pages) for a file of ``count`` columns."""
    pages = max(1, -(-count // COLUMNS_PER_PAGE))
    try:
        page = int(request.GET.get("cols", "1"))
    except ValueError:
        page = 1
    return min(max(page, 1), pages), pages


@roles.viewer_required
def import_detail(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    cat, batch = _batch(catalog, pk)
    context = {"catalog": cat, "batch": batch, "progress": import_progress(batch=batch),
               "can_cancel": batch.status in (ImportStatus.DRAFT, ImportStatus.QUEUED, ImportStatus.RUNNING)
               and not batch.cancel_requested}
    if batch.status == ImportStatus.DRAFT:
        try:
            form = import_mapping_form(batch=batch, limits=import_limits())
        except (ValueError, OSError) as exc:  # ReadError: the stored file has gone or changed since the upload
            messages.error(request, str(exc))
            return redirect("dashboard:imports", catalog=cat.slug)
        chosen = batch.mapping or form["suggested"]  # choices saved while paging through a wide file
        columns = form["columns"]
        page, pages = _column_page(request, len(columns))
        first = (page - 1) * COLUMNS_PER_PAGE
        shown = range(first, min(first + COLUMNS_PER_PAGE, len(columns)))
        context["mapping_rows"] = [(i, columns[i], form["samples"][columns[i]], chosen.get(columns[i], ""))
                                   for i in shown]
        context["hidden_choices"] = [(i, chosen[c]) for i, c in enumerate(columns) if i not in shown and chosen.get(c)]
        context["column_pages"] = {"page": page, "pages": pages, "count": len(columns), "first": first + 1,
                                   "last": shown.stop, "range": range(1, pages + 1) if pages <= 40 else ()}
        context["fields"] = form["fields"]
        context["unknown_choices"] = UnknownProducts.choices
        context["same_file"] = same_file_imports(batch).first()
        context["error"] = request.session.pop(f"import-{batch.pk}-error", "")
    return render(request, "dashboard/imports/detail.html", context)


@roles.editor_required
def import_begin(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    """POST the column mapping (``col-<i>`` = field for the i-th column) and start the import.

    ``goto=<page>`` saves the choices so far and shows another page of columns instead.
    """
    cat, batch = _batch(catalog, pk)
    if request.method != "POST" or batch.status != ImportStatus.DRAFT:
        return redirect("dashboard:import_detail", catalog=cat.slug, pk=batch.pk)
    form = import_mapping_form(batch=batch, limits=import_limits())
    # Columns of the other pages come as hidden inputs, so a column missing from the POST is unmapped.
    mapping = {column: request.POST.get(f"col-{i}", "") for i, column in enumerate(form["columns"])}
    goto = request.POST.get("goto")
    if goto:
        ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.DRAFT).update(
            mapping={c: f for c, f in mapping.items() if f})
        page = int(goto) if goto.isdigit() else 1
        return redirect(reverse("dashboard:import_detail", kwargs={"catalog": cat.slug, "pk": batch.pk})
                        + f"?cols={page}")
    try:
        import_start(batch=batch, mapping=mapping, policy=request.POST.get("policy") or None,
                     unknown_products=request.POST.get("unknown_products") or None,
                     natural_key=request.POST.get("natural_key") == "on",
                     allow_same_file=request.POST.get("allow_same_file") == "on")
    except ImportInputError as exc:
        request.session[f"import-{batch.pk}-error"] = str(exc)
    else:
        if batch.status == ImportStatus.QUEUED:
            messages.info(request, _("The import is running in the background; you can leave this page."))
    return redirect("dashboard:import_detail", catalog=cat.slug, pk=batch.pk)


@roles.editor_required
def import_cancel_view(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    """POST: cancel a draft or queued import at once, or stop a running one (nothing it wrote is kept)."""
    cat, batch = _batch(catalog, pk)
    if request.method == "POST":
        try:
            batch = import_cancel(batch=batch)
        except ImportInputError as exc:
            messages.error(request, str(exc))
        else:
            messages.info(request, _("The import is cancelled.") if batch.status == ImportStatus.CANCELLED
                          else _("The import will stop at its next chunk; nothing it wrote is kept."))
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
