"""Product text: fields in order, attributes as name: value, limits."""
from __future__ import annotations

import pandas as pd
import pytest

from mlcore.text import ProductTextConfig, product_texts


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": ["a", "b"],
            "title": ["Red mug", "Hose"],
            "description": ["A very long description", ""],
            "category": ["Home > Kitchen", ""],
            "brand": ["Acme", ""],
            "attr_t_colour": ["red", None],
        }
    )


def test_it_joins_title_brand_category_description_and_attributes():
    texts = product_texts(frame())
    assert texts == ["Red mug. Acme. Home > Kitchen. A very long description. colour: red", "Hose"]


def test_it_follows_the_configured_fields_and_truncates_descriptions():
    config = ProductTextConfig(fields="description,title", max_description_chars=6)
    assert product_texts(frame(), config) == ["A very. Red mug", "Hose"]


def test_it_rejects_an_unknown_field():
    with pytest.raises(ValueError, match="colour"):
        ProductTextConfig(fields="title,colour")
