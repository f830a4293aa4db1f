"""Query → product pairs from search logs: what shoppers clicked, carted or bought after a search.

    pairs = click_pairs(events, window_minutes=30)   # DataFrame[query, item_id, count]

A search event (``type == "search"``, non-empty ``query``) is linked to the click / add-to-cart /
purchase events of the same shopper that follow it within ``window_minutes`` and come before that
shopper's next search (and, when both rows carry a ``session``, in the same session). Each search
counts an item once however many times it was acted on; ``count`` is the number of searches of the
(normalised) query that led to the item. Anonymous rows (``user_id`` null) are skipped.
"""
from __future__ import annotations

import pandas as pd

ACTIONS = ("click", "add_to_cart", "purchase")
COLUMNS = ["query", "item_id", "count"]


def normalise_query(text: str) -> str:
    """Lower case, single spaces, no surrounding blanks."""
    return " ".join(str(text).lower().split())


def click_pairs(events: pd.DataFrame, window_minutes: float = 30, min_count: int = 1) -> pd.DataFrame:
    """``(query, item_id, count)`` rows with ``count >= min_count``, most frequent first.

    ``events`` has ``user_id, item_id, type, timestamp, query`` and optionally ``session``.
    """
    missing = {"user_id", "item_id", "type", "timestamp", "query"} - set(events.columns)
    if missing:
        raise ValueError(f"events lack the column(s) {sorted(missing)}; click_pairs needs user_id, item_id, "
                         "type, timestamp and query")
    if window_minutes <= 0:
        raise ValueError(f"window_minutes={window_minutes} must be positive")
    cols = ["user_id", "timestamp"] + (["session"] if "session" in events.columns else [])
    frame = events[events["user_id"].notna()].copy()
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["user_id"] = frame["user_id"].astype(str)
    is_search = frame["type"].eq("search")
    searches = frame.loc[is_search, cols + ["query"]].copy()
    searches["query"] = searches["query"].fillna("").map(normalise_query)
    searches["search_at"] = searches["timestamp"]
    searches["search_no"] = range(len(searches))
    actions = frame.loc[frame["type"].isin(ACTIONS) & frame["item_id"].notna(), cols + ["item_id"]]
    if searches.empty or actions.empty:
        return pd.DataFrame(columns=COLUMNS).astype({"count": "int64"})
    # the shopper's latest search at or before each action (a later search cuts the earlier one off)
    joined = pd.merge_asof(actions.sort_values("timestamp"),
                           searches.drop(columns=["session"], errors="ignore").rename(
                               columns={"timestamp": "_t"}).sort_values("_t"),
                           left_on="timestamp", right_on="_t", by="user_id", direction="backward")
    joined = joined[joined["search_at"].notna() & joined["query"].fillna("").ne("")]
    joined = joined[joined["timestamp"] - joined["search_at"] <= pd.Timedelta(minutes=window_minutes)]
    if "session" in cols:
        session_of = searches.set_index("search_no")["session"]
        theirs = joined["search_no"].map(session_of).fillna("").astype(str)
        ours = joined["session"].fillna("").astype(str)
        joined = joined[(theirs == "") | (ours == "") | (theirs == ours)]
    joined = joined.drop_duplicates(["search_no", "item_id"])
    counts = joined.groupby(["query", "item_id"]).size().rename("count").reset_index()
    counts["item_id"] = counts["item_id"].astype(str)
    counts = counts[counts["count"] >= min_count]
    return counts.sort_values(["count", "query", "item_id"], ascending=[False, True, True]).reset_index(drop=True)[
        COLUMNS].astype({"count": "int64"})
