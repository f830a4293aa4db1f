"""Per-token rate limit: ``token.throttle_per_minute`` or ``settings.API_THROTTLE_PER_MINUTE`` requests a minute.

Counts live in the ``throttle`` cache (``THROTTLE_CACHE_URL``). The embedded default is the in-process
``locmem`` cache, so each web process counts on its own (a token may get N × its rate from N processes);
production points it at Redis, which all processes share.

The window slides: the estimate is this minute's count plus last minute's, weighted by how much of last
minute still lies within the past 60 s. That costs one increment and one read per request (DRF's
``SimpleRateThrottle`` keeps and rewrites a list of every timestamp instead). Refused requests count too,
so a client that ignores ``Retry-After`` stays refused.
"""
from __future__ import annotations

import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from dashboard.models import ApiToken

WINDOW_S = 60


def throttle_cache() -> BaseCache:
    return caches["throttle"]


def _increment(cache: BaseCache, key: str) -> int:
    try:
        return cache.incr(key)
    except ValueError:  # the key is new (or just expired)
        if cache.add(key, 1, timeout=WINDOW_S * 2 + 10):
            return 1
        return cache.incr(key)


def retry_after(*, limit: int, current: int, previous: int, elapsed: float) -> float:
    """Seconds until one more request fits, given this window's count (refused ones included), the last one's,
    and the seconds gone in this window."""
    needed = current + 1
    if needed <= limit:
        # wait until enough of the previous window has slid out
        at = WINDOW_S * (1 - (limit - needed) / previous) if previous else elapsed
        return max(at - elapsed, 0.0)
    # this window is full: in the next one, it becomes the weighted previous window
    at_next = max(WINDOW_S * (1 - (limit - 1) / current), 0.0) if current else 0.0
    return WINDOW_S - elapsed + at_next


class TokenRateThrottle(BaseThrottle):
    """Requests per minute per token; requests without a token (public views) are not counted."""

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        limit = token.throttle_per_minute or settings.API_THROTTLE_PER_MINUTE
        now = time.time()
        window = int(now // WINDOW_S)
        elapsed = now - window * WINDOW_S
        cache = throttle_cache()
        current = _increment(cache, f"throttle:token:{token.pk}:{window}")
        previous = int(cache.get(f"throttle:token:{token.pk}:{window - 1}") or 0)
        if previous * (1 - elapsed / WINDOW_S) + current <= limit:
            return True
        self._wait = retry_after(limit=limit, current=current, previous=previous, elapsed=elapsed)
        return False

    def wait(self) -> float | None:
        return None if self._wait is None else max(1.0, math.ceil(self._wait))
