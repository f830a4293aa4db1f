"""API tokens page: a catalog's tokens, creating one (its key shown once), revoking, and the storefront origins."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard import roles
from dashboard.models import PUBLIC_SCOPES, ApiToken, Catalog, Scope, TokenKind
from dashboard.services.api_tokens import ApiTokenInputError, api_token_create, api_token_revoke, cors_origins_set
from dashboard.views.common import catalog_or_404, paginate

PER_PAGE = 50
MAX_EXPIRY_DAYS = 3650


def _page(request: HttpRequest, cat: Catalog, *, values: dict[str, Any] | None = None, error: str | None = None,
          new_key: str | None = None, new_token: ApiToken | None = None, origins_text: str | None = None,
          origins_error: str | None = None, status: int = 200) -> HttpResponse:
    tokens = (ApiToken.objects.filter(catalogs=cat).select_related("created_by").prefetch_related("catalogs")
              .order_by("revoked_at", "-created_at"))
    values = values or {"kind": TokenKind.SECRET, "scopes": [str(s) for s in PUBLIC_SCOPES], "catalogs": [cat.slug]}
    return render(request, "dashboard/tokens/list.html", {
        "catalog": cat, "page": paginate(request, tokens, PER_PAGE), "now": timezone.now(),
        "can_admin": roles.is_admin(request.user), "kinds": TokenKind.choices, "scopes": Scope.choices,
        "public_scopes": [str(s) for s in PUBLIC_SCOPES], "all_catalogs": Catalog.objects.only("name", "slug"),
        "values": values, "error": error, "new_key": new_key, "new_token": new_token,
        "origins_text": "\n".join(cat.cors_origins or []) if origins_text is None else origins_text,
        "origins_error": origins_error,
    }, status=status)


@roles.viewer_required
def tokens(request: HttpRequest, catalog: str) -> HttpResponse:
    return _page(request, catalog_or_404(catalog))


def _positive(raw: str, field: str, label: str, most: int | None = None) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ApiTokenInputError(field, _("%(label)s must be a whole number.") % {"label": label}) from None
    if value < 1 or (most is not None and value > most):
        raise ApiTokenInputError(field, _("%(label)s must be between 1 and %(most)s.")
                                 % {"label": label, "most": most or "…"})
    return value


@require_POST
@roles.admin_required
def token_create(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    values: dict[str, Any] = {
        "name": request.POST.get("name", ""), "kind": request.POST.get("kind", TokenKind.SECRET),
        "scopes": request.POST.getlist("scopes"), "catalogs": request.POST.getlist("catalogs"),
        "expires_days": request.POST.get("expires_days", ""), "throttle": request.POST.get("throttle", ""),
    }
    try:
        days = _positive(values["expires_days"], "expires_at", _("Days until it expires"), MAX_EXPIRY_DAYS)
        throttle = _positive(values["throttle"], "throttle_per_minute", _("Requests per minute"))
        token, key = api_token_create(
            name=values["name"], kind=values["kind"], scopes=values["scopes"],
            catalogs=list(Catalog.objects.filter(slug__in=values["catalogs"])),
            expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
            throttle_per_minute=throttle, by=request.user)
    except ApiTokenInputError as exc:
        return _page(request, cat, values=values, error=str(exc), status=400)
    # The key is in this response only: nothing stores it, so there is no redirect to a page that shows it.
    return _page(request, cat, new_key=key, new_token=token)


@roles.admin_required
def token_revoke(request: HttpRequest, catalog: str, pk: int) -> HttpResponse:
    cat = catalog_or_404(catalog)
    token = get_object_or_404(ApiToken.objects.prefetch_related("catalogs"), pk=pk, catalogs=cat)
    if request.method == "POST":
        api_token_revoke(token=token, by=request.user)
        messages.success(request, _("Token “%(name)s” revoked: calls with its key are refused within seconds.")
                         % {"name": token.name})
        return redirect("dashboard:tokens", cat.slug)
    return render(request, "dashboard/tokens/revoke.html", {"catalog": cat, "token": token})


@require_POST
@roles.admin_required
def cors_origins(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    text = request.POST.get("cors_origins", "")
    try:
        saved = cors_origins_set(catalog=cat, origins=text.splitlines(), by=request.user)
    except ApiTokenInputError as exc:
        return _page(request, cat, origins_text=text, origins_error=str(exc), status=400)
    messages.success(request, _("Storefront origins saved (%(n)d).") % {"n": len(saved)})
    return redirect("dashboard:tokens", cat.slug)
