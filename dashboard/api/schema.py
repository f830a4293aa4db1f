"""OpenAPI pieces every API view shares: the problem body and the error responses that use it."""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers

from dashboard.api.errors import PROBLEM_TYPE

DESCRIPTIONS = {
    400: "Invalid input: `errors` maps each field (e.g. `events.3.timestamp`) to what to fix.",
    401: "No token, or a token that is invalid, revoked or expired.",
    403: "The token lacks the scope this endpoint needs.",
    404: "No such catalog for this token, or no such item.",
    429: "Too many requests for this token: wait `Retry-After` seconds.",
}


class ProblemSerializer(serializers.Serializer):
    """An error, as RFC 9457 problem details (``application/problem+json``)."""

    type = serializers.CharField(help_text="A URI naming the kind of problem.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="What went wrong and how to fix it.")
    request_id = serializers.CharField(allow_blank=True)
    # DRF's metaclass moves declared fields out of the class, so this shadows Serializer.errors only for mypy.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text="Invalid input only: field → messages.")


PROBLEM_EXAMPLE = OpenApiExample(
    "invalid input", response_only=True, status_codes=["400"], media_type=PROBLEM_TYPE,
    value={"type": "https://fusion.invalid/problems/validation-error", "title": "Bad Request", "status": 400,
           "detail": "events.1.timestamp: expected a date and time like 2010-12-01 08:26:00",
           "request_id": "0b6f1c2d-3e4a-4b5c-8d9e-0f1a2b3c4d5e",
           "errors": {"events.1.timestamp": ["expected a date and time like 2010-12-01 08:26:00"]}})


def problem_responses(*statuses: int) -> dict[Any, OpenApiResponse]:
    """``extend_schema(responses=…)`` entries for these error statuses, each a problem+json body."""
    return {(status, PROBLEM_TYPE): OpenApiResponse(ProblemSerializer, description=DESCRIPTIONS.get(status, ""))
            for status in statuses}


AUTH_PROBLEMS = (401, 403, 404, 429)
