"""A request's own filters: any of a column's values, category paths by prefix, unknown columns named."""
from __future__ import annotations

import pandas as pd
import pytest

from mlcore.fusion import filter_mask

TABLE = pd.DataFrame({"category": ["Home > Kitchen", "Home", "Garden > Tools", None],
                      "brand": ["Acme", " acme ", "Other", "Acme"]})


def test_a_category_matches_itself_and_every_path_below_it():
    assert filter_mask(TABLE, {"category": ("Home",)}).tolist() == [True, True, False, False]
    assert filter_mask(TABLE, {"category": ("home > kitchen",)}).tolist() == [True, False, False, False]


def test_several_values_match_any_and_several_columns_match_all():
    assert filter_mask(TABLE, {"category": ("Home", "Garden")}).tolist() == [True, True, True, False]
    assert filter_mask(TABLE, {"brand": ("ACME",), "category": ("Home",)}).tolist() == [True, True, False, False]


def test_no_values_constrain_nothing_and_an_unknown_column_is_named():
    assert filter_mask(TABLE, {"brand": ()}).all()
    with pytest.raises(ValueError, match="'colour'.*brand, category"):
        filter_mask(TABLE, {"colour": ("red",)})
