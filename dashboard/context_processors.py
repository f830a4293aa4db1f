"""Template context shared by every page: the catalogs and what the user may do."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from dashboard import roles
from dashboard.models import Catalog


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    role = roles.role_of(user)
    return {
        "nav_catalogs": Catalog.objects.only("name", "slug"),
        "user_role": role,
        "user_role_label": roles.role_label(role),
        "user_can_edit": role in roles.EDITORS,
    }
