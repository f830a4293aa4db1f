"""When a search was answered, and the query → product pairs that follow from it.

    pairs = click_pairs(events)                      # DataFrame[query, item_id, count]
    answered = answered_searches(events)             # DataFrame[search, item_id]

The one definition (search analytics' click-through and the search index's fine-tuning pairs both
use it): a search event (``type == "search"``) is **answered** by a click / add-to-cart / purchase
(:data:`ACTIONS`) of a product by the same shopper — or, for an anonymous search, in the same
session — within :data:`CLICK_WINDOW_MINUTES` after it and before that shopper's next search; when
both rows carry a ``session`` they must agree. Rows with neither a shopper nor a session are skipped.
In :func:`click_pairs` each search counts an item once however many times it was acted on; ``count``
is the number of searches of the (normalised, non-empty) query that led to the item.
"""
from __future__ import annotations

import pandas as pd

ACTIONS = ("click", "add_to_cart", "purchase")
CLICK_WINDOW_MINUTES = 30.0
COLUMNS = ["query", "item_id", "count"]


def normalise_query(text: str) -> str:
    """Lower case, single spaces, no surrounding blanks."""
    return " ".join(str(text).lower().split())


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    """``column`` as str with ``""`` for missing values (all ``""`` when there is no such column)."""
    if column not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    return frame[column].astype(object).where(frame[column].notna(), "").astype(str)


def _who(frame: pd.DataFrame) -> pd.Series:
    """The shopper id, else ``session:<id>`` for anonymous rows with a session, else ``""``."""
    user, session = _text(frame, "user_id"), _text(frame, "session")
    anonymous = ("session:" + session).where(session != "", "")
    return user.where(user != "", anonymous)


def answered_searches(events: pd.DataFrame, window_minutes: float = CLICK_WINDOW_MINUTES) -> pd.DataFrame:
    """``(search, item_id)`` rows, one per search and product that answered it (see the module docstring).

    ``events`` has ``user_id, item_id, type, timestamp`` and optionally ``session``; ``search`` is the
    index label of the search row in ``events`` (labels must be unique).
    """
    missing = {"user_id", "item_id", "type", "timestamp"} - set(events.columns)
    if missing:
        raise ValueError(f"events lack the column(s) {sorted(missing)}; answered_searches needs user_id, "
                         "item_id, type and timestamp")
    if window_minutes <= 0:
        raise ValueError(f"window_minutes={window_minutes} must be positive")
    frame = pd.DataFrame({"who": _who(events), "timestamp": pd.to_datetime(events["timestamp"], utc=True),
                          "type": events["type"], "item_id": events["item_id"],
                          "session": _text(events, "session")}, index=events.index)
    frame = frame[frame["who"] != ""]
    searches = frame.loc[frame["type"].eq("search"), ["who", "timestamp", "session"]]
    searches = searches.assign(search=searches.index, search_at=searches["timestamp"])
    actions = frame.loc[frame["type"].isin(ACTIONS) & frame["item_id"].notna(), ["who", "timestamp", "session",
                                                                                  "item_id"]]
    if searches.empty or actions.empty:
        return pd.DataFrame({"search": pd.Series(dtype=events.index.dtype), "item_id": pd.Series(dtype=object)})
    # the shopper's latest search at or before each action (a later search cuts the earlier one off)
    joined = pd.merge_asof(actions.sort_values("timestamp"),
                           searches.rename(columns={"timestamp": "_t", "session": "search_session"}).sort_values("_t"),
                           left_on="timestamp", right_on="_t", by="who", direction="backward")
    joined = joined[joined["search_at"].notna()]
    joined = joined[joined["timestamp"] - joined["search_at"] <= pd.Timedelta(minutes=window_minutes)]
    ours, theirs = joined["session"], joined["search_session"].fillna("")
    joined = joined[(theirs == "") | (ours == "") | (theirs == ours)]
    out = joined.drop_duplicates(["search", "item_id"])[["search", "item_id"]]
    return out.astype({"item_id": str}).reset_index(drop=True)


def click_pairs(events: pd.DataFrame, window_minutes: float = CLICK_WINDOW_MINUTES, min_count: int = 1) -> pd.DataFrame:
    """``(query, item_id, count)`` rows with ``count >= min_count``, most frequent first.

    ``events`` has ``user_id, item_id, type, timestamp, query`` and optionally ``session``.
    """
    if "query" not in events.columns:
        raise ValueError("events lack the column(s) ['query']; click_pairs needs user_id, item_id, type, "
                         "timestamp and query")
    events = events.reset_index(drop=True)  # index labels name the searches
    answered = answered_searches(events, window_minutes)
    queries = events.loc[events["type"].eq("search"), "query"].fillna("").map(normalise_query)
    answered["query"] = answered["search"].map(queries)
    answered = answered[answered["query"].fillna("") != ""]
    if answered.empty:
        return pd.DataFrame(columns=COLUMNS).astype({"count": "int64"})
    counts = answered.groupby(["query", "item_id"]).size().rename("count").reset_index()
    counts = counts[counts["count"] >= min_count]
    return counts.sort_values(["count", "query", "item_id"], ascending=[False, True, True]).reset_index(drop=True)[
        COLUMNS].astype({"count": "int64"})
