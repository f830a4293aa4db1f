"""Comparisons of a treatment with the control, one value per shopper.

Metric kinds (``kind``):

- ``"proportion"``: 0/1 per shopper (conversion: bought at least once). Two-proportion z-test
  (statsmodels), Wilson intervals per variant.
- ``"ratio"``: numerator and denominator per shopper (click-through rate: lists clicked ÷ lists served).
  The rate is Σnum ÷ Σden; its variance by the delta method with the shopper as the unit, so several lists
  of one shopper are not counted as independent.
- ``"mean"``: a number per shopper (revenue per shopper, after :func:`cap_outliers`). Welch's t-test
  (SciPy); the lift's interval by bootstrap when asked (``bootstrap=True``).

The relative lift ``treatment ÷ control − 1`` gets a delta-method interval (on the log of the ratio). ``sequential_z`` (from
:func:`mlcore.experiments.sequential.spending_bounds`) widens it into the peeking-safe interval.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import proportion_confint, proportion_effectsize, proportions_ztest

KINDS = ("proportion", "ratio", "mean")
SRM_P = 0.001  # a sample-ratio mismatch is flagged below this p-value (the usual, strict, threshold)


@dataclass(frozen=True)
class Summary:
    """One variant's metric: ``value`` (a rate, or a mean per shopper), its 95 % interval, the shoppers
    ``n`` and the standard error of ``value``."""

    value: float
    low: float
    high: float
    n: int
    se: float


@dataclass(frozen=True)
class Comparison:
    """A treatment against the control. ``lift`` is relative (0.041 = +4.1 %); ``lift_low/high`` its fixed-
    horizon interval; ``seq_low/high`` the peeking-safe one (equal to the fixed one when no sequential bound
    was given); ``p_value`` two-sided, unadjusted."""

    difference: float
    lift: float
    lift_low: float
    lift_high: float
    seq_low: float
    seq_high: float
    p_value: float
    z: float

    @property
    def significant(self) -> bool:
        """Whether the peeking-safe interval excludes no change."""
        return self.seq_low > 0 or self.seq_high < 0


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def summarize(values: np.ndarray, *, kind: str, denominators: np.ndarray | None = None,
              level: float = 0.95) -> Summary:
    """The variant's metric over its shoppers (``values`` shape ``(n,)``; ``denominators`` for ``"ratio"``)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if kind not in KINDS:
        raise ValueError(f"unknown metric kind {kind!r}; use one of {', '.join(KINDS)}")
    if n == 0:
        return Summary(float("nan"), float("nan"), float("nan"), 0, float("nan"))
    if kind == "proportion":
        hits = int(x.sum())
        low, high = proportion_confint(hits, n, alpha=1 - level, method="wilson")
        p = hits / n
        return Summary(p, float(low), float(high), n, float(np.sqrt(p * (1 - p) / n)))
    if kind == "ratio":
        if denominators is None:
            raise ValueError("a ratio metric needs its denominators")
        d = np.asarray(denominators, dtype=float)
        total = d.sum()
        r = float(x.sum() / total) if total > 0 else float("nan")
        md = total / n
        resid = x - r * d  # the delta method's linearisation, shopper by shopper
        se = float(np.sqrt(resid.var(ddof=1) / n) / md) if n > 1 and md > 0 else float("nan")
    else:
        r = float(x.mean())
        se = float(x.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    half = _z(level) * se
    return Summary(r, r - half, r + half, n, se)


def compare(control: Summary, treatment: Summary, *, level: float = 0.95, sequential_z: float | None = None,
            control_values: np.ndarray | None = None, treatment_values: np.ndarray | None = None,
            kind: str = "ratio", bootstrap: bool = False, seed: int = 0) -> Comparison:
    """Treatment against control. For ``"proportion"`` the z-test pools the two rates (statsmodels); for
    ``"mean"`` with the raw values given, Welch's t-test (and, with ``bootstrap``, a percentile bootstrap of
    the lift); otherwise a z-test on the difference with the two standard errors."""
    diff = treatment.value - control.value
    se_diff = float(np.hypot(treatment.se, control.se))
    if kind == "proportion" and control.n and treatment.n:
        counts = np.array([round(treatment.value * treatment.n), round(control.value * control.n)])
        if counts.sum() == 0 or counts.sum() == treatment.n + control.n:
            z, p = 0.0, 1.0
        else:
            z, p = proportions_ztest(counts, np.array([treatment.n, control.n]))
    elif (kind == "mean" and control_values is not None and treatment_values is not None
          and len(control_values) > 1 and len(treatment_values) > 1):
        z, p = stats.ttest_ind(treatment_values, control_values, equal_var=False)
    else:
        z = diff / se_diff if se_diff > 0 else 0.0
        p = 2 * stats.norm.sf(abs(z))
    base = control.value
    lift = treatment.value / base - 1 if base else float("nan")
    low, high = _lift_interval(control, treatment, _z(level))
    if bootstrap and control_values is not None and treatment_values is not None and base:
        low, high = _bootstrap_lift(control_values, treatment_values, level=level, seed=seed)
    seq_low, seq_high = (low, high) if sequential_z is None else _lift_interval(control, treatment, sequential_z)
    return Comparison(float(diff), float(lift), float(low), float(high), float(seq_low), float(seq_high),
                      float(np.nan_to_num(p, nan=1.0)), float(np.nan_to_num(z)))


def _lift_interval(control: Summary, treatment: Summary, z: float) -> tuple[float, float]:
    """``treatment ÷ control − 1 ± z`` standard errors, by the delta method on the log of the ratio (so the
    interval agrees with the test on the difference and never goes below −100 %); on the ratio itself when a
    mean is not positive (CUPED-adjusted values may be)."""
    c, t = control.value, treatment.value
    if not (np.isfinite(c) and np.isfinite(t)) or c == 0:
        return float("nan"), float("nan")
    if c > 0 and t > 0:
        se = float(np.sqrt(treatment.se ** 2 / t ** 2 + control.se ** 2 / c ** 2))
        ratio = np.log(t / c)
        return float(np.exp(ratio - z * se) - 1), float(np.exp(ratio + z * se) - 1)
    se = float(np.sqrt(treatment.se ** 2 / c ** 2 + t ** 2 * control.se ** 2 / c ** 4))
    return t / c - 1 - z * se, t / c - 1 + z * se


def _bootstrap_lift(control: np.ndarray, treatment: np.ndarray, *, level: float, seed: int,
                    resamples: int = 2000) -> tuple[float, float]:
    """A percentile bootstrap interval of ``mean(treatment) / mean(control) − 1`` (SciPy)."""
    def lift(t: np.ndarray, c: np.ndarray, axis: int = -1) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):  # a resample without revenue in the control: inf
            return np.asarray(t.mean(axis=axis) / c.mean(axis=axis) - 1)

    with np.errstate(divide="ignore", invalid="ignore"):
        res = stats.bootstrap((np.asarray(treatment, float), np.asarray(control, float)), lift, n_resamples=resamples,
                              confidence_level=level, method="percentile", vectorized=True, random_state=seed)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def holm(p_values: Sequence[float], alpha: float = 0.05) -> list[float]:
    """Holm-adjusted p-values for several treatments against one control (statsmodels)."""
    if not p_values:
        return []
    return [float(p) for p in multipletests(list(p_values), alpha=alpha, method="holm")[1]]


