"""POST events: what shoppers did (views, clicks, carts, purchases, searches, returns), one or a batch."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, PolymorphicProxySerializer, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from dashboard.api.base import ApiView
from dashboard.api.schema import AUTH_PROBLEMS, PROBLEM_EXAMPLE, problem_responses
from dashboard.models import Scope
from dashboard.services.events_ingest import EventsInputError, events_ingest
from mlcore.data.validate import EVENT_TYPES


@extend_schema_field(OpenApiTypes.DATETIME)
class TimestampField(serializers.CharField):
    """Checked by the importer's parser: ISO 8601 (naive = UTC) or Unix seconds."""


class EventSerializer(serializers.Serializer):
    """One event as documented. The view checks only each value's JSON type (:func:`shape_errors`); the values
    themselves are checked by the importer's rules (``dashboard.services.events_ingest``), which these mirror."""

    event_id = serializers.CharField(max_length=200, required=False, allow_blank=True, allow_null=True,
                                     help_text="Your unique id for the event: a resend with the same id is stored "
                                               "once. Events without one cannot be deduplicated.")
    type = serializers.ChoiceField(choices=EVENT_TYPES)
    shopper_id = serializers.CharField(max_length=200, required=False, allow_blank=True, allow_null=True,
                                       help_text="The shopper's id in your store (omit for a guest).")
    session_id = serializers.CharField(max_length=200, required=False, allow_blank=True, allow_null=True)
    product_id = serializers.CharField(max_length=200, required=False, allow_blank=True, allow_null=True,
                                       help_text="Required except for searches; the product must exist (PUT "
                                                 "…/products) unless `title` is given.")
    timestamp = TimestampField(required=False, allow_blank=True, allow_null=True,
                               help_text="When it happened (ISO 8601, naive = UTC, or Unix seconds; default: now).")
    quantity = serializers.IntegerField(required=False, allow_null=True, min_value=-2_000_000_000,
                                        max_value=2_000_000_000, help_text="Default 1; negative: a return.")
    value = serializers.FloatField(required=False, allow_null=True, min_value=-999_999_999_999.99,
                                   max_value=999_999_999_999.99,
                                   help_text="Money value (default: price × quantity when price is given).")
    query = serializers.CharField(max_length=500, required=False, allow_blank=True, allow_null=True,
                                  help_text="Search text (required for type search).")
    request_id = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True,
                                       help_text="The `request_id` of the served list the shopper acted on.")
    title = serializers.CharField(max_length=500, required=False, allow_blank=True, allow_null=True,
                                  help_text="Creates the product if the catalog lacks it.")
    price = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=9_999_999_999.99)


# field → the JSON types its value may have (numbers may also come as numeric text, as in a file)
_TEXT, _NUMBER = (str, int, float), (int, float, str)
SHAPES = {name: _NUMBER if isinstance(field, serializers.IntegerField | serializers.FloatField) else _TEXT
          for name, field in EventSerializer().fields.items()}


def shape_errors(events: list[Any]) -> dict[str, list[str]]:
    """``{"events.<index>.<field>": [message]}`` for values of the wrong JSON type and missing required ones.

    Deliberately no per-value parsing here (DRF's serializers cost ~40 µs an event): the importer's rules
    check every value, vectorised, in ``events_ingest``.
    """
    errors: dict[str, list[str]] = {}
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            errors[f"events.{index}"] = ["expected an event object like {\"type\": \"view\", \"product_id\": …}"]
            continue
        for name, value in event.items():
            kinds = SHAPES.get(name)
            if kinds is not None and value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
                errors[f"events.{index}.{name}"] = ["expected a number" if kinds is _NUMBER else "expected text"]
        kind = str(event.get("type") or "").strip().lower()
        if not kind:
            errors.setdefault(f"events.{index}.type", ["required: one of " + ", ".join(EVENT_TYPES)])
        elif kind == "search":
            if not event.get("query"):
                errors.setdefault(f"events.{index}.query", ["a search event needs the search text"])
        elif not event.get("product_id"):
            errors.setdefault(f"events.{index}.product_id", [f"a {kind} event needs the product's id"])
    return errors


