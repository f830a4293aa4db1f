"""Business rules: filters never leak, pins land exactly, boosts and buries move items."""
import numpy as np
import pandas as pd
import pytest

from mlcore.data import IdMap
from mlcore.fusion import (
    Boost,
    Bury,
    CategoryFilter,
    ExcludeBought,
    InStock,
    Pin,
    PriceRange,
    RuleContext,
    apply_rules,
    rule_from_dict,
    rule_to_dict,
)

PRODUCTS = pd.DataFrame(
    {
        "item_id": ["p0", "p1", "p2", "p3", "p4", "p5"],
        "category": ["Home > Kitchen", "Home > Garden", "Toys", "Home", "Home > Kitchen > Mugs", "Toys > Cars"],
        "brand": ["Acme", "Bolt", "Acme", "Bolt", "Acme", "Cosy"],
        "price": ["5", "15", "25", "", "9.5", "40"],
        "in_stock": ["yes", "no", "1", "true", "0", "y"],
    }
)
CTX = RuleContext(products=PRODUCTS, items=IdMap(PRODUCTS["item_id"]), bought=frozenset({2}))
ITEMS = np.array([0, 1, 2, 3, 4, 5])
SCORES = np.array([6.0, 5.0, 4.0, 3.0, 2.0, 1.0])


def ranked(rules, k=None):
    return apply_rules(ITEMS, SCORES, rules, CTX, k=k).items.tolist()


def test_in_stock_keeps_only_available_items():
    assert ranked([InStock()]) == [0, 2, 3, 5]


def test_category_include_matches_sub_paths_and_exclude_wins():
    assert ranked([CategoryFilter(include=("home",))]) == [0, 1, 3, 4]
    assert ranked([CategoryFilter(include=("Home",), exclude=("Home > Kitchen",))]) == [1, 3]


def test_price_range_drops_items_without_a_price():
    assert ranked([PriceRange(low=5, high=25)]) == [0, 1, 2, 4]


def test_exclude_bought_drops_the_shoppers_purchases():
    assert ranked([ExcludeBought()]) == [0, 1, 3, 4, 5]


def test_pins_land_at_their_exact_positions():
    out = apply_rules(ITEMS, SCORES, [Pin("p5", 1), Pin("p3", 3)], CTX, k=4)
    assert out.items.tolist() == [5, 0, 3, 1]
    assert out.notes[0] == ("pinned at 1",) and out.notes[2] == ("pinned at 3",)


def test_a_pin_beyond_the_list_goes_last_and_a_pinned_item_must_pass_filters():
    assert ranked([Pin("p0", 10)], k=3) == [1, 2, 0]
    # p1 is out of stock: the pin must not bring it back
    assert ranked([InStock(), Pin("p1", 1)]) == [0, 2, 3, 5]


def test_filters_never_leak_whatever_the_rule_order():
    rules = [Pin("p4", 2), Boost("brand", "Acme", 10.0), InStock(), ExcludeBought(), PriceRange(high=30)]
    out = ranked(rules)
    assert set(out) == {0}


def test_boost_and_bury_move_matching_items():
    assert ranked([Boost("brand", "cosy", 10.0)])[0] == 5
    assert ranked([Bury("brand", "Acme", 0.1)])[-3:] == [0, 2, 4]


def test_boost_factor_must_raise_and_bury_factor_must_lower():
    with pytest.raises(ValueError, match="boost factor must be > 1"):
        Boost("brand", "Acme", 0.5)
    with pytest.raises(ValueError, match="bury factor"):
        Bury("brand", "Acme", 2.0)


def test_two_pins_on_one_position_are_refused():
    with pytest.raises(ValueError, match="share a position"):
        ranked([Pin("p1", 2), Pin("p2", 2)])


def test_rules_round_trip_through_their_stored_form():
    for rule in (CategoryFilter(include=("Toys",)), Pin("p1", 3), Boost("brand", "Acme", 2.0), ExcludeBought()):
        assert rule_from_dict(rule_to_dict(rule)) == rule
    with pytest.raises(ValueError, match="unknown rule kind 'shuffle'"):
        rule_from_dict({"kind": "shuffle"})


def test_a_rule_on_a_missing_column_names_it():
    with pytest.raises(KeyError, match="colour"):
        ranked([Boost("colour", "red", 2.0)])
