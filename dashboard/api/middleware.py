"""API middleware: a request id for every ``/api/`` request, and problem+json for errors Django answers itself.

Order in ``MIDDLEWARE``: ``RequestIdMiddleware`` near the top (so every answer carries ``X-Request-Id``),
``ApiProblemMiddleware`` just inside ``CorsMiddleware`` (so the answers it replaces still get CORS headers).
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

from dashboard.api.errors import PROBLEM_TYPE, problem_json_response

API_PREFIX = "/api/"
log = logging.getLogger("dashboard.api")
_DJANGO_ANSWERS = (Http404, PermissionDenied, SuspiciousOperation, BadRequest)

Handler = Callable[[HttpRequest], HttpResponseBase]


class RequestIdMiddleware:
    """``request.request_id`` (a fresh uuid4 string; never the client's, since served lists are keyed by it) and
    the ``X-Request-Id`` response header, for paths under ``/api/``."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        request.request_id = rid = str(uuid.uuid4())  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-Id"] = rid
        return response


def _is_json(response: HttpResponseBase) -> bool:
    kind = response.get("Content-Type", "").split(";")[0].strip()
    return kind in (PROBLEM_TYPE, "application/json")


class ApiProblemMiddleware:
    """Under ``/api/``: an exception no one handled → a logged 500 problem (never a traceback), and Django's own
    error pages (no such URL, a 500 from a middleware) → the same problem shape."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code < 400 or not request.path.startswith(API_PREFIX) or _is_json(response):
            return response
        if response.status_code == 404:
            return problem_json_response(request, status=404, slug="no-such-endpoint", detail=_(
                "There is no API endpoint at %(path)s. The endpoints are listed at /api/v1/docs/.")
                % {"path": request.path})
        if response.status_code >= 500:
            return problem_json_response(request, status=response.status_code, slug="server-error",
                                         detail=_server_error_detail(request))
        headers = {"Allow": response["Allow"]} if response.has_header("Allow") else None
        return problem_json_response(request, status=response.status_code, slug="http-error", headers=headers,
                                     detail=_("The request was refused (%(status)d).")
                                     % {"status": response.status_code})

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX) or isinstance(exception, _DJANGO_ANSWERS):
            return None  # Django answers these (404, 403, 400); __call__ then reshapes the answer
        log.exception("Unhandled error answering %s %s (request id %s)", request.method, request.path,
                      getattr(request, "request_id", "-"))
        return problem_json_response(request, status=500, slug="server-error", detail=_server_error_detail(request))


def _server_error_detail(request: HttpRequest) -> str:
    return _("Something went wrong on our side; it has been logged. Try again, and if it keeps failing, report the "
             "request id %(rid)s.") % {"rid": getattr(request, "request_id", "-")}