def cuped(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, float]:
    """CUPED (Deng et al. 2013): ``y − θ (x − mean x)`` with ``θ = cov(x, y) / var(x)`` over all shoppers of
    all variants; ``x`` is each shopper's pre-experiment activity. Returns (adjusted values, θ); θ = 0 when
    ``x`` does not vary."""
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    vx = x.var()
    theta = float(np.cov(x, y, bias=True)[0, 1] / vx) if vx > 0 and len(x) > 1 else 0.0
    return y - theta * (x - x.mean()), theta


def cap_outliers(values: np.ndarray, quantile: float = 0.99) -> tuple[np.ndarray, float]:
    """Values above the ``quantile`` of all of them set to it (winsorising: one huge order must not decide an
    experiment). Returns (capped values, the cap)."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return v, float("nan")
    cap = float(np.quantile(v, quantile))
    return np.minimum(v, cap), cap


def srm_check(observed: Sequence[int], expected_shares: Sequence[float]) -> tuple[float, float, bool]:
    """Sample-ratio mismatch: chi-square of the shoppers per variant against the allocation (shares summing
    to 1 over the variants compared). Returns (statistic, p-value, warn) with warn when p < :data:`SRM_P`."""
    obs = np.asarray(observed, dtype=float)
    shares = np.asarray(expected_shares, dtype=float)
    if obs.sum() == 0 or len(obs) < 2:
        return 0.0, 1.0, False
    chi2, p = stats.chisquare(obs, shares / shares.sum() * obs.sum())
    return float(chi2), float(p), bool(p < SRM_P)


def sample_size_per_variant(*, baseline: float, mde: float, kind: str = "proportion", sd: float | None = None,
                            alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0) -> int:
    """Shoppers each variant needs to detect a relative change ``mde`` (0.05 = 5 %) of ``baseline`` with the
    given power, two-sided (statsmodels). ``"proportion"``: ``baseline`` is a rate; otherwise give the
    shopper-level standard deviation ``sd``. ``ratio`` = treatment size ÷ control size."""
    if baseline <= 0 or mde <= 0:
        raise ValueError("baseline and minimum detectable effect must be positive")
    if kind == "proportion":
        target = baseline * (1 + mde)
        if target >= 1:
            raise ValueError(f"a {mde:.0%} lift on a rate of {baseline:.2%} passes 100 %; choose a smaller effect")
        effect = abs(proportion_effectsize(target, baseline))
        n = NormalIndPower().solve_power(effect_size=effect, alpha=alpha, power=power, ratio=ratio)
    else:
        if not sd or sd <= 0:
            raise ValueError("a mean metric needs the standard deviation per shopper")
        n = TTestIndPower().solve_power(effect_size=baseline * mde / sd, alpha=alpha, power=power, ratio=ratio)
    return int(np.ceil(float(n)))
