"""Privacy pages: export one shopper's data, erase it (admins, after confirming), and the audit log."""
from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from dashboard import roles
from dashboard.services.audit import FAMILIES, audit_entries
from dashboard.services.privacy import ShopperNotFound, shopper_erase, shopper_export
from dashboard.views.common import catalog_or_404, paginate


@roles.admin_required
def shopper_export_json(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    """Everything stored about the shopper, as a JSON download."""
    cat = catalog_or_404(catalog)
    shopper = get_object_or_404(cat.shoppers, pk=pk)
    try:
        data = shopper_export(catalog=cat, external_id=shopper.external_id, by=request.user, via="dashboard")
    except ShopperNotFound as exc:
        messages.error(request, str(exc))
        return redirect("dashboard:shoppers", catalog=cat.slug)
    response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{cat.slug}-shopper-{shopper.pk}.json"'
    return response


@roles.admin_required
def shopper_erase_view(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    """GET: what erasing removes, and a field to type the shopper id into; POST with the id typed: erase."""
    cat = catalog_or_404(catalog)
    shopper = get_object_or_404(cat.shoppers, pk=pk)
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm", "").strip() != shopper.external_id:
            error = _("Type the shopper id exactly to confirm.")
        else:
            counts = shopper_erase(catalog=cat, external_id=shopper.external_id, by=request.user, via="dashboard")
            messages.success(request, _("The shopper is erased: %(events)d events, %(impressions)d served lists, "
                                        "%(rows)d snapshot rows and %(files)d upload files removed.")
                             % {"events": counts["events"], "impressions": counts["impressions"],
                                "rows": counts["snapshot_rows"], "files": counts["upload_files"]})
            return redirect("dashboard:shoppers", catalog=cat.slug)
    return render(request, "dashboard/privacy/erase_confirm.html", {
        "catalog": cat, "shopper": shopper, "events": shopper.events.count(), "error": error,
    }, status=400 if error else 200)


@roles.viewer_required
def audit_log(request: HttpRequest, catalog: str) -> HttpResponse:
    """Who did what in the catalog: promotions, rollbacks, gate overrides, rule edits, erasures, tokens."""
    cat = catalog_or_404(catalog)
    family = request.GET.get("family", "")
    family = family if family in FAMILIES else ""
    actor = request.GET.get("actor", "").strip()[:150]
    page = paginate(request, audit_entries(catalog=cat, family=family, actor=actor), 50)
    return render(request, "dashboard/privacy/audit.html", {
        "catalog": cat, "page": page, "family": family, "actor": actor,
        "families": list(FAMILIES.items()),
    })
