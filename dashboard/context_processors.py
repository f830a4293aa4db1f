"""Template context shared by every page: the catalogs and what the user may do."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from dashboard import roles
from dashboard.services.access import visible_catalogs


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    role = roles.role_of(user)
    return {
        "nav_catalogs": visible_catalogs(user).only("name", "slug"),  # only the catalogs the user has a role in
        "user_role": role,
        "user_role_label": roles.role_label(role),
        "user_can_edit": role in roles.EDITORS,
    }
