"""GET search: the parsed query, a did-you-mean, and a page of results."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from dashboard.api.base import ApiView
from dashboard.api.schema import AUTH_PROBLEMS, problem_responses
from dashboard.api.serializers import SearchParams, ServedSerializer
from dashboard.models import Scope
from dashboard.services import storefront


class SearchResultSerializer(ServedSerializer):
    query = serializers.DictField(help_text="How the query was understood: tokens, spelling fixes, price, brand…")
    suggestion = serializers.CharField(allow_null=True, help_text="Did you mean …?")
    settings = serializers.CharField()


EXAMPLE = {
    "request_id": "6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d", "model_version": 3, "fusion_config": "Default",
    "variant": None, "fallback": None, "surface": "search", "n": 1, "offset": 0, "settings": "Hybrid",
    "query": {"text": "red heart cake stand under 20", "price_max": 20.0, "colours": ["red"]},
    "suggestion": None,
    "items": [{"position": 1, "item_id": "22776", "title": "RED RETROSPOT CAKE STAND", "price": 9.95,
               "currency": "GBP", "image_url": "", "category": "Kitchen", "in_stock": True, "score": 1.42,
               "reason": "title matches “cake stand”"}],
}


class SearchView(ApiView):
    required_scope = Scope.SEARCH_READ

    @extend_schema(tags=["search"], summary="Search the catalog",
                   description="Hybrid keyword + meaning search with query understanding, optionally personalised "
                               "for `shopper`. Page with `offset`.",
                   parameters=[SearchParams], responses={200: SearchResultSerializer, **problem_responses(400, *AUTH_PROBLEMS)},
                   examples=[OpenApiExample("a query", value=EXAMPLE, response_only=True)])
    def get(self, request: Request, slug: str) -> Response:
        catalog = self.catalog(request, slug)
        params = SearchParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        body = storefront.search_results(catalog=catalog, params=params.validated_data,
                                         request_id=self.request_id(request), token_id=self.token(request).pk)
        return Response(body, headers=self.served_headers(body))


