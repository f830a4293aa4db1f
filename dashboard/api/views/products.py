"""GET one product; PUT, PATCH and DELETE products in batches (the catalog kept in step with the store)."""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from dashboard.api.base import ApiView
from dashboard.api.schema import AUTH_PROBLEMS, PROBLEM_EXAMPLE, problem_responses
from dashboard.models import ApiToken, Product, Scope
from dashboard.services.catalog_write import MAX_PRODUCTS, ProductsInputError, products_delete, products_upsert

NOT_BLANK = r"\S"  # a value with something else than spaces (JSON Schema patterns search, as DRF's RegexField does)
WEB_ADDRESS = r"^https?://\S+$"  # the importer's rule for image_url


class ProductPatchSerializer(serializers.Serializer):
    id = serializers.RegexField(NOT_BLANK, max_length=200, help_text="Your product id.")
    title = serializers.RegexField(NOT_BLANK, max_length=500, required=False)
    description = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    category = serializers.CharField(max_length=500, required=False, allow_blank=True, allow_null=True,
                                     help_text="Levels separated by ' > ', e.g. Home > Candles.")
    brand = serializers.CharField(max_length=200, required=False, allow_blank=True, allow_null=True)
    price = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=9_999_999_999.99)
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True, allow_null=True,
                                     help_text="Default: the catalog's currency.")
    image_url = serializers.RegexField(WEB_ADDRESS, max_length=1000, required=False, allow_blank=True,
                                       allow_null=True, help_text="An http:// or https:// address.",
                                       error_messages={"invalid": "expected a web address starting with http:// "
                                                                  "or https://"})
    in_stock = serializers.BooleanField(required=False, allow_null=True, help_text="Default true.")
    attributes = serializers.DictField(required=False, allow_null=True,
                                       help_text="Any further facts (colour, size…), searchable by their text.")


class ProductPutSerializer(ProductPatchSerializer):
    title = serializers.RegexField(NOT_BLANK, max_length=500)


class ProductsPutSerializer(serializers.Serializer):
    products = ProductPutSerializer(many=True, help_text=f"At most {MAX_PRODUCTS}.")


class ProductsPatchSerializer(serializers.Serializer):
    products = ProductPatchSerializer(many=True, help_text=f"At most {MAX_PRODUCTS}.")


class ProductIdsSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.CharField(max_length=200), max_length=MAX_PRODUCTS,
                                help_text=f"At most {MAX_PRODUCTS} product ids.")


class UpsertedSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    request_id = serializers.CharField()


class DeletedSerializer(serializers.Serializer):
    deleted = serializers.IntegerField(help_text="Products deleted (ids not in the catalog are skipped).")
    request_id = serializers.CharField()


class ProductSerializer(serializers.Serializer):
    id = serializers.CharField(source="external_id")
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    category = serializers.CharField(source="category_path", allow_blank=True)
    brand = serializers.CharField(allow_blank=True)
    price = serializers.FloatField(allow_null=True)
    currency = serializers.CharField(allow_blank=True)
    image_url = serializers.CharField(allow_blank=True)
    in_stock = serializers.BooleanField()
    attributes = serializers.DictField()
    updated_at = serializers.DateTimeField()


class _BatchBodies(AutoSchema):
    """drf-spectacular documents request bodies only for POST/PUT/PATCH, and for PATCH makes every field of the
    body optional (``Patched…``). DELETE …/products takes a body, and a PATCH batch still needs ``products``
    (its items are optional by design): both are documented as the bodies they are."""

    def _get_request_body(self, direction: str = "request") -> Any:
        method = self.method
        if method not in ("DELETE", "PATCH"):
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = method


EXAMPLE_PRODUCT = {"id": "85123A", "title": "White hanging heart T-light holder", "description": "",
                   "category": "Home > Candles", "brand": "", "price": 2.55, "currency": "GBP",
                   "image_url": "https://shop.example/img/85123A.jpg", "in_stock": True,
                   "attributes": {"colour": "white"}}
UPSERTED = OpenApiExample("written", response_only=True, status_codes=["200"],
                          value={"created": 1, "updated": 0, "request_id": "7d0c6f7e-1b9a-4b8e-9d3c-5e2f1a0b4c6d"})


