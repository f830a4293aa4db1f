"""Test-only API views that exercise token auth, scopes, catalogs, throttling and the error shape."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from dashboard.api.base import ApiView
from dashboard.api.renderers import ProblemRenderer


class EventIn(serializers.Serializer):
    type = serializers.CharField()
    timestamp = serializers.DateTimeField()


class BatchIn(serializers.Serializer):
    events = EventIn(many=True)


class Probe(ApiView):
    """GET needs events:write on the catalog in the path; POST validates an event batch."""

    required_scope = "events:write"
    renderer_classes = [JSONRenderer, ProblemRenderer]

    def get(self, request: Request, slug: str) -> Response:
        cat = self.catalog(request, slug)
        return Response({"catalog": cat.slug, "prefix": request.auth.prefix, "request_id": self.request_id(request)})

    def post(self, request: Request, slug: str) -> Response:
        self.catalog(request, slug)
        batch = BatchIn(data=request.data)
        batch.is_valid(raise_exception=True)
        return Response({"accepted": len(batch.validated_data["events"])})


class AnyToken(ApiView):
    def get(self, request: Request) -> Response:
        return Response({"name": request.auth.name})


class EitherScope(ApiView):
    def scope_for(self, method: str) -> Any:
        return ("recommendations:read", "catalog:write")

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class Public(ApiView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class Boom(ApiView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise RuntimeError("database password is hunter2")


def plain_boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("plain view exploded")


urlpatterns = [
    path("api/v1/catalogs/<slug:slug>/probe", Probe.as_view()),
    path("api/v1/whoami", AnyToken.as_view()),
    path("api/v1/health", Public.as_view()),
    path("api/v1/either", EitherScope.as_view()),
    path("api/v1/boom", Boom.as_view()),
    path("api/v1/plain-boom", plain_boom),
]
urlpatterns += [path("", include("recsite.urls"))]  # the dashboard, for pages outside the API
