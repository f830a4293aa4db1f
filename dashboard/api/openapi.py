"""How the OpenAPI schema describes the token: an HTTP bearer scheme (the key from the dashboard)."""
from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "dashboard.api.auth.TokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer",
                "description": "An API token from the dashboard's API tokens page: `Authorization: Bearer <key>`."}
