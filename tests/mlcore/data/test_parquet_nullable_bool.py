"""A nullable 0/1 Parquet column (read back as floats 1.0/0.0 with gaps) is a valid true/false column."""
from __future__ import annotations

import pandas as pd

from mlcore.data.readers import read_table
from mlcore.data.validate import validate_chunk


def test_a_nullable_zero_one_column_is_read_as_booleans(tmp_path):
    path = tmp_path / "products.parquet"
    pd.DataFrame({"sku": ["A", "B", "C"], "name": ["a", "b", "c"],
                  "stock": pd.Series([1.0, 0.0, None], dtype="float64")}).to_parquet(path, index=False)
    frame = read_table(path)
    clean, errors = validate_chunk(frame, kind="products", mapping={"sku": "id", "name": "title", "stock": "in_stock"})
    assert errors == []
    assert clean["in_stock"].tolist()[:2] == [True, False] and pd.isna(clean["in_stock"].tolist()[2])
