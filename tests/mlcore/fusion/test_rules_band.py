"""Boost and bury by a band of a numeric column (a price band) as well as by a value."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcore.data import IdMap
from mlcore.fusion import Boost, Bury, RuleContext, apply_rules, rule_from_dict, rule_to_dict

PRODUCTS = pd.DataFrame({"item_id": list("abcde"), "price": [5.0, 12.0, 25.0, np.nan, 40.0],
                         "brand": ["X", "Y", "X", "Y", "X"]})
CTX = RuleContext(products=PRODUCTS, items=IdMap(list("abcde")))
ITEMS = np.arange(5)
SCORES = np.array([5.0, 4.0, 3.0, 2.0, 1.0])


def order(rules):
    return [CTX.items.ids[i] for i in apply_rules(ITEMS, SCORES, rules, CTX).items]


def test_a_price_band_boost_lifts_only_products_inside_the_band():
    ranked = apply_rules(ITEMS, SCORES, [Boost(column="price", low=20, high=45, factor=3)], CTX)
    assert [CTX.items.ids[i] for i in ranked.items] == ["c", "a", "b", "e", "d"]  # c 3→9, e 1→3 (still under b's 4)
    notes = dict(zip(ranked.items.tolist(), ranked.notes, strict=True))
    assert notes[2] == ("boost price 20–45 ×3",) and notes[3] == ()  # no price: never in a band


def test_an_open_band_and_a_bury():
    assert order([Bury(column="price", high=10, factor=0.1)])[-1] == "a"  # 5 is under 10: 0.5, last
    assert order([Boost(column="price", low=30, factor=10)])[0] == "e"


def test_a_value_boost_still_matches_text_case_insensitively_and_any_value_of_a_multi_valued_cell():
    assert order([Boost(column="brand", value="y", factor=2)])[:2] == ["b", "a"]
    colours = RuleContext(products=PRODUCTS.assign(colour=["red", "Blue|Red ", "green", None, "redwood"]),
                          items=CTX.items)
    ranked = apply_rules(ITEMS, SCORES, [Bury(column="colour", value="red", factor=0.1)], colours)
    assert [CTX.items.ids[i] for i in ranked.items] == ["c", "d", "e", "a", "b"]


@pytest.mark.parametrize("kwargs, message", [
    ({"column": "price"}, "give the value"),
    ({"column": "price", "value": "5", "low": 1}, "not both"),
    ({"column": "price", "low": 9, "high": 1}, "above its high"),
])
def test_a_rule_needs_a_value_or_a_sane_band(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Boost(**kwargs)


def test_stored_forms_round_trip_and_value_rules_keep_their_old_shape():
    band = Boost(column="price", low=20.0, high=45.0, factor=3.0)
    assert rule_to_dict(band) == {"kind": "boost", "column": "price", "factor": 3.0, "low": 20.0, "high": 45.0}
    assert rule_from_dict(rule_to_dict(band)) == band
    value = Bury(column="brand", value="X")
    assert rule_to_dict(value) == {"kind": "bury", "column": "brand", "value": "X", "factor": 0.5}
    assert rule_from_dict(rule_to_dict(value)) == value
