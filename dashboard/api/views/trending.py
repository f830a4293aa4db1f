"""GET trending: the products trending now (time-decayed interactions), overall or in a category."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from dashboard.api.base import ApiView
from dashboard.api.schema import AUTH_PROBLEMS, problem_responses
from dashboard.api.serializers import PageParams, ServedSerializer
from dashboard.models import Scope
from dashboard.services.trending import trending_body

EXAMPLE = {
    "request_id": "5d0c1f7e-2b3a-4c5d-9e8f-7a6b5c4d3e2f", "model_version": None, "fusion_config": "", "variant": None,
    "fallback": None, "surface": "trending", "n": 1, "offset": 0, "category": "Home", "half_life_hours": 6.0,
    "items": [{"position": 1, "item_id": "21733", "title": "RED HANGING HEART T-LIGHT HOLDER", "price": 2.95,
               "currency": "GBP", "image_url": "", "category": "Home > Candles", "in_stock": True, "score": 41.7,
               "reason": "Trending now (half-life 6 h)"}],
}


class TrendingParams(PageParams):
    category = serializers.CharField(required=False, default="", allow_blank=True, max_length=500,
                                     help_text="A category path or one of its top levels, e.g. Home or "
                                               "Home > Kitchen (default: the whole catalog).")


class TrendingServedSerializer(ServedSerializer):
    category = serializers.CharField(allow_blank=True)
    half_life_hours = serializers.FloatField(help_text="An event counts half as much after this many hours.")


class TrendingView(ApiView):
    required_scope = Scope.RECOMMENDATIONS_READ

    @extend_schema(tags=["recommendations"], summary="Products trending now",
                   description="Products ranked by their interactions (weighted by type, as in training), each "
                               "counting half as much after the catalog's half-life; `score` is that decayed "
                               "weight now. Updated within seconds of the events. `fallback` is "
                               "`nothing_trending` when no product had an interaction lately.",
                   parameters=[TrendingParams],
                   responses={200: TrendingServedSerializer, **problem_responses(400, *AUTH_PROBLEMS)},
                   examples=[OpenApiExample("trending in a category", value=EXAMPLE, response_only=True)])
    def get(self, request: Request, slug: str) -> Response:
        catalog = self.catalog(request, slug)
        params = TrendingParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        body = trending_body(catalog=catalog, n=data["n"], offset=data["offset"], category=data["category"],
                             request_id=self.request_id(request), token_id=self.token(request).pk)
        return Response(body, headers=self.served_headers(body))
