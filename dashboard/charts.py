"""Charts: pure functions from plain data to Plotly figure JSON (a dict ready for ``Plotly.newPlot``).

No database and no browser: the views pass rows in, the templates hand the dict to plotly.min.js.
"""
from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import plotly.graph_objects as go
from django.utils.translation import gettext as _
from plotly.subplots import make_subplots

# One colour per event type, stable across pages and languages.
EVENT_COLOURS = {
    "view": "#9aa5b8",
    "click": "#6c8ef5",
    "add_to_cart": "#f2a33a",
    "purchase": "#2f9e5b",
    "search": "#8d5fd3",
    "return": "#d6455d",
}


# One colour per signal (and per fused ranking), the same on every page, chart and version. Names not listed
# (a signal added later) get a stable colour from their name.
SIGNAL_COLOURS = {
    "popularity": "#9aa5b8",
    "repeat": "#b07aa1",
    "item_knn": "#4e79a7",
    "ease": "#f28e2b",
    "mf": "#59a14f",
    "text": "#e15759",
    "kg": "#76b7b2",
    "sequential": "#edc948",
    "trending": "#ff9da7",
    "image": "#9c755f",
    "context": "#bab0ac",
    "als": "#6b6b6b",
    "weighted": "#8d5fd3",
    "learned": "#1f3a93",
    "fused": "#1b1b1b",
}
_EXTRA_COLOURS = ("#17becf", "#bcbd22", "#8c564b", "#e377c2", "#7f7f7f", "#2ca02c", "#d62728", "#9467bd")


def signal_colour(name: str) -> str:
    """The colour of signal or scorer ``name`` (``"fused-minus-text"`` is drawn in its base's colour)."""
    base = name.split("-minus-")[0]
    return SIGNAL_COLOURS.get(base) or _EXTRA_COLOURS[zlib.crc32(base.encode()) % len(_EXTRA_COLOURS)]


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


_METRIC_PREFIXES = ("ndcg", "recall", "precision", "hit", "map", "mrr", "auc", "coverage")


def _is_metric(key: str) -> bool:
    bare = key.removeprefix("val_").removeprefix("valid_").lower()
    return bare.startswith(_METRIC_PREFIXES)


