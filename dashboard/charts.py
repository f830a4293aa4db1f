"""Charts: pure functions from plain data to Plotly figure JSON (a dict ready for ``Plotly.newPlot``).

No database and no browser: the views pass rows in, the templates hand the dict to plotly.min.js.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import plotly.graph_objects as go
from django.utils.translation import gettext as _

# One colour per event type, stable across pages and languages.
EVENT_COLOURS = {
    "view": "#9aa5b8",
    "click": "#6c8ef5",
    "add_to_cart": "#f2a33a",
    "purchase": "#2f9e5b",
    "search": "#8d5fd3",
    "return": "#d6455d",
}


class DailyRow(Protocol):
    """One (day, event type, count) record, e.g. ``dashboard.selectors.catalogs.DailyCount``."""

    @property
    def day(self) -> dt.date: ...
    @property
    def type(self) -> str: ...
    @property
    def count(self) -> int: ...


def events_per_day_figure(rows: Iterable[DailyRow], *, type_labels: Mapping[str, object]) -> dict[str, Any]:
    """A stacked bar chart of events per day, one trace per event type.

    ``rows`` are (day, type, count) records; ``type_labels`` maps type codes to display names and fixes
    the trace order. Days without events of a type count zero. Returns ``{"data": [...], "layout": {...}}``.
    """
    counts: dict[str, dict[dt.date, int]] = {}
    days: set[dt.date] = set()
    for row in rows:
        counts.setdefault(row.type, {})[row.day] = counts.get(row.type, {}).get(row.day, 0) + row.count
        days.add(row.day)
    x = sorted(days)
    x_iso = [day.isoformat() for day in x]
    order = [code for code in type_labels if code in counts] + sorted(set(counts) - set(type_labels))
    traces = [
        go.Bar(
            name=str(type_labels.get(code, code)),
            x=x_iso,
            y=[counts[code].get(day, 0) for day in x],
            marker_color=EVENT_COLOURS.get(code),
            hovertemplate="%{fullData.name}: %{y:,}<extra></extra>",
        )
        for code in order
    ]
    figure = go.Figure(data=traces)
    figure.update_layout(
        title={"text": _("Events per day"), "x": 0, "xanchor": "left"},
        barmode="stack",
        bargap=0.1,
        xaxis={"title": {"text": _("Day")}, "type": "date", "tickformat": "%Y-%m-%d", "hoverformat": "%Y-%m-%d"},
        yaxis={"title": {"text": _("Events (count per day)")}, "rangemode": "tozero", "tickformat": ",d"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
        hovermode="x unified",
        margin={"l": 60, "r": 20, "t": 70, "b": 50},
        template="plotly_white",
        height=360,
    )
    result: dict[str, Any] = json.loads(figure.to_json())
    return result


# -- training jobs and model versions ---------------------------------------------
_LAYOUT: dict[str, Any] = {"template": "plotly_white", "height": 360, "margin": {"l": 60, "r": 20, "t": 70, "b": 50},
                           "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1}}
_CURVE_SKIP = {"t", "phase", "done", "total", "samples_per_s", "seconds"}


def _figure(traces: list[Any], title: str, x_title: str, y_title: str, **layout: Any) -> dict[str, Any]:
    figure = go.Figure(data=traces)
    base = {**_LAYOUT, "title": {"text": title, "x": 0, "xanchor": "left"}, "xaxis": {"title": {"text": x_title}},
            "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"}}
    figure.update_layout(**{**base, **layout})
    result: dict[str, Any] = json.loads(figure.to_json())
    return result


def job_curve_figure(history: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Loss (left axis) and validation metrics (right axis) against seconds since the job began.

    ``history`` is the job's ``metrics_history``: ``{"t": s, "phase": ..., "loss": ..., ...}`` points.
    """
    series: dict[str, tuple[list[float], list[float]]] = {}
    for point in history:
        for key, value in point.items():
            if key in _CURVE_SKIP or not isinstance(value, int | float):
                continue
            label = f"{point.get('phase', '')} {key}".strip()
            xs, ys = series.setdefault(label, ([], []))
            xs.append(float(point.get("t", len(xs))))
            ys.append(float(value))
    traces = [
        go.Scatter(name=label, x=xs, y=ys, mode="lines+markers" if len(xs) < 30 else "lines",
                   yaxis="y" if label.endswith("loss") else "y2",
                   hovertemplate="%{fullData.name}: %{y:.4f} at %{x:.1f} s<extra></extra>")
        for label, (xs, ys) in series.items()
    ]
    return _figure(traces, _("Training curves"), _("Time since start (s)"), _("Loss"),
                   yaxis2={"title": {"text": _("Validation metric")}, "overlaying": "y", "side": "right",
                           "rangemode": "tozero"})


def _scorers(by_scorer: Mapping[str, Any]) -> list[str]:
    names = [n for n in by_scorer if "-minus-" not in n]
    return sorted(names, key=lambda n: (n == "fused", n))


def metrics_at_k_figure(report: Mapping[str, Any], *, metric: str = "ndcg", slice: str = "all") -> dict[str, Any]:
    """Grouped bars: ``metric``@K for each K, one bar per signal and the fused ranking."""
    by = report.get("metrics", {}).get(slice, {})
    ks = list(report.get("ks", []))
    traces = [go.Bar(name=name, x=[f"@{k}" for k in ks], y=[by[name].get(f"{metric}@{k}") for k in ks],
                     hovertemplate="%{fullData.name} " + metric + "%{x}: %{y:.4f}<extra></extra>")
              for name in _scorers(by)]
    titles = {"all": _("%(metric)s@K per signal and fused"), "exclude_seen": _("%(metric)s@K, already-bought removed"),
              "cold_start": _("Cold-start items: %(metric)s@K")}
    title = titles.get(slice, titles["all"]) % {"metric": metric.upper()}
    return _figure(traces, title, _("Cut-off K"), metric.upper(), barmode="group")


def ablation_figure(report: Mapping[str, Any], *, fusion: str = "fused", slice: str = "all") -> dict[str, Any]:
    """Bars: the change in NDCG@10 when each signal is left out of the fusion (negative: it helped)."""
    deltas = report.get("ablation", {}).get(fusion, {}).get(slice, {})
    names = sorted(deltas)
    trace = go.Bar(x=names, y=[deltas[n] for n in names], marker_color=["#d6455d" if deltas[n] < 0 else "#2f9e5b"
                                                                        for n in names],
                   hovertemplate="%{x}: %{y:+.4f}<extra></extra>")
    return _figure([trace], _("Ablation: NDCG@10 change without each signal"), _("Signal left out"),
                   _("Δ NDCG@10"), yaxis={"title": {"text": _("Δ NDCG@10")}, "zeroline": True},
                   xaxis={"title": {"text": _("Signal left out")}, "type": "category"})


def beyond_accuracy_figure(report: Mapping[str, Any], *, k: int = 10) -> dict[str, Any]:
    """Grouped bars of catalogue coverage, novelty and diversity @k per scorer (what the report has)."""
    by = report.get("metrics", {}).get("all", {})
    measures = [m for m in ("coverage", "novelty", "diversity") if any(f"{m}@{k}" in v for v in by.values())]
    traces = [go.Bar(name=name, x=measures, y=[by[name].get(f"{m}@{k}") for m in measures],
                     hovertemplate="%{fullData.name} %{x}: %{y:.4f}<extra></extra>")
              for name in _scorers(by)]
    return _figure(traces, _("Coverage, novelty and diversity @%(k)d") % {"k": k}, _("Measure"), _("Value"),
                   barmode="group")
