"""The experiment statistics on known answers."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mlcore.experiments import (
    cap_outliers,
    compare,
    cuped,
    holm,
    mixture_halfwidth,
    sample_size_per_variant,
    spending_bounds,
    srm_check,
    summarize,
)


def test_a_proportion_gets_its_wilson_interval_and_the_pooled_z_test():
    a = summarize(np.r_[np.ones(100), np.zeros(900)], kind="proportion")
    b = summarize(np.r_[np.ones(130), np.zeros(870)], kind="proportion")
    assert a.value == pytest.approx(0.10) and a.low == pytest.approx(0.0829, abs=1e-3)
    c = compare(a, b, kind="proportion")
    pooled = 0.115
    z = 0.03 / np.sqrt(pooled * (1 - pooled) * (2 / 1000))
    assert c.z == pytest.approx(z, rel=1e-6) and c.p_value == pytest.approx(2 * stats.norm.sf(z), rel=1e-6)
    assert c.lift == pytest.approx(0.30)
    assert c.lift_low < 0.30 < c.lift_high and c.significant


def test_a_ratio_metric_counts_the_shopper_as_the_unit():
    clicks = np.array([1, 0, 3, 0])
    lists = np.array([2, 1, 4, 1])
    s = summarize(clicks, kind="ratio", denominators=lists)
    assert s.value == pytest.approx(0.5)
    resid = clicks - 0.5 * lists
    assert s.se == pytest.approx(np.sqrt(resid.var(ddof=1) / 4) / 2)


def test_welch_t_and_a_bootstrap_interval_for_revenue():
    rng = np.random.default_rng(1)
    control, treatment = rng.exponential(10, 4000), rng.exponential(11, 4000)
    a, b = summarize(control, kind="mean"), summarize(treatment, kind="mean")
    c = compare(a, b, kind="mean", control_values=control, treatment_values=treatment, bootstrap=True)
    assert c.p_value == pytest.approx(stats.ttest_ind(treatment, control, equal_var=False).pvalue)
    assert c.lift_low < treatment.mean() / control.mean() - 1 < c.lift_high
    assert 0.0 < c.lift_low  # a 10 % lift on 4 000 shoppers each is detected


def test_holm_adjusts_several_p_values():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_one_look_at_the_whole_sample_is_the_fixed_horizon_test():
    assert spending_bounds([1.0])[0] == pytest.approx(1.96, abs=0.01)


def test_daily_peeking_keeps_the_false_positive_rate_at_alpha():
    rng = np.random.default_rng(0)
    looks = np.arange(1, 15) * 100.0
    bounds = spending_bounds(looks / looks[-1])
    assert (np.diff(bounds) < 0).all() and bounds[0] > 4  # early looks need overwhelming evidence
    z = np.cumsum(rng.standard_normal((20_000, 14)) * 10, axis=1) / np.sqrt(looks)
    naive = (np.abs(z) >= 1.96).any(axis=1).mean()
    safe = (np.abs(z) >= bounds).any(axis=1).mean()
    assert naive > 0.15 and 0.04 < safe < 0.06


def test_the_mixture_sequence_is_wider_than_the_fixed_interval():
    assert mixture_halfwidth(1.0, 1000, 1000) > 1.96


def test_cuped_removes_the_variance_that_the_pre_period_explains():
    rng = np.random.default_rng(2)
    x = rng.normal(size=5000)
    y = 2 * x + rng.normal(size=5000)
    adjusted, theta = cuped(y, x)
    assert theta == pytest.approx(2, abs=0.05)
    assert adjusted.var() / y.var() == pytest.approx(1 / 5, abs=0.03)
    assert adjusted.mean() == pytest.approx(y.mean())


def test_a_55_45_split_is_a_sample_ratio_mismatch_and_50_50_is_not():
    assert srm_check([5500, 4500], [50, 50])[2]
    assert not srm_check([5020, 4980], [50, 50])[2]


def test_outliers_are_capped_at_the_quantile():
    capped, cap = cap_outliers(np.r_[np.ones(99), 1000.0], 0.99)
    assert cap == pytest.approx(np.quantile(np.r_[np.ones(99), 1000.0], 0.99)) and capped.max() == cap


def test_the_power_calculation_matches_the_textbook_formula():
    n = sample_size_per_variant(baseline=0.10, mde=0.10)
    p1, p2 = 0.10, 0.11
    h = 2 * np.arcsin(np.sqrt(p2)) - 2 * np.arcsin(np.sqrt(p1))
    assert n == pytest.approx(2 * ((1.959964 + 0.841621) / h) ** 2, abs=1)  # about 14 750 per variant
    with pytest.raises(ValueError, match="standard deviation"):
        sample_size_per_variant(baseline=10.0, mde=0.05, kind="mean")
