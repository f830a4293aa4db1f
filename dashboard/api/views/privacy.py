"""A shopper's stored data: ``GET …/shoppers/<id>/data`` exports it as JSON, ``DELETE`` erases it everywhere.

Both need a secret token with ``catalog:write`` bound to the catalog; each call is audited.
"""
from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from dashboard.api.base import ApiView
from dashboard.api.schema import AUTH_PROBLEMS, problem_responses
from dashboard.models import Scope
from dashboard.services.privacy import ShopperNotFound, shopper_erase, shopper_export

ExportSerializer = inline_serializer("ShopperData", {
    "catalog": serializers.CharField(), "shopper": serializers.DictField(),
    "events": serializers.ListField(child=serializers.DictField()),
    "searches": serializers.ListField(child=serializers.DictField()),
    "impressions": serializers.ListField(child=serializers.DictField()),
    "profile": serializers.DictField(), "exported_at": serializers.DateTimeField(),
})
ErasedSerializer = inline_serializer("ShopperErased", {
    "erased": serializers.DictField(child=serializers.IntegerField(),
                                    help_text="What was removed, per place: shopper, events, impressions, "
                                              "online_state, snapshot_rows, upload_files."),
})


class ShopperDataView(ApiView):
    required_scope = Scope.CATALOG_WRITE

    @extend_schema(tags=["shoppers"], summary="Export everything stored about one shopper",
                   responses={200: ExportSerializer, **problem_responses(*AUTH_PROBLEMS)})
    def get(self, request: Request, slug: str, shopper_id: str) -> Response:
        catalog = self.catalog(request, slug)
        try:
            data = shopper_export(catalog=catalog, external_id=shopper_id,
                                  via=f"api token {self.token(request).prefix}")
        except ShopperNotFound as exc:
            raise NotFound(str(exc), code="shopper_not_found") from None
        return Response(data)

    @extend_schema(tags=["shoppers"], summary="Erase one shopper everywhere (events, searches, impressions, "
                                              "online state, training snapshots, raw uploads)",
                   responses={200: ErasedSerializer, **problem_responses(*AUTH_PROBLEMS)})
    def delete(self, request: Request, slug: str, shopper_id: str) -> Response:
        catalog = self.catalog(request, slug)
        counts = shopper_erase(catalog=catalog, external_id=shopper_id, via=f"api token {self.token(request).prefix}")
        return Response({"erased": counts})
