"""The API's renderers (a module of its own: DRF reads the renderer setting while ``rest_framework.views``
is first imported, so it must not import that module back)."""
from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer

PROBLEM_TYPE = "application/problem+json"


class ProblemRenderer(JSONRenderer):
    """JSON under the problem media type, so ``Accept: application/problem+json`` negotiates."""

    media_type = PROBLEM_TYPE
    format = "problem+json"


class JsonOnlyNegotiation(DefaultContentNegotiation):
    """The API speaks JSON only: an ``Accept`` header it cannot meet (``application/problem+json`` alone, say)
    gets JSON rather than a 406; errors are problem+json whatever the client asked for."""

    def select_renderer(self, request: Any, renderers: Any, format_suffix: str | None = None) -> Any:
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type