class EventBatchSerializer(serializers.Serializer):
    events = EventSerializer(many=True, help_text="At most API_EVENTS_MAX_BATCH (default 1000) events.")


class EventsAcceptedSerializer(serializers.Serializer):
    stored = serializers.IntegerField(help_text="Events stored now.")
    duplicates = serializers.IntegerField(help_text="Events whose event_id was already stored (or repeated).")
    request_id = serializers.CharField()


EXAMPLE_EVENT = {"event_id": "evt-0001", "type": "purchase", "shopper_id": "17850", "session_id": "536365",
                 "product_id": "85123A", "timestamp": "2026-11-30T08:26:00Z", "quantity": 6, "value": 15.30,
                 "request_id": "0b6f1c2d-3e4a-4b5c-8d9e-0f1a2b3c4d5e"}


def _events_of(data: Any) -> list[Any]:
    if isinstance(data, dict) and "events" in data and "type" not in data:  # an event has a type, a batch none
        events = data["events"]
        if not isinstance(events, list):
            raise ValidationError({"events": ["expected a list of event objects"]})
        return events
    if isinstance(data, dict):
        return [data]
    raise ValidationError({"events": ["send one event object, or {\"events\": [...]}"]})


class EventsView(ApiView):
    """Store events. The whole batch or nothing: one invalid event and nothing is stored (400)."""

    required_scope = Scope.EVENTS_WRITE

    @extend_schema(
        tags=["events"], summary="Send events (one, or a batch)",
        description="The body is one event, or `{\"events\": [...]}` (at most API_EVENTS_MAX_BATCH, default 1000). "
                    "If any event is invalid nothing is stored and the answer is 400 with `errors` keyed "
                    "`events.<index>.<field>` (also for a single event: index 0). Otherwise all are stored in one "
                    "transaction (202). Send an `event_id` with every event: resending a batch then stores each "
                    "event once; events without one are stored every time they arrive. An event for a product "
                    "the catalog lacks is rejected unless it gives `title`: create products with PUT …/products.",
        request=PolymorphicProxySerializer(component_name="EventsBody", resource_type_field_name=None,
                                           serializers=[EventSerializer, EventBatchSerializer]),
        responses={(202, "application/json"): EventsAcceptedSerializer, **problem_responses(400, *AUTH_PROBLEMS)},
        examples=[
            OpenApiExample("one event", value=EXAMPLE_EVENT, request_only=True),
            OpenApiExample("a batch", request_only=True, value={"events": [
                EXAMPLE_EVENT, {"event_id": "evt-0002", "type": "search", "session_id": "536365",
                                "query": "red mug", "timestamp": "2026-11-30T08:27:10Z"}]}),
            OpenApiExample("stored", response_only=True, status_codes=["202"],
                           value={"stored": 2, "duplicates": 0, "request_id": "7d0c6f7e-1b9a-4b8e-9d3c-5e2f1a0b4c6d"}),
            PROBLEM_EXAMPLE,
        ],
    )
    def post(self, request: Request, slug: str) -> Response:
        catalog = self.catalog(request, slug)
        events = _events_of(request.data)
        limit = settings.API_EVENTS_MAX_BATCH
        if not events:
            raise ValidationError({"events": ["send at least one event"]})
        if len(events) > limit:
            raise ValidationError({"events": [f"at most {limit} events per request (this one has {len(events)}); "
                                              "split the batch"]})
        errors = shape_errors(events)
        if errors:
            raise ValidationError(errors)
        try:
            result = events_ingest(catalog=catalog, events=events, token_id=request.auth.pk)
        except EventsInputError as exc:
            raise ValidationError(exc.errors) from None
        return Response({"stored": result.stored, "duplicates": result.duplicates,
                         "request_id": self.request_id(request)}, status=202)
