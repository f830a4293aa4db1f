"""What every API view shares: the token's scope check, the catalog the token may use, served-list metadata."""
from __future__ import annotations

from typing import Any, ClassVar

from rest_framework.request import Request
from rest_framework.views import APIView

from dashboard.api.auth import catalog_for
from dashboard.models import ApiToken, Catalog


class ApiView(APIView):
    """A DRF view behind token auth. ``required_scope`` (or ``required_scopes`` per HTTP method) names the
    scope a token needs; ``None`` means any valid token."""

    required_scope: ClassVar[str | None] = None
    required_scopes: ClassVar[dict[str, str]] = {}

    def scope_for(self, method: str) -> str | None:
        return self.required_scopes.get(method, self.required_scope)

    def catalog(self, request: Request, slug: str) -> Catalog:
        """The catalog ``slug`` if the token is bound to it; 404 otherwise (as for a catalog that does not exist)."""
        return catalog_for(request, slug)

    def token(self, request: Request) -> ApiToken:
        """The calling token (authentication has run; views without a token have no use for this)."""
        assert isinstance(request.auth, ApiToken)
        return request.auth

    def request_id(self, request: Request) -> str:
        return str(getattr(request._request, "request_id", "") or "")

    def served_headers(self, meta: dict[str, Any]) -> dict[str, str]:
        """Response headers that name what served a list."""
        out = {}
        if meta.get("model_version") is not None:
            out["X-Model-Version"] = str(meta["model_version"])
        return out
