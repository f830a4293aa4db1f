"""Serializers shared by the read endpoints: query parameters and the one shape of a served list."""
from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

MAX_N = 100
MAX_OFFSET = 1000
MAX_IDS = 200


@extend_schema_field(OpenApiTypes.STR)
class IdList(serializers.Field):
    """Ids given as ``a,b,c`` or as the parameter repeated (``?recent=a&recent=b``); order kept, duplicates dropped."""

    default_error_messages = {"too_many": f"give at most {MAX_IDS} ids"}

    def get_value(self, dictionary: Any) -> Any:
        if hasattr(dictionary, "getlist"):
            values = dictionary.getlist(self.field_name)
            return values if values else serializers.empty
        return dictionary.get(self.field_name, serializers.empty)

    def to_internal_value(self, data: Any) -> tuple[str, ...]:
        values = data if isinstance(data, list) else [data]
        ids = [part.strip() for value in values for part in str(value).split(",") if part.strip()]
        if len(ids) > MAX_IDS:
            self.fail("too_many")
        return tuple(dict.fromkeys(ids))

    def to_representation(self, value: Any) -> list[str]:
        return list(value)


class PageParams(serializers.Serializer):
    n = serializers.IntegerField(min_value=1, max_value=MAX_N, default=10, help_text="How many items to return.")
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0,
                                      help_text="Items to skip: page 2 of 10 is offset=10 (never repeats page 1).")


class FilterParams(serializers.Serializer):
    category = IdList(required=False, default=(), help_text="Category (or a top level of it); several allowed.")
    filter = IdList(required=False, default=(),
                    help_text="Attribute filters as column:value, e.g. brand:Acme; several values of one column "
                              "match any of them.")
    exclude = IdList(required=False, default=(), help_text="Product ids never to return.")

    def validate_filter(self, value: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for item in value:
            column, sep, wanted = item.partition(":")
            if not sep or not column.strip() or not wanted.strip():
                raise serializers.ValidationError(f"“{item}”: write filters as column:value, e.g. brand:Acme")
            out.setdefault(column.strip(), []).append(wanted.strip())
        return {k: tuple(v) for k, v in out.items()}


class RecommendationParams(PageParams, FilterParams):
    shopper = serializers.CharField(required=False, default="", max_length=200,
                                    help_text="The shopper's id in your store (omit for a guest).")
    session = serializers.CharField(required=False, default="", max_length=200,
                                    help_text="A guest's session id (logged with the impression).")
    recent = IdList(required=False, default=(),
                    help_text="A guest's recently viewed product ids, oldest first (comma-separated).")
    context_item = serializers.CharField(required=False, default="", max_length=200,
                                         help_text="The product on the page, if any.")
    page = serializers.CharField(required=False, default="", max_length=500,
                                 help_text="The page shown, for pins limited to one (e.g. category:Home).")
    surface = serializers.RegexField(r"^[\w.:-]{1,40}$", required=False, default="recommendations",
                                     help_text="A name for where the list is shown (home, cart, …).")
    explain = serializers.BooleanField(required=False, default=False,
                                       help_text="Add each item's per-signal contributions and rules.")


class ExplanationSerializer(serializers.Serializer):
    contributions = serializers.ListField(child=serializers.DictField())
    rules = serializers.ListField(child=serializers.CharField())
    path = serializers.CharField(allow_null=True)


class ItemSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    item_id = serializers.CharField()
    title = serializers.CharField()
    price = serializers.FloatField(allow_null=True)
    currency = serializers.CharField(allow_blank=True)
    image_url = serializers.CharField(allow_blank=True)
    category = serializers.CharField(allow_blank=True)
    in_stock = serializers.BooleanField(allow_null=True)
    score = serializers.FloatField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    explanation = ExplanationSerializer(required=False)


class ServedSerializer(serializers.Serializer):
    """What every served list says about itself."""

    request_id = serializers.CharField(help_text="Send it back with clicks and purchases on these items.")
    model_version = serializers.IntegerField(allow_null=True)
    fusion_config = serializers.CharField(allow_blank=True)
    variant = serializers.CharField(allow_null=True)
    fallback = serializers.CharField(allow_null=True, help_text="null, or why a simpler list was served.")
    surface = serializers.CharField()
    n = serializers.IntegerField()
    offset = serializers.IntegerField()
    items = ItemSerializer(many=True)


class RelatedParams(PageParams):
    shopper = serializers.CharField(required=False, default="", max_length=200,
                                    help_text="The shopper's id (logged with the impression; decides an A/B variant).")
    session = serializers.CharField(required=False, default="", max_length=200,
                                    help_text="A guest's session id (logged with the impression).")


class SearchParams(PageParams, FilterParams):
    q = serializers.CharField(max_length=500, help_text="What the shopper typed.")
    shopper = serializers.CharField(required=False, default="", max_length=200)
    session = serializers.CharField(required=False, default="", max_length=200)
    settings = serializers.CharField(required=False, default="", max_length=200,
                                     help_text="Named search settings (default: the catalog's default).")
