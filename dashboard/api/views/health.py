"""Liveness, readiness, and "which token is this" (also the load benchmark's no-op floor)."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from dashboard.api.base import ApiView
from dashboard.api.schema import AUTH_PROBLEMS, problem_responses
from dashboard.services.health import readiness

_Check = inline_serializer("HealthCheck", {"ok": serializers.BooleanField(), "detail": serializers.CharField()})


class LiveView(ApiView):
    """The process answers. Needs no token; touches nothing else."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = []

    @extend_schema(tags=["health"], summary="Liveness", auth=[],
                   responses={200: inline_serializer("Live", {"status": serializers.CharField()})},
                   examples=[OpenApiExample("live", value={"status": "ok"}, response_only=True)])
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ReadyView(ApiView):
    """Ready to serve: the database and the broker answer, and every catalog's active model is loaded in
    this process (a process that is still loading one answers 503 and keeps loading it in the background)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = []

    @extend_schema(
        tags=["health"], summary="Readiness", auth=[],
        responses={(200, "application/json"): inline_serializer("Ready", {
            "status": serializers.CharField(), "database": _Check, "broker": _Check,
            "models": serializers.DictField(child=serializers.CharField())}),
            (503, "application/json"): inline_serializer("NotReady", {
                "status": serializers.CharField(), "database": _Check, "broker": _Check,
                "models": serializers.DictField(child=serializers.CharField())})},
        examples=[OpenApiExample("ready", response_only=True, value={
            "status": "ready", "database": {"ok": True, "detail": ""}, "broker": {"ok": True, "detail": ""},
            "models": {"uk-gifts": "loaded version 3"}})])
    def get(self, request: Request) -> Response:
        report = readiness()
        return Response(report, status=200 if report["status"] == "ready" else 503)


class TokenView(ApiView):
    """The calling token: its name, kind, scopes and catalogs (a cheap way to check a key)."""

    @extend_schema(tags=["health"], summary="The calling token",
                   responses={200: inline_serializer("TokenInfo", {
                       "name": serializers.CharField(), "kind": serializers.CharField(),
                       "scopes": serializers.ListField(child=serializers.CharField()),
                       "catalog": serializers.CharField(), "expires_at": serializers.DateTimeField(allow_null=True)}),
                       **problem_responses(*AUTH_PROBLEMS)},
                   examples=[OpenApiExample("token", response_only=True, value={
                       "name": "web shop", "kind": "public", "scopes": ["recommendations:read", "search:read"],
                       "catalog": "uk-gifts", "expires_at": None})])
    def get(self, request: Request, slug: str) -> Response:
        catalog = self.catalog(request, slug)
        token = self.token(request)
        return Response({"name": token.name, "kind": token.kind, "scopes": list(token.scopes),
                         "catalog": catalog.slug, "expires_at": token.expires_at})
