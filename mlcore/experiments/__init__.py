"""Statistics of online experiments (A/B tests): comparisons with confidence intervals, peeking-safe
sequential bounds, CUPED, the sample-ratio check, outlier capping and the power calculation.

Pure functions over NumPy arrays (one value per shopper), no Django: the dashboard's results page and the
A/B simulation benchmark call the same code.
"""
from mlcore.experiments.sequential import mixture_halfwidth, spending_bounds
from mlcore.experiments.stats import (
    Comparison,
    Summary,
    cap_outliers,
    compare,
    cuped,
    holm,
    sample_size_per_variant,
    srm_check,
    summarize,
)

__all__ = [
    "Comparison",
    "Summary",
    "cap_outliers",
    "compare",
    "cuped",
    "holm",
    "mixture_halfwidth",
    "sample_size_per_variant",
    "spending_bounds",
    "srm_check",
    "summarize",
]
