"""A page's own filters (``category=Home``, ``brand=Acme``…): which products a request may return at all.

Unlike the operator's rules, these come with each request (a storefront's facet clicks). They are
applied before the candidate cut, so a narrow filter still fills the page. One matcher serves
recommendations and search.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

CATEGORY_COLUMN = "category"
CATEGORY_SEPARATOR = " > "

Filters = Mapping[str, tuple[str, ...]]


def filter_mask(table: pd.DataFrame, filters: Filters) -> np.ndarray:
    """(len(table),) bool: the rows matching every filter (any of its values).

    A value matches a column's value ignoring case and surrounding spaces; for ``category`` it also
    matches every path below it ("Home" matches "Home > Kitchen"). A filter with no values constrains
    nothing. ValueError names an unknown column and the known ones.

    >>> t = pd.DataFrame({"category": ["Home > Kitchen", "Garden"], "brand": ["Acme", "Other"]})
    >>> filter_mask(t, {"category": ("home",)}).tolist()
    [True, False]
    >>> filter_mask(t, {"brand": ("acme", "other"), "category": ("Garden",)}).tolist()
    [False, True]
    """
    mask = np.ones(len(table), dtype=bool)
    for column, values in filters.items():
        if column not in table.columns:
            raise ValueError(f"unknown filter column {column!r}; use one of {', '.join(sorted(map(str, table.columns)))}")
        wanted = [str(v).strip().casefold() for v in ([values] if isinstance(values, str) else values)]
        wanted = [v for v in wanted if v]
        if not wanted:
            continue
        have = table[column].fillna("").astype(str).str.strip().str.casefold()
        match = have.isin(wanted).to_numpy(dtype=bool, copy=True)
        if column == CATEGORY_COLUMN:
            for v in wanted:
                match |= have.str.startswith(v + CATEGORY_SEPARATOR.casefold()).to_numpy()
        mask &= match
    return mask
