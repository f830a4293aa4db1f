"""Search analytics from ``search`` events: top queries, click-through, and queries that find nothing.

Definitions (shown on the page too):

- A query is the event's ``query`` text, lower-cased and trimmed; events without one are left out.
- **Click-through**: a search counts as clicked when the same shopper, or the same (non-empty)
  session, has a ``click`` event on a product after it, within
  ``window_minutes`` (default :data:`CLICK_WINDOW_MINUTES`). CTR = clicked searches / searches.
- **Zero-result queries**: the most frequent :data:`ZERO_RESULT_CANDIDATES` distinct queries of
  the period, run again now against the active version's index in keyword mode (BM25 over the
  indexed fields). A hybrid search always returns nearest neighbours, so "no product contains
  any of the words" is what zero results means; each comes with the index's "did you mean".
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db.models import Count, DateTimeField, Exists, ExpressionWrapper, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Lower, Trim

from dashboard.models import Catalog, Event, EventType
from dashboard.services.search_index import active_index

CLICK_WINDOW_MINUTES = 30
ZERO_RESULT_CANDIDATES = 500


@dataclasses.dataclass(frozen=True)
class QueryStats:
    query: str
    searches: int
    shoppers: int
    clicked: int
    last: dt.datetime

    @property
    def ctr(self) -> float:
        return self.clicked / self.searches if self.searches else 0.0


SORTS: dict[str, Callable[[QueryStats], tuple[Any, ...]]] = {
    "searches": lambda s: (-s.searches, s.query),
    "ctr": lambda s: (s.ctr, -s.searches, s.query),  # the worst first
    "query": lambda s: (s.query,),
}


def default_period(*, catalog: Catalog, days: int = 30) -> tuple[dt.date, dt.date] | None:
    """The ``days`` ending at the catalog's latest search event (None: no search events at all)."""
    last = Event.objects.filter(catalog=catalog, type=EventType.SEARCH).aggregate(t=Max("timestamp"))["t"]
    if last is None:
        return None
    end = last.date()
    return end - dt.timedelta(days=days - 1), end


def _searches(catalog: Catalog, start: dt.date, end: dt.date) -> QuerySet[Event]:
    """Search events with a query on the days ``start``..``end`` (inclusive, UTC)."""
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    return (Event.objects.filter(catalog=catalog, type=EventType.SEARCH, timestamp__gte=lo, timestamp__lt=hi)
            .annotate(q=Lower(Trim("query"))).exclude(q=""))


def query_stats(*, catalog: Catalog, start: dt.date, end: dt.date, window_minutes: int = CLICK_WINDOW_MINUTES,
                sort: str = "searches") -> list[QueryStats]:
    """One row per distinct query of the period, sorted by ``sort`` (searches, ctr or query)."""
    window = dt.timedelta(minutes=window_minutes)
    until = ExpressionWrapper(OuterRef("timestamp") + window, output_field=DateTimeField())
    clicks = Event.objects.filter(catalog=catalog, type=EventType.CLICK, product__isnull=False,
                                  timestamp__gt=OuterRef("timestamp"),
                                  timestamp__lte=until)
    rows = (_searches(catalog, start, end)
            .annotate(by_shopper=Exists(clicks.filter(shopper_id=OuterRef("shopper_id"))),
                      by_session=Exists(clicks.filter(session_id=OuterRef("session_id"))))
            .values("q")
            .annotate(searches=Count("id"), shoppers=Count("shopper_id", distinct=True), last=Max("timestamp"),
                      clicked=Count("id", filter=Q(by_shopper=True, shopper_id__isnull=False)
                                    | (Q(by_session=True) & ~Q(session_id="")))))
    out = [QueryStats(r["q"], r["searches"], r["shoppers"], r["clicked"], r["last"]) for r in rows]
    return sorted(out, key=SORTS.get(sort, SORTS["searches"]))


def totals(stats: list[QueryStats]) -> dict[str, Any]:
    searches = sum(s.searches for s in stats)
    clicked = sum(s.clicked for s in stats)
    return {"searches": searches, "queries": len(stats), "clicked": clicked,
            "ctr": clicked / searches if searches else None}


def zero_result_queries(*, catalog: Catalog, stats: list[QueryStats],
                        limit: int = ZERO_RESULT_CANDIDATES) -> list[dict[str, Any]]:
    """``[{"query", "searches", "suggestion"}]`` of the most frequent queries that match no product now
    (see the module doc). Raises :class:`~dashboard.services.search_index.SearchUnavailable` without an index."""
    _, loaded = active_index(catalog)
    out = []
    with loaded.lock:
        probe = copy.copy(loaded.engine)  # the same index, queried in keyword mode
        probe.config = dataclasses.replace(probe.config, mode="bm25")
        for s in sorted(stats, key=lambda s: (-s.searches, s.query))[:limit]:
            result = probe.search(s.query, k=1)
            if not result.hits:
                out.append({"query": s.query, "searches": s.searches, "suggestion": result.suggestion})
    return out


__all__ = ["CLICK_WINDOW_MINUTES", "QueryStats", "default_period", "query_stats", "totals", "zero_result_queries"]