def job_curve_figure(history: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Training curves against seconds since the job began, one panel per unit.

    The top panel holds validation metrics (a 0–1 axis); below it each signal's loss has its own panel and
    axis, since losses of different signals are not comparable. Counts and rates are left out. A signal keeps
    its colour everywhere (:func:`signal_colour`). ``history`` is the job's ``metrics_history``:
    ``{"t": s, "phase": ..., "loss": ..., ...}`` points.
    """
    metrics: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    losses: dict[str, tuple[list[float], list[float]]] = {}
    for point in history:
        phase = str(point.get("phase", "") or "")
        for key, value in point.items():
            if key in _CURVE_SKIP or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if key.endswith("loss"):
                xs, ys = losses.setdefault(phase, ([], []))
            elif _is_metric(key):
                xs, ys = metrics.setdefault((phase, key), ([], []))
            else:
                continue
            xs.append(float(point.get("t", len(xs))))
            ys.append(float(value))
    rows = 1 + len(losses)
    titles = [_("Validation metrics")] + [_("%(signal)s loss") % {"signal": p or _("training")} for p in losses]
    figure = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.08 if rows > 1 else 0,
                           subplot_titles=titles)
    dashes = ("solid", "dot", "dash", "dashdot")
    for i, ((phase, key), (xs, ys)) in enumerate(metrics.items()):
        figure.add_trace(go.Scatter(name=f"{phase} {key}".strip(), x=xs, y=ys,
                                    mode="lines+markers" if len(xs) < 30 else "lines",
                                    line={"color": signal_colour(phase), "dash": dashes[i % len(dashes)]},
                                    hovertemplate="%{fullData.name}: %{y:.4f} at %{x:.1f} s<extra></extra>"),
                         row=1, col=1)
    for row, (phase, (xs, ys)) in enumerate(losses.items(), start=2):
        figure.add_trace(go.Scatter(name=f"{phase} loss".strip(), x=xs, y=ys,
                                    mode="lines+markers" if len(xs) < 30 else "lines",
                                    line={"color": signal_colour(phase)},
                                    hovertemplate="%{fullData.name}: %{y:.4f} at %{x:.1f} s<extra></extra>"),
                         row=row, col=1)
        figure.update_yaxes(title_text=_("Loss"), rangemode="tozero", row=row, col=1)
    figure.update_yaxes(title_text=_("Metric (0–1)"), range=[0, 1] if not metrics else None, rangemode="tozero",
                        row=1, col=1)
    figure.update_xaxes(title_text=_("Time since start (s)"), row=rows, col=1)
    figure.update_layout(**{**_LAYOUT, "height": 260 + 200 * len(losses), "showlegend": True,
                            "title": {"text": _("Training curves"), "x": 0, "xanchor": "left"}})
    if not metrics and not losses:
        _empty_message(figure, _("No training curve yet: it appears once a signal reports progress."))
    result: dict[str, Any] = json.loads(figure.to_json())
    return result


def _empty_message(figure: go.Figure, text: str) -> None:
    figure.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                          font={"size": 14, "color": "#666"})
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)


def _scorers(by_scorer: Mapping[str, Any]) -> list[str]:
    names = [n for n in by_scorer if "-minus-" not in n]
    return sorted(names, key=lambda n: (n == "fused", n))


def metrics_at_k_figure(report: Mapping[str, Any], *, metric: str = "ndcg", slice: str = "all") -> dict[str, Any]:
    """Grouped bars: ``metric``@K for each K, one bar per signal and the fused ranking."""
    by = report.get("metrics", {}).get(slice, {})
    ks = list(report.get("ks", []))
    traces = [go.Bar(name=name, x=[f"@{k}" for k in ks], y=[by[name].get(f"{metric}@{k}") for k in ks],
                     marker_color=signal_colour(name),
                     hovertemplate="%{fullData.name} " + metric + "%{x}: %{y:.4f}<extra></extra>")
              for name in _scorers(by)]
    titles = {"all": _("%(metric)s@K per signal and fused"), "exclude_seen": _("%(metric)s@K, already-bought removed"),
              "cold_start": _("Cold-start items: %(metric)s@K")}
    title = titles.get(slice, titles["all"]) % {"metric": metric.upper()}
    result = _figure(traces, title, _("Cut-off K"), metric.upper(), barmode="group", showlegend=True)
    if not traces:
        empty = go.Figure(result)
        _empty_message(empty, _("Nothing to show: the test window has no interactions in this slice."))
        result = json.loads(empty.to_json())
    return result


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
    """Catalogue coverage, novelty and diversity @k per scorer, one panel and axis each (their units differ)."""
    by = report.get("metrics", {}).get("all", {})
    measures = [m for m in ("coverage", "novelty", "diversity") if any(f"{m}@{k}" in v for v in by.values())]
    units = {"coverage": _("share of catalogue"), "novelty": _("bits"), "diversity": _("1 − similarity")}
    figure = make_subplots(rows=1, cols=max(len(measures), 1), subplot_titles=measures or None)
    names = _scorers(by)
    for col, measure in enumerate(measures, start=1):
        for name in names:
            figure.add_trace(go.Bar(name=name, x=[name], y=[by[name].get(f"{measure}@{k}")],
                                    marker_color=signal_colour(name), legendgroup=name, showlegend=col == 1,
                                    hovertemplate="%{x} " + measure + ": %{y:.4f}<extra></extra>"),
                             row=1, col=col)
        figure.update_yaxes(title_text=units[measure], rangemode="tozero", row=1, col=col)
        figure.update_xaxes(showticklabels=False, row=1, col=col)
    figure.update_layout(**{**_LAYOUT, "showlegend": True,
                            "title": {"text": _("Coverage, novelty and diversity @%(k)d") % {"k": k}, "x": 0,
                                      "xanchor": "left"}})
    if not measures:
        _empty_message(figure, _("This report has no coverage, novelty or diversity figures."))
    result: dict[str, Any] = json.loads(figure.to_json())
    return result
