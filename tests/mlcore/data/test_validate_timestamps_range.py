"""A time no nanosecond timestamp can hold is a row error, not a crash."""
from __future__ import annotations

import pandas as pd

from mlcore.data.validate import parse_timestamps


def test_a_time_after_2262_is_not_a_time_and_the_rest_still_parse():
    parsed = parse_timestamps(pd.Series(["2489-11-11T12:15:28Z", "2011-01-01 10:00", "881250949"]))
    assert parsed.isna().tolist() == [True, False, False]
    assert str(parsed.dtype) == "datetime64[ns, UTC]"
