"""GET products/<id>/similar and products/<id>/complementary, each item with its reason."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from dashboard.api.base import ApiView
from dashboard.api.schema import AUTH_PROBLEMS, problem_responses
from dashboard.api.serializers import RelatedParams, ServedSerializer
from dashboard.models import Scope
from dashboard.services import storefront

EXAMPLE = {
    "request_id": "0b6f1c2d-3e4a-4b5c-8d9e-0f1a2b3c4d5e", "model_version": 3, "fusion_config": "", "variant": None,
    "fallback": None, "surface": "similar", "n": 1, "offset": 0,
    "items": [{"position": 1, "item_id": "21733", "title": "RED HANGING HEART T-LIGHT HOLDER", "price": 2.95,
               "currency": "GBP", "image_url": "", "category": "Home > Candles", "in_stock": True, "score": 0.87,
               "reason": "Similar description"}],
}


class _RelatedView(ApiView):
    required_scope = Scope.RECOMMENDATIONS_READ
    kind = "similar"

    def get(self, request: Request, slug: str, product_id: str) -> Response:
        catalog = self.catalog(request, slug)
        params = RelatedParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        body = storefront.related(catalog=catalog, product_id=product_id, kind=self.kind,
                                  n=params.validated_data["n"], offset=params.validated_data["offset"],
                                  request_id=self.request_id(request), token_id=self.token(request).pk,
                                  shopper=params.validated_data["shopper"], session=params.validated_data["session"])
        return Response(body, headers=self.served_headers(body))


class SimilarView(_RelatedView):
    kind = "similar"

    @extend_schema(tags=["related items"], summary="Items similar to a product",
                   parameters=[RelatedParams], responses={200: ServedSerializer, **problem_responses(400, *AUTH_PROBLEMS)},
                   examples=[OpenApiExample("similar", value=EXAMPLE, response_only=True)])
    def get(self, request: Request, slug: str, product_id: str) -> Response:
        return super().get(request, slug, product_id)


class ComplementaryView(_RelatedView):
    kind = "complementary"

    @extend_schema(tags=["related items"], summary="Items that go with a product (bought together, complements)",
                   parameters=[RelatedParams], responses={200: ServedSerializer, **problem_responses(400, *AUTH_PROBLEMS)},
                   examples=[OpenApiExample("complementary", response_only=True,
                                            value={**EXAMPLE, "surface": "complementary"})])
    def get(self, request: Request, slug: str, product_id: str) -> Response:
        return super().get(request, slug, product_id)