def _body_list(data: Any, key: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise ValidationError({key: [f"send {{\"{key}\": [...]}}"]})
    items = data[key]
    if isinstance(items, list) and len(items) > MAX_PRODUCTS:
        raise ValidationError({key: [f"at most {MAX_PRODUCTS} per request (this one has {len(items)}); split the "
                                     "batch"]})
    return data


class ProductsView(ApiView):
    """Create, change and delete products in batches: the whole batch or nothing."""

    required_scope = Scope.CATALOG_WRITE
    schema = _BatchBodies()

    def _upsert(self, request: Request, slug: str, partial: bool) -> Response:
        catalog = self.catalog(request, slug)
        body = (ProductsPatchSerializer if partial else ProductsPutSerializer)(data=_body_list(request.data,
                                                                                              "products"))
        body.is_valid(raise_exception=True)
        try:
            result = products_upsert(catalog=catalog, products=body.validated_data["products"], partial=partial)
        except ProductsInputError as exc:
            raise ValidationError(exc.errors) from None
        return Response({"created": result.created, "updated": result.updated, "request_id": self.request_id(request)})

    @extend_schema(
        tags=["catalog"], summary="Create or replace products",
        description=f"Each product is created, or replaced as a whole: a field left out gets its default (empty, no "
                    f"price, in stock, the catalog's currency, no attributes). At most {MAX_PRODUCTS} per request; "
                    "if any is invalid nothing changes (400, `errors` keyed `products.<index>.<field>`). New "
                    "products become searchable within seconds; recommendations include them after the next "
                    "training.",
        request=ProductsPutSerializer,
        responses={(200, "application/json"): UpsertedSerializer, **problem_responses(400, *AUTH_PROBLEMS)},
        examples=[OpenApiExample("one product", request_only=True, value={"products": [EXAMPLE_PRODUCT]}), UPSERTED,
                  PROBLEM_EXAMPLE],
    )
    def put(self, request: Request, slug: str) -> Response:
        return self._upsert(request, slug, partial=False)

    @extend_schema(
        tags=["catalog"], summary="Change some fields of existing products",
        description=f"Only the fields each product gives change (`attributes` are merged key by key). The products "
                    f"must exist (create them with PUT). At most {MAX_PRODUCTS} per request; the whole batch or "
                    "nothing.",
        request=ProductsPatchSerializer,
        responses={(200, "application/json"): UpsertedSerializer, **problem_responses(400, *AUTH_PROBLEMS)},
        examples=[OpenApiExample("price and stock", request_only=True,
                                 value={"products": [{"id": "85123A", "price": 2.95, "in_stock": False}]}),
                  OpenApiExample("changed", response_only=True, status_codes=["200"],
                                 value={"created": 0, "updated": 1, "request_id": "7d0c6f7e-1b9a-4b8e-9d3c-5e2f1a0b4c6d"}),
                  PROBLEM_EXAMPLE],
    )
    def patch(self, request: Request, slug: str) -> Response:
        return self._upsert(request, slug, partial=True)

    @extend_schema(
        tags=["catalog"], summary="Delete products",
        description=f"Deletes the products with these ids **and all their events** (views, purchases…). Ids not in "
                    f"the catalog are skipped. At most {MAX_PRODUCTS} per request.",
        request=ProductIdsSerializer,
        responses={(200, "application/json"): DeletedSerializer, **problem_responses(400, *AUTH_PROBLEMS)},
        examples=[OpenApiExample("two ids", request_only=True, value={"ids": ["85123A", "71053"]}),
                  OpenApiExample("deleted", response_only=True, status_codes=["200"],
                                 value={"deleted": 2, "request_id": "7d0c6f7e-1b9a-4b8e-9d3c-5e2f1a0b4c6d"}),
                  PROBLEM_EXAMPLE],
    )
    def delete(self, request: Request, slug: str) -> Response:
        catalog = self.catalog(request, slug)
        body = ProductIdsSerializer(data=_body_list(request.data, "ids"))
        body.is_valid(raise_exception=True)
        deleted = products_delete(catalog=catalog, ids=body.validated_data["ids"])
        return Response({"deleted": deleted, "request_id": self.request_id(request)})


class ProductDetailView(ApiView):
    """One product as stored. A token with recommendations:read or catalog:write may read it."""

    def scope_for(self, method: str) -> str | None:
        token = getattr(self.request, "auth", None)
        if isinstance(token, ApiToken) and Scope.CATALOG_WRITE in token.scopes:
            return Scope.CATALOG_WRITE
        return Scope.RECOMMENDATIONS_READ

    @extend_schema(
        tags=["catalog"], summary="One product",
        description="Needs the scope recommendations:read or catalog:write.",
        responses={(200, "application/json"): ProductSerializer, **problem_responses(*AUTH_PROBLEMS)},
        examples=[OpenApiExample("product", response_only=True, status_codes=["200"],
                                 value={**EXAMPLE_PRODUCT, "updated_at": "2026-11-30T08:26:00Z"})],
    )
    def get(self, request: Request, slug: str, product_id: str) -> Response:
        catalog = self.catalog(request, slug)
        product = Product.objects.filter(catalog=catalog, external_id=product_id).first()
        if product is None:
            raise NotFound(_("No product “%(id)s” in this catalog. Create it with PUT …/products.") % {"id": product_id},
                           code="product_not_found")
        return Response(ProductSerializer(product).data)
