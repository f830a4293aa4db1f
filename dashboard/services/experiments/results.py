"""An experiment's results: per variant figures, comparisons with the control, checks, and a verdict in words.

Per variant: shoppers, lists served, click-through rate (lists clicked ÷ lists, the shopper as the unit),
conversion (shoppers who bought ÷ shoppers) and revenue per shopper (capped at the 99th percentile of all
shoppers), each with a 95 % interval (:mod:`mlcore.experiments`). The primary metric is compared with CUPED
(each shopper's pre-experiment activity) and a peeking-safe interval: the look is the number of days with
data, the information fraction the shoppers so far ÷ the planned ones, and with several treatments the
bound uses α ÷ treatments (Bonferroni: each treatment's sequential decision stays valid); the fixed-horizon
p-values are Holm-adjusted. A sample-ratio mismatch of the shoppers per variant against the allocation
raises a warning above everything else.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from dashboard.models import Experiment, ExperimentMetric, Variant
from dashboard.services.experiments.attribution import Exposures, exposures
from mlcore.experiments import (
    Comparison,
    Summary,
    cap_outliers,
    compare,
    cuped,
    holm,
    spending_bounds,
    srm_check,
    summarize,
)

METRICS: tuple[str, ...] = (ExperimentMetric.CTR.value, ExperimentMetric.CONVERSION.value,
                             ExperimentMetric.REVENUE.value)
KIND: dict[str, str] = {ExperimentMetric.CTR: "ratio", ExperimentMetric.CONVERSION: "proportion",
                        ExperimentMetric.REVENUE: "mean"}
CAP_QUANTILE = 0.99
PRE: dict[str, str] = {ExperimentMetric.CTR: "pre_clicks", ExperimentMetric.CONVERSION: "pre_purchases",
                       ExperimentMetric.REVENUE: "pre_revenue"}


@dataclass
class VariantResult:
    variant: Variant
    shoppers: int
    lists: int
    metrics: dict[str, Summary]
    comparisons: dict[str, Comparison] = field(default_factory=dict)
    p_adjusted: float | None = None
    guardrails: dict[str, str] = field(default_factory=dict)  # metric → "fine" | "watch" | "breached"


@dataclass
class Results:
    experiment: Experiment
    variants: list[VariantResult]
    srm_p: float
    srm_warning: bool
    fraction: float  # shoppers so far ÷ planned
    bound: float  # today's peeking-safe z bound
    looks: int
    cuped_reduction: float  # share of the primary metric's variance CUPED removed (0.12 = 12 %)
    revenue_cap: float
    verdict: str
    winner: Variant | None
    timeline: list[dict[str, Any]]


def _values(units: pd.DataFrame, metric: str, cap: float) -> tuple[np.ndarray, np.ndarray | None]:
    if metric == ExperimentMetric.CTR:
        return units["clicked_lists"].to_numpy(float), units["lists"].to_numpy(float)
    if metric == ExperimentMetric.CONVERSION:
        return units["converted"].to_numpy(float), None
    return np.minimum(units["revenue"].to_numpy(float), cap), None


def _pct(x: float) -> str:
    return f"{x * 100:+.1f} %"


def _bound(x: float) -> str:
    return f"{x * 100:+.1f}" if np.isfinite(x) else ("+∞" if x > 0 else "−∞")


def _interval(c: Comparison) -> str:
    return f"[{_bound(c.seq_low)}, {_bound(c.seq_high)}]"


def _compare_all(units: pd.DataFrame, arms: list[Variant], control: Variant, *, cap: float, bound: float,
                 primary: str) -> tuple[list[VariantResult], float]:
    """Per variant summaries and comparisons with the control (CUPED on the primary metric)."""
    reduction = 0.0
    adjusted = units.copy()
    if len(units) > 2:
        y, den = _values(units, primary, cap)
        adj, theta = cuped(y, units[PRE[primary]].to_numpy(float))
        if theta and y.var() > 0:
            reduction = float(1 - adj.var() / y.var())
        adjusted["_primary"] = adj
    out: list[VariantResult] = []
    for arm in arms:
        rows = units[units["variant"] == arm.name]
        metrics = {}
        for metric in METRICS:
            values, den = _values(rows, metric, cap)
            metrics[metric] = summarize(values, kind=KIND[metric], denominators=den)
        out.append(VariantResult(arm, len(rows), int(rows["lists"].sum()), metrics))
    base = next(r for r in out if r.variant.pk == control.pk)
    base_rows = adjusted[adjusted["variant"] == control.name]
    for r in out:
        if r is base:
            continue
        rows = adjusted[adjusted["variant"] == r.variant.name]
        for metric in METRICS:
            use_cuped = metric == primary and "_primary" in adjusted
            if use_cuped:
                _, den_c = _values(base_rows, metric, cap)
                _, den_t = _values(rows, metric, cap)
                kind = "ratio" if den_c is not None else "mean"
                c_sum = summarize(base_rows["_primary"].to_numpy(), kind=kind, denominators=den_c)
                t_sum = summarize(rows["_primary"].to_numpy(), kind=kind, denominators=den_t)
            else:
                c_sum, t_sum = base.metrics[metric], r.metrics[metric]
            kind = KIND[metric] if not use_cuped else "ratio"
            vc, _ = _values(base_rows, metric, cap)
            vt, _ = _values(rows, metric, cap)
            r.comparisons[metric] = compare(
                c_sum, t_sum, sequential_z=bound if metric == primary else None, kind=kind,
                control_values=vc if metric == ExperimentMetric.REVENUE else None,
                treatment_values=vt if metric == ExperimentMetric.REVENUE else None,
                bootstrap=metric == ExperimentMetric.REVENUE and not use_cuped and len(vc) > 1 and len(vt) > 1)
    return out, reduction


def _guardrails(experiment: Experiment, rows: list[VariantResult]) -> None:
    for r in rows:
        for metric in experiment.guardrails:
            c = r.comparisons.get(metric)
            if c is None or np.isnan(c.lift):
                continue
            tolerance = -abs(experiment.guardrail_tolerance)
            r.guardrails[metric] = ("breached" if c.lift_high < tolerance else
                                    "watch" if c.lift < tolerance else "fine")


def _verdict(experiment: Experiment, rows: list[VariantResult], srm: tuple[float, bool],
             fraction: float) -> tuple[str, Variant | None]:
    metric = experiment.primary_metric
    label = ExperimentMetric(metric).label
    treatments = [r for r in rows if r.comparisons]
    parts: list[str] = []
    if srm[1]:
        parts.append(_("Sample ratio mismatch (p = %(p).2g): the shoppers per variant do not match the allocation, "
                       "so the split or the logging is broken; fix it before trusting any figure.") % {"p": srm[0]})
    if not treatments or any(np.isnan(r.comparisons[metric].lift) for r in treatments):
        parts.append(_("Not enough data yet: every variant needs shoppers with some %(m)s.") % {"m": label})
        return " ".join(parts), None
    winners = [r for r in treatments if r.comparisons[metric].significant and r.comparisons[metric].lift > 0]
    losers = [r for r in treatments if r.comparisons[metric].significant and r.comparisons[metric].lift < 0]
    breached = [f"{r.variant.name}: {ExperimentMetric(m).label}" for r in treatments
                for m, s in r.guardrails.items() if s == "breached"]
    guard = (_("guardrails fine") if not breached else
             _("guardrail breached (%(which)s)") % {"which": ", ".join(breached)})
    winner: Variant | None = None
    if winners:
        best = max(winners, key=lambda r: r.comparisons[metric].lift)
        c = best.comparisons[metric]
        winner = best.variant
        parts.append(_("%(v)s wins on %(m)s, %(lift)s %(ci)s, %(guard)s.")
                     % {"v": best.variant.name, "m": label, "lift": _pct(c.lift), "ci": _interval(c), "guard": guard})
        if best.guardrails and "breached" in best.guardrails.values():
            winner = None
    elif losers and len(losers) == len(treatments):
        control = next(r for r in rows if not r.comparisons)
        winner = control.variant
        worst = ", ".join(f"{r.variant.name} {_pct(r.comparisons[metric].lift)} {_interval(r.comparisons[metric])}"
                          for r in losers)
        parts.append(_("%(v)s (the control) wins on %(m)s: %(worst)s.") % {"v": control.variant.name, "m": label,
                                                                          "worst": worst})
    else:
        shown = ", ".join(f"{r.variant.name} {_pct(r.comparisons[metric].lift)} {_interval(r.comparisons[metric])}"
                          for r in treatments)
        parts.append(_("No winner yet on %(m)s: %(shown)s, %(guard)s; %(share).0f %% of the planned shoppers so far.")
                     % {"m": label, "shown": shown, "guard": guard, "share": min(fraction, 9.99) * 100})
    return " ".join(parts), winner


def _timeline(exp: Exposures, arms: list[Variant]) -> list[dict[str, Any]]:
    """Cumulative figures per day and variant: ``{"day", "date", "<variant>": {metric: value, "shoppers"}}``."""
    if exp.lists.empty:
        return []
    out = []
    first = exp.units.set_index("unit")["first_day"]
    for day in range(int(exp.lists["day"].max()) + 1):
        lists = exp.lists[exp.lists["day"] <= day]
        point: dict[str, Any] = {"day": day, "date": (exp.start + dt.timedelta(days=day)).date().isoformat()}
        for arm in arms:
            rows = lists[lists["variant"] == arm.name]
            shoppers = int((first[rows["unit"].unique()] <= day).sum()) if len(rows) else 0
            bought = rows[rows["purchases"] > 0]["unit"].nunique()
            point[arm.name] = {
                "shoppers": shoppers,
                ExperimentMetric.CTR: float(rows["clicked"].sum() / len(rows)) if len(rows) else None,
                ExperimentMetric.CONVERSION: bought / shoppers if shoppers else None,
                ExperimentMetric.REVENUE: float(rows["revenue"].sum() / shoppers) if shoppers else None}
        out.append(point)
    return out


def experiment_results(*, experiment: Experiment, now: dt.datetime | None = None) -> Results:
    """The experiment's results so far (see the module doc)."""
    arms = list(experiment.variants.select_related("fusion_config", "model_version", "search_settings"))
    control = next(a for a in arms if a.is_control)
    exp = exposures(experiment=experiment, now=now)
    units = exp.units[exp.units["variant"].isin({a.name for a in arms})]
    _, cap = cap_outliers(units["revenue"].to_numpy(float), CAP_QUANTILE) if len(units) else (None, 0.0)
    planned = max(experiment.sample_size * len(arms), 1)
    per_day = units.groupby("first_day").size().sort_index().cumsum() if len(units) else pd.Series(dtype=int)
    fractions = [max(n / planned, 1e-6) for n in per_day.to_numpy()]
    alpha = experiment.alpha / max(len(arms) - 1, 1)
    bounds = spending_bounds(fractions, alpha) if fractions else np.array([np.inf])
    bound = float(bounds[-1])
    rows, reduction = _compare_all(units, arms, control, cap=cap, bound=bound, primary=experiment.primary_metric)
    treated = [r for r in rows if r.comparisons]
    adjusted = holm([r.comparisons[experiment.primary_metric].p_value for r in treated], experiment.alpha)
    for r, p in zip(treated, adjusted, strict=True):
        r.p_adjusted = p
    _guardrails(experiment, rows)
    srm_p, srm_warn = 1.0, False
    if len(units):
        _, srm_p, srm_warn = srm_check([r.shoppers for r in rows], [a.allocation for a in arms])
    fraction = fractions[-1] if fractions else 0.0
    verdict, winner = _verdict(experiment, rows, (srm_p, srm_warn), fraction)
    return Results(experiment, rows, srm_p, srm_warn, fraction, bound, len(fractions), reduction, float(cap),
                   verdict, winner, _timeline(exp, arms))
