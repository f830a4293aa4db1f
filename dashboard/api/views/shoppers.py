"""GET shoppers/<id>/profile: what the shopper's events say about them."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from dashboard.api.base import ApiView
from dashboard.api.schema import AUTH_PROBLEMS, problem_responses
from dashboard.models import Scope
from dashboard.services import storefront

ProfileSerializer = inline_serializer("ShopperProfile", {
    "shopper_id": serializers.CharField(), "state": serializers.CharField(),
    "model_version": serializers.IntegerField(allow_null=True), "known_to_model": serializers.BooleanField(),
    "profile": serializers.DictField(allow_null=True,
                                     help_text="Top categories and brands with shares, price band, recent intent."),
})


class ShopperProfileView(ApiView):
    required_scope = Scope.RECOMMENDATIONS_READ

    @extend_schema(tags=["shoppers"], summary="A shopper's inferred interests", responses={200: ProfileSerializer, **problem_responses(*AUTH_PROBLEMS)},
                   examples=[OpenApiExample("profile", response_only=True, value={
                       "shopper_id": "17850", "state": "ok", "model_version": 3, "known_to_model": True,
                       "profile": {"events": 312, "categories": [{"name": "Home", "share": 0.4}],
                                   "brands": [], "price": {"band": "mid"}}})])
    def get(self, request: Request, slug: str, shopper_id: str) -> Response:
        catalog = self.catalog(request, slug)
        return Response(storefront.shopper_profile(catalog=catalog, shopper_id=shopper_id))
