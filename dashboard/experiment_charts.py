"""Experiment charts: pure functions from the results' plain data to Plotly figure JSON (no database)."""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from dashboard.charts import signal_colour

_LAYOUT: dict[str, Any] = {"template": "plotly_white", "height": 340, "margin": {"l": 60, "r": 20, "t": 70, "b": 50},
                           "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1}}


def _json(figure: go.Figure) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(figure.to_json())
    return result


def timeline_figure(timeline: Sequence[Mapping[str, Any]], *, metric: str, variants: Sequence[str],
                    label: str) -> dict[str, Any]:
    """One line per variant: the cumulative ``metric`` (``timeline`` from the results: ``{"date", "<variant>":
    {metric: value}}`` per day)."""
    dates = [p["date"] for p in timeline]
    traces = [go.Scatter(x=dates, y=[(p.get(v) or {}).get(metric) for p in timeline], mode="lines+markers", name=v,
                         line={"color": signal_colour(f"variant-{v}")}) for v in variants]
    figure = go.Figure(data=traces)
    figure.update_layout(**_LAYOUT, title={"text": _("%(metric)s, cumulative") % {"metric": label}, "x": 0},
                         xaxis={"title": {"text": _("day")}}, yaxis={"title": {"text": label}, "rangemode": "tozero"})
    return _json(figure)


def lift_figure(results: Any, *, label: str) -> dict[str, Any]:
    """Each treatment's lift on the primary metric with its peeking-safe interval (a bar with error bars)."""
    rows = [r for r in results.variants if r.comparisons]
    metric = results.experiment.primary_metric
    comps = [r.comparisons[metric] for r in rows]
    figure = go.Figure(data=[go.Bar(
        x=[r.variant.name for r in rows], y=[c.lift * 100 for c in comps],
        error_y={"type": "data", "symmetric": False, "array": [(c.seq_high - c.lift) * 100 for c in comps],
                 "arrayminus": [(c.lift - c.seq_low) * 100 for c in comps]},
        marker={"color": ["#2f9e5b" if c.seq_low > 0 else "#d6455d" if c.seq_high < 0 else "#9aa5b8" for c in comps]})])
    figure.update_layout(**_LAYOUT, title={"text": _("Lift on %(metric)s against the control (peeking-safe 95 %% "
                                                     "interval)") % {"metric": label}, "x": 0},
                         yaxis={"title": {"text": _("lift (%)")}, "zeroline": True})
    return _json(figure)
