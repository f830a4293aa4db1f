"""Roles: admin and merchandiser may change things; analyst may only look.

A role is held install-wide (a Django group of the same name, created by a data migration; superusers
count as admins everywhere) or in one catalog (a :class:`~dashboard.models.Membership`). In a catalog a
user's role is the stronger of the two. Without a catalog (the home page, creating a catalog) only the
install-wide role counts, except that any role anywhere lets a user see the home page.

The catalog defaults to the one the request's URL names: :class:`dashboard.middleware.CatalogAccessMiddleware`
sets ``user.active_catalog``, so every check below is per catalog without its caller passing one.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext_lazy as _

ADMIN = "admin"
MERCHANDISER = "merchandiser"
ANALYST = "analyst"
ROLES = (ADMIN, MERCHANDISER, ANALYST)
EDITORS = (ADMIN, MERCHANDISER)
LABELS = {ADMIN: _("admin"), MERCHANDISER: _("merchandiser"), ANALYST: _("analyst")}


def role_label(role: str | None) -> str:
    """The role's name in the operator's language ("" for no role)."""
    return str(LABELS[role]) if role in LABELS else ""


def strongest(*held: str | None) -> str | None:
    """The strongest of the roles given (None when none)."""
    return next((role for role in ROLES if role in held), None)


CACHE_ATTR = "_access_cache"  # set (to {}) by the middleware: role look-ups are then read once per request


def _cached(user: Any, key: str, load: Callable[[], Any]) -> Any:
    cache = getattr(user, CACHE_ATTR, None)
    if cache is None:
        return load()
    if key not in cache:
        cache[key] = load()
    return cache[key]


def global_role(user: Any) -> str | None:
    """The install-wide role (superuser: admin)."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return ADMIN
    if getattr(user, "pk", None) is None:
        return None
    return _group_facts(user)[0]


def _group_facts(user: Any) -> tuple[str | None, bool]:
    """(install-wide role, whether a group grants seeing shopper ids), in one query."""
    def load() -> tuple[str | None, bool]:
        rows = list(user.groups.values_list("name", "permissions__codename"))
        return strongest(*(name for name, _ in rows)), any(code == SHOPPER_IDS_PERMISSION for _, code in rows)

    return _cached(user, "groups", load)


SHOPPER_IDS_PERMISSION = "view_shopper_ids"


def sees_shopper_ids_everywhere(user: Any) -> bool:
    """Superusers, and users in a group holding ``dashboard.view_shopper_ids``."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        return False
    return bool(user.is_superuser) or _group_facts(user)[1]


def memberships(user: Any) -> dict[int, tuple[str, bool]]:
    """``{catalog id: (role, sees shopper ids)}`` of the user's memberships."""
    from dashboard.models import Membership

    if getattr(user, "pk", None) is None:
        return {}
    return _cached(user, "memberships", lambda: {
        cid: (role, ids) for cid, role, ids in
        Membership.objects.filter(user_id=user.pk).values_list("catalog_id", "role", "shopper_ids")})


def _membership_role(user: Any, catalog_id: int) -> str | None:
    held = memberships(user).get(catalog_id)
    return held[0] if held else None


_DEFAULT: Any = object()


def role_of(user: Any, catalog: Any = _DEFAULT) -> str | None:
    """The user's role in ``catalog`` (default: the request's catalog; None: the install-wide role)."""
    if catalog is _DEFAULT:
        catalog = getattr(user, "active_catalog", None)
    base = global_role(user)
    if base == ADMIN or catalog is None or getattr(user, "pk", None) is None:
        return base
    return strongest(base, _membership_role(user, catalog.pk))


def can_view(user: Any, catalog: Any = _DEFAULT) -> bool:
    return role_of(user, catalog) is not None


def can_edit(user: Any, catalog: Any = _DEFAULT) -> bool:
    return role_of(user, catalog) in EDITORS


def is_admin(user: Any, catalog: Any = _DEFAULT) -> bool:
    return role_of(user, catalog) == ADMIN


def can_view_anywhere(user: Any) -> bool:
    """Any role install-wide or in some catalog (the home page lists the catalogs the user may see)."""
    return global_role(user) is not None or bool(memberships(user))


View = Callable[..., HttpResponseBase]  # pages, files and streamed CSV alike


def _guard(check: Callable[[Any], bool]) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


viewer_required = _guard(lambda user: can_view_anywhere(user) if getattr(user, "active_catalog", None) is None
                         else can_view(user))
"""Any role: the page is read-only."""
editor_required = _guard(can_edit)
"""Admin or merchandiser: the view changes data."""
admin_required = _guard(is_admin)
