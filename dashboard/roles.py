"""Roles: admin and merchandiser may change things; analyst may only look.

Roles are Django groups of the same name (created by a data migration).
Superusers count as admins.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
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


def role_of(user: Any) -> str | None:
    """The strongest role the user holds, or None for a user with no role."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return ADMIN
    names = set(user.groups.values_list("name", flat=True))
    return next((role for role in ROLES if role in names), None)


def can_view(user: Any) -> bool:
    return role_of(user) is not None


def can_edit(user: Any) -> bool:
    return role_of(user) in EDITORS


def is_admin(user: Any) -> bool:
    return role_of(user) == ADMIN


View = Callable[..., HttpResponse]


def _guard(check: Callable[[Any], bool]) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


viewer_required = _guard(can_view)
"""Any role: the page is read-only."""
editor_required = _guard(can_edit)
"""Admin or merchandiser: the view changes data."""
admin_required = _guard(is_admin)
