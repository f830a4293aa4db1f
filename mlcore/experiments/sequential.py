"""Peeking-safe bounds: how far a z-statistic must go at each look so that looking every day keeps the
false-positive rate at α.

:func:`spending_bounds` gives the group-sequential boundary of Lan & DeMets (1983) with the
O'Brien–Fleming-type spending function ``α(t) = 2 − 2Φ(z_{1−α/2} / √t)``: at information fraction ``t`` (shoppers
so far ÷ the planned sample size) at most ``α(t)`` of the false-positive budget has been spent, whatever the
number and timing of the looks. ``estimate ± c_k · se`` are then *repeated confidence intervals* (Jennison &
Turnbull): a confidence sequence over the looks, all of them covering the true effect at once with probability
1 − α. SciPy and statsmodels have no group-sequential boundaries, so the crossing probabilities are computed
here by the Armitage–McPherson–Rowe recursion (the score process's density on a grid, convolved look to look).

:func:`mixture_halfwidth` is the open-ended alternative (Robbins' normal mixture, the asymptotic confidence
sequence of Waudby-Smith et al. 2021): valid for looks at any time without a planned horizon, at the price of
being conservative (about 1 % false positives over 14 daily looks at α = 0.05) — used after the planned sample
size is passed.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

GRID_HALF = 8.0  # the score process's grid spans ± this many standard deviations at t = 1


def spent(t: float, alpha: float = 0.05) -> float:
    """The O'Brien–Fleming-type share of ``alpha`` spent by information fraction ``t`` in [0, 1]."""
    if t <= 0:
        return 0.0
    return float(2.0 - 2.0 * stats.norm.cdf(stats.norm.ppf(1 - alpha / 2) / np.sqrt(min(t, 1.0))))


def spending_bounds(fractions: Sequence[float], alpha: float = 0.05) -> np.ndarray:
    """Two-sided z boundaries ``c_k`` for looks at information fractions ``fractions`` (non-decreasing, > 0;
    values over 1 count as 1). Shape ``(len(fractions),)``; ``|z_k| ≥ c_k`` at any look rejects at level α.

    >>> bool(abs(spending_bounds([1.0])[0] - 1.96) < 0.01)
    True
    """
    t = np.minimum(np.asarray(fractions, dtype=float), 1.0)
    if len(t) == 0:
        return np.zeros(0)
    if (t <= 0).any() or (np.diff(t) < -1e-12).any():
        raise ValueError("information fractions must be positive and non-decreasing")
    h = min(0.005, np.sqrt(t[0]) / 12)
    grid = np.arange(-GRID_HALF, GRID_HALF + h / 2, h)
    order = np.argsort(-np.abs(grid), kind="stable")  # outermost first, for the tail masses
    bounds = np.empty(len(t))
    density = np.zeros_like(grid)
    density[len(grid) // 2] = 1.0 / h  # the score process starts at 0
    previous_t, previous_spent = 0.0, 0.0
    for k, tk in enumerate(t):
        step = tk - previous_t
        budget = spent(tk, alpha) - previous_spent
        if step <= 1e-12 or budget <= 1e-15:  # no new information: the last boundary costs nothing more
            bounds[k] = bounds[k - 1] if k else np.inf
            continue
        kernel = stats.norm.pdf(grid, scale=np.sqrt(step)) * h
        density = np.convolve(density, kernel, mode="same")
        tail = np.cumsum(density[order]) * h
        cut = int(np.searchsorted(tail, budget))
        b = abs(grid[order[min(cut, len(grid) - 1)]])
        bounds[k] = b / np.sqrt(tk)
        density[np.abs(grid) >= b] = 0.0
        previous_t, previous_spent = tk, spent(tk, alpha)
    return bounds


def mixture_halfwidth(se: float | np.ndarray, n: float | np.ndarray, n_planned: float,
                      alpha: float = 0.05) -> np.ndarray:
    """Half-width of the always-valid normal-mixture confidence sequence for an estimate with standard error
    ``se`` from ``n`` shoppers, tuned to be tightest near ``n_planned`` (Waudby-Smith et al., eq. 2.7)."""
    rho2 = (-2 * np.log(alpha) + np.log(-2 * np.log(alpha) + 1)) / max(float(n_planned), 1.0)
    v = np.asarray(n, dtype=float) * rho2
    return np.asarray(se, dtype=float) * np.sqrt(2 * (v + 1) / v * np.log(np.sqrt(v + 1) / alpha))
