"""Per-catalog access, checked once for every page whose URL names a catalog.

Any dashboard URL with a ``catalog`` keyword (``c/<slug:catalog>/…``) — including pages added later — is
checked here before its view runs: an anonymous visitor goes to the login page, a user with no role at all
gets 403, a member of other catalogs only gets the same 404 as for a catalog that does not exist, and everyone else continues with
``request.catalog`` set and ``request.user.active_catalog`` pointing at it, so the role checks of
:mod:`dashboard.roles` (the view decorators, ``can_edit`` in templates' context) answer for this catalog.
The API (``/api/``) authenticates tokens bound to catalogs instead (:func:`dashboard.api.auth.catalog_for`).
"""
from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from dashboard import roles
from dashboard.models import Catalog

CATALOG_KWARG = "catalog"


class CatalogAccessMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = resolved.set(None)
        try:
            return self.get_response(request)
        finally:
            resolved.reset(token)

    def process_view(self, request: HttpRequest, view_func: Any, view_args: Any,
                     view_kwargs: dict[str, Any]) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or "api" in match.namespaces:
            return None
        user = request.user  # type: ignore[attr-defined]
        if user.is_authenticated:
            setattr(user, roles.CACHE_ATTR, {})  # this request's role look-ups
        slug = view_kwargs.get(CATALOG_KWARG)
        if not isinstance(slug, str):
            return None
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        catalog = Catalog.objects.filter(slug=slug).first()
        if catalog is None:
            return None  # the view answers its own 404
        if not roles.can_view(user, catalog):
            if not roles.can_view_anywhere(user):
                raise PermissionDenied  # no role at all: the same 403 as every other page
            raise Http404("No such catalog")  # a member of other catalogs does not learn this one exists
        request.catalog = catalog  # type: ignore[attr-defined]
        user.active_catalog = catalog  # type: ignore[attr-defined]
        resolved.set(catalog)
        return None


resolved: ContextVar[Catalog | None] = ContextVar("resolved_catalog", default=None)
"""The catalog the current request's URL names, once checked (``catalog_or_404`` reuses it: no second query)."""
