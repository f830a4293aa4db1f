"""click_pairs: query → acted-on product pairs from hand-made search logs."""
from __future__ import annotations

import pandas as pd
import pytest

from mlcore.search.click_pairs import answered_searches, click_pairs

T0 = pd.Timestamp("2024-01-01 10:00", tz="UTC")


def ev(user, minute, kind, item=None, query="", session=None):
    row = {"user_id": user, "item_id": item, "type": kind, "timestamp": T0 + pd.Timedelta(minutes=minute),
           "query": query}
    if session is not None:
        row["session"] = session
    return row


def pairs_of(rows, **kw):
    out = click_pairs(pd.DataFrame(rows), **kw)
    return {(q, i): c for q, i, c in out.itertuples(index=False)}


def test_clicks_carts_and_purchases_after_a_search_pair_with_its_normalised_query():
    rows = [ev("u1", 0, "search", query="  Copper  KETTLE "), ev("u1", 1, "click", "P1"),
            ev("u1", 2, "add_to_cart", "P1"), ev("u1", 3, "purchase", "P2"), ev("u1", 4, "view", "P3"),
            ev("u2", 0, "search", query="copper kettle"), ev("u2", 5, "click", "P1")]
    assert pairs_of(rows) == {("copper kettle", "P1"): 2, ("copper kettle", "P2"): 1}


def test_the_window_the_next_search_and_other_shoppers_cut_pairs_off():
    rows = [ev("u1", 0, "search", query="teapot"), ev("u1", 40, "click", "P1"),   # too late
            ev("u1", 50, "search", query="mug"), ev("u1", 51, "click", "P2"),
            ev("u1", 52, "search", query="bowl"), ev("u1", 53, "click", "P3"),   # after "bowl", not "mug"
            ev("u2", 1, "click", "P9"),                                         # u2 never searched
            ev("u3", 5, "click", "P8"), ev("u3", 6, "search", query="jar")]      # click before the search
    assert pairs_of(rows) == {("mug", "P2"): 1, ("bowl", "P3"): 1}
    assert pairs_of(rows, window_minutes=60) == {("teapot", "P1"): 1, ("mug", "P2"): 1, ("bowl", "P3"): 1}


def test_empty_queries_anonymous_rows_sessions_and_min_count():
    rows = [ev("u1", 0, "search", query="  "), ev("u1", 1, "click", "P1"),
            ev(None, 0, "search", query="kettle"), ev(None, 1, "click", "P1"),
            ev("u2", 0, "search", query="kettle", session="s1"), ev("u2", 1, "click", "P2", session="s2"),
            ev("u2", 2, "click", "P3", session="s1"),
            ev("u3", 0, "search", query="kettle", session="s5"), ev("u3", 1, "click", "P3", session="s5")]
    assert pairs_of(rows) == {("kettle", "P3"): 2}
    assert pairs_of(rows, min_count=3) == {}


def test_no_searches_gives_an_empty_frame_and_bad_input_is_named():
    out = click_pairs(pd.DataFrame([ev("u1", 1, "click", "P1")]))
    assert list(out.columns) == ["query", "item_id", "count"] and out.empty
    with pytest.raises(ValueError, match="query"):
        click_pairs(pd.DataFrame([{"user_id": "u", "item_id": "P", "type": "click", "timestamp": T0}]))


def test_an_anonymous_search_is_answered_in_its_own_session_only():
    rows = [ev(None, 0, "search", query="kettle", session="s1"), ev(None, 2, "click", "P1", session="s1"),
            ev(None, 3, "click", "P2", session="s2"), ev("u1", 4, "click", "P3", session="s1")]
    answered = answered_searches(pd.DataFrame(rows))
    assert answered.to_dict("records") == [{"search": 0, "item_id": "P1"}]
    assert pairs_of(rows) == {("kettle", "P1"): 1}
