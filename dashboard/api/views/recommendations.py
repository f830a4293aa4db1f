"""GET recommendations: for a shopper, or for a guest from the items they just viewed."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from dashboard.api.base import ApiView
from dashboard.api.schema import AUTH_PROBLEMS, problem_responses
from dashboard.api.serializers import RecommendationParams, ServedSerializer
from dashboard.models import Scope
from dashboard.services import storefront

EXAMPLE = {
    "request_id": "3f2c9a4e-8b1d-4c57-9a0e-2b7f6d1c5e90", "model_version": 3, "fusion_config": "Default",
    "variant": None, "fallback": None, "surface": "home", "n": 2, "offset": 0,
    "items": [
        {"position": 1, "item_id": "85123A", "title": "WHITE HANGING HEART T-LIGHT HOLDER", "price": 2.55,
         "currency": "GBP", "image_url": "", "category": "Home > Candles", "in_stock": True, "score": 0.91,
         "reason": "Mostly from the ease signal."},
        {"position": 2, "item_id": "22423", "title": "REGENCY CAKESTAND 3 TIER", "price": 12.75, "currency": "GBP",
         "image_url": "", "category": "Kitchen", "in_stock": True, "score": 0.84, "reason": "Mostly from the mf signal."},
    ],
}


class RecommendationsView(ApiView):
    required_scope = Scope.RECOMMENDATIONS_READ

    @extend_schema(
        tags=["recommendations"], summary="Recommendations for a shopper or a guest session",
        description="Unknown shoppers get a guest list from `recent` (or popular items, marked `fallback`). "
                    "Page with `offset`; send `request_id` back with events on these items.",
        parameters=[RecommendationParams], responses={200: ServedSerializer, **problem_responses(400, *AUTH_PROBLEMS)},
        examples=[OpenApiExample("a shopper's home page", value=EXAMPLE, response_only=True)])
    def get(self, request: Request, slug: str) -> Response:
        catalog = self.catalog(request, slug)
        params = RecommendationParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        body = storefront.recommendations(catalog=catalog, params=params.validated_data,
                                          request_id=self.request_id(request), token_id=self.token(request).pk)
        return Response(body, headers=self.served_headers(body))
