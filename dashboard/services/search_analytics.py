"""Search analytics from ``search`` events: top queries, click-through, and queries that find nothing.

Definitions (shown on the page too):

- A query is the event's ``query`` text, normalised (:func:`~mlcore.search.click_pairs.normalise_query`:
  lower case, single spaces); events without one are left out.
- **Click-through**: a search counts as clicked when it was *answered*
  (:func:`~mlcore.search.click_pairs.answered_searches`, the definition the search index's fine-tuning
  uses too): the same shopper — or, for an anonymous search, the same session — clicked, carted or
  bought a product within ``window_minutes`` (default :data:`CLICK_WINDOW_MINUTES`) and before their
  next search. CTR = clicked searches / searches.
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

import pandas as pd
from django.db.models import Max, Q

from dashboard.models import Catalog, Event, EventType
from dashboard.services.search_index import active_index
from mlcore.search.click_pairs import ACTIONS, CLICK_WINDOW_MINUTES, answered_searches, normalise_query

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


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The days ``start``..``end`` (inclusive, UTC) as a half-open interval."""
    return (dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC))


def query_stats(*, catalog: Catalog, start: dt.date, end: dt.date, window_minutes: float = CLICK_WINDOW_MINUTES,
                sort: str = "searches") -> list[QueryStats]:
    """One row per distinct query of the period, sorted by ``sort`` (searches, ctr or query).

    Reads the period's searches and the actions up to ``window_minutes`` after it (which answer them)
    into memory: one row of five small columns per event.
    """
    lo, hi = _bounds(start, end)
    rows = (Event.objects.filter(catalog=catalog, timestamp__gte=lo,
                                 timestamp__lt=hi + dt.timedelta(minutes=window_minutes))
            .filter(Q(type=EventType.SEARCH) | Q(type__in=ACTIONS, product__isnull=False))
            .values_list("pk", "shopper_id", "session_id", "timestamp", "type", "product_id", "query"))
    frame = pd.DataFrame.from_records(rows.iterator(chunk_size=20_000),
                                      columns=["pk", "user_id", "session", "timestamp", "type", "item_id", "query"])
    if frame.empty:
        return []
    frame = frame.set_index("pk")
    frame["user_id"] = frame["user_id"].astype("Int64").astype("string")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    searches = frame[(frame["type"] == EventType.SEARCH) & (frame["timestamp"] < hi)].copy()
    searches["q"] = searches["query"].fillna("").map(normalise_query)
    searches = searches[searches["q"] != ""]
    if searches.empty:
        return []
    answered = set(answered_searches(frame, window_minutes)["search"])
    searches["clicked"] = searches.index.isin(list(answered))
    grouped = searches.groupby("q").agg(searches=("q", "size"), shoppers=("user_id", "nunique"),
                                        last=("timestamp", "max"), clicked=("clicked", "sum"))
    out = [QueryStats(str(q), int(r.searches), int(r.shoppers), int(r.clicked), r.last.to_pydatetime())
           for q, r in grouped.iterrows()]
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
