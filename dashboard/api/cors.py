"""Browser access per catalog: a page may call ``/api/v1/catalogs/<slug>/…`` when its origin is in the catalog's
``cors_origins``.

django-cors-headers asks :func:`allow_catalog_origin` (connected to ``check_request_enabled`` in
``dashboard.apps``) for every API request that carries an ``Origin`` the settings do not already allow. The
origin lists are cached in-process for :data:`ORIGINS_CACHE_TTL_S` seconds (at once in this process when a
catalog is saved: :func:`origins_cache_clear`).
"""
from __future__ import annotations

import re
import time
from typing import Any

from django.http import HttpRequest

from dashboard.models import Catalog

ORIGINS_CACHE_TTL_S = 5.0
CATALOG_PATH = re.compile(r"^/api/v1/catalogs/(?P<slug>[-a-zA-Z0-9_]+)(?:/|$)")
_CACHE_MAX = 10_000
_cache: dict[str, tuple[float, frozenset[str]]] = {}  # catalog slug → (monotonic time read, its origins)


def catalog_origins(slug: str) -> frozenset[str]:
    """The origins allowed for catalog ``slug`` (empty for no such catalog), at most ORIGINS_CACHE_TTL_S old."""
    now = time.monotonic()
    hit = _cache.get(slug)
    if hit is None or now - hit[0] > ORIGINS_CACHE_TTL_S:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        row = Catalog.objects.filter(slug=slug).values_list("cors_origins", flat=True).first()
        hit = (now, frozenset(str(o).lower() for o in (row or [])))
        _cache[slug] = hit
    return hit[1]


def allow_catalog_origin(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    """``check_request_enabled`` receiver: True when the request's Origin is listed by the catalog in its path."""
    origin = request.headers.get("origin")
    if not origin:
        return False
    match = CATALOG_PATH.match(request.path_info)
    if match is None:
        return False
    return origin.lower() in catalog_origins(match["slug"])


def origins_cache_clear(**_signal_kwargs: Any) -> None:
    _cache.clear()
