"""One error shape for the whole API: RFC 9457 problem details (``application/problem+json``).

``{"type": "https://fusion.invalid/problems/<slug>", "title", "status", "detail", "request_id"}``, plus
``"errors": {"events.3.timestamp": ["…"]}`` for invalid input. :func:`problem_handler` is DRF's exception
handler; ``dashboard.api.middleware.ApiProblemMiddleware`` gives Django-level errors under ``/api/`` the
same shape.
"""
from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from dashboard.api.renderers import PROBLEM_TYPE, ProblemRenderer

TYPE_BASE = "https://fusion.invalid/problems/"



def flatten_errors(detail: Any, path: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail → ``{dotted.path: [messages]}``; messages at the top go under ``non_field_errors``.

    >>> flatten_errors({"events": [{}, {"timestamp": ["Required."]}], "name": ["Too long."]})
    {'events.1.timestamp': ['Required.'], 'name': ['Too long.']}
    """
    out: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = str(key)
            for sub, messages in flatten_errors(value, f"{path}.{name}" if path else name).items():
                out.setdefault(sub, []).extend(messages)
    elif isinstance(detail, list | tuple):
        for index, value in enumerate(detail):
            if isinstance(value, Mapping | list | tuple):
                for sub, messages in flatten_errors(value, f"{path}.{index}" if path else str(index)).items():
                    out.setdefault(sub, []).extend(messages)
            else:
                out.setdefault(path or api_settings.NON_FIELD_ERRORS_KEY, []).append(str(value))
    else:
        out.setdefault(path or api_settings.NON_FIELD_ERRORS_KEY, []).append(str(detail))
    return out


def problem_body(*, status: int, slug: str, detail: str, request_id: str = "", title: str | None = None,
                 errors: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "request_id": request_id,
    }
    if errors is not None:
        body["errors"] = dict(errors)
    return body


def problem_json_response(request: HttpRequest, *, status: int, slug: str, detail: str,
                          headers: Mapping[str, str] | None = None) -> JsonResponse:
    """A problem answered outside DRF (middleware, Django's own 404/500)."""
    body = problem_body(status=status, slug=slug, detail=detail, request_id=getattr(request, "request_id", ""))
    response = JsonResponse(body, status=status, content_type=PROBLEM_TYPE, json_dumps_params={"ensure_ascii": False})
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _slug(exc: exceptions.APIException) -> str:
    code = getattr(exc.detail, "code", None) if not isinstance(exc.detail, dict | list) else None
    return str(code or exc.default_code).replace("_", "-")


def _validation_detail(errors: Mapping[str, list[str]]) -> str:
    field, messages = next(iter(errors.items()), ("", [""]))
    first = messages[0] if field == api_settings.NON_FIELD_ERRORS_KEY else f"{field}: {messages[0]}"
    more = sum(len(m) for m in errors.values()) - 1
    if more <= 0:
        return first
    return _("%(first)s (and %(n)d more problems; see “errors”)") % {"first": first, "n": more}


def problem_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: every API exception as a problem. Others return None: DRF re-raises them and
    ``ApiProblemMiddleware`` logs them and answers a 500 problem without the traceback."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    if not isinstance(exc, exceptions.APIException):
        return None
    request = context.get("request")
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = str(exc.auth_header)  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
    errors = None
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        slug, detail = "validation-error", _validation_detail(errors)
    else:
        slug, detail = _slug(exc), str(exc.detail)
    body = problem_body(status=exc.status_code, slug=slug, detail=detail, errors=errors,
                        request_id=getattr(getattr(request, "_request", None), "request_id", ""))
    if request is not None:  # render as problem+json whatever the negotiation picked (or failed to pick)
        request.accepted_renderer = ProblemRenderer()
        request.accepted_media_type = PROBLEM_TYPE
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers, content_type=PROBLEM_TYPE)
