"""The chart builders are pure functions: plain rows in, Plotly figure JSON out."""
from __future__ import annotations

import datetime as dt
import json

from dashboard.charts import events_per_day_figure
from dashboard.selectors.catalogs import DailyCount

LABELS = {"view": "view", "purchase": "purchase", "return": "return"}
D1, D2, D3 = dt.date(2011, 1, 1), dt.date(2011, 1, 2), dt.date(2011, 1, 4)


def figure(rows):
    return events_per_day_figure(rows, type_labels=LABELS)


def test_it_draws_one_stacked_bar_trace_per_event_type_in_label_order():
    fig = figure([DailyCount(D1, "purchase", 3), DailyCount(D2, "view", 5)])
    assert [t["name"] for t in fig["data"]] == ["view", "purchase"]
    assert all(t["type"] == "bar" for t in fig["data"])
    assert fig["layout"]["barmode"] == "stack"


def test_it_fills_days_without_events_of_a_type_with_zero():
    fig = figure([DailyCount(D1, "purchase", 3), DailyCount(D3, "purchase", 1), DailyCount(D2, "view", 5)])
    by_name = {t["name"]: t for t in fig["data"]}
    assert by_name["purchase"]["x"] == ["2011-01-01", "2011-01-02", "2011-01-04"]
    assert by_name["purchase"]["y"] == [3, 0, 1]
    assert by_name["view"]["y"] == [0, 5, 0]


def test_it_adds_up_repeated_rows_for_the_same_day_and_type():
    fig = figure([DailyCount(D1, "view", 2), DailyCount(D1, "view", 3)])
    assert fig["data"][0]["y"] == [5]


def test_it_has_a_title_axis_labels_with_units_and_hover_values():
    fig = figure([DailyCount(D1, "view", 2)])
    layout = fig["layout"]
    assert layout["title"]["text"] == "Events per day"
    assert layout["xaxis"]["title"]["text"] == "Day"
    assert layout["yaxis"]["title"]["text"] == "Events (count per day)"
    assert "%{y" in fig["data"][0]["hovertemplate"]


def test_it_keeps_event_types_it_has_no_label_for_after_the_known_ones():
    fig = figure([DailyCount(D1, "mystery", 1), DailyCount(D1, "view", 1)])
    assert [t["name"] for t in fig["data"]] == ["view", "mystery"]


def test_it_gives_an_empty_figure_for_no_rows_and_is_plain_json():
    fig = figure([])
    assert fig["data"] == []
    assert json.loads(json.dumps(fig)) == fig


def test_it_translates_its_titles(settings):
    from django.utils import translation

    with translation.override("zh-hans"):
        fig = figure([DailyCount(D1, "view", 1)])
    assert fig["layout"]["title"]["text"] == "每日事件数"
