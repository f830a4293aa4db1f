"""Pins limited to a page context, and the exclude-recently-seen filter."""
import json

import numpy as np
import pandas as pd
import pytest

from mlcore.data import IdMap
from mlcore.fusion import (
    ExcludeRecent,
    InStock,
    Pin,
    RuleContext,
    apply_rules,
    rule_from_dict,
    rule_to_dict,
    same_context,
)

PRODUCTS = pd.DataFrame({
    "item_id": ["p0", "p1", "p2", "p3", "p4", "p5"],
    "category": ["Home > Kitchen", "Home > Garden", "Toys", "Home", "Home > Kitchen > Mugs", "Toys > Cars"],
    "in_stock": ["yes", "no", "1", "true", "0", "y"],
})
ITEMS = np.array([0, 1, 2, 3, 4, 5])
SCORES = np.array([6.0, 5.0, 4.0, 3.0, 2.0, 1.0])
KITCHEN = "category:Home > Kitchen"


def ctx(context: str = "", recent: frozenset[int] = frozenset()) -> RuleContext:
    return RuleContext(products=PRODUCTS, items=IdMap(PRODUCTS["item_id"]), recent=recent, context=context)


def ranked(rules, context="", recent=frozenset(), k=None):
    return apply_rules(ITEMS, SCORES, rules, ctx(context, recent), k=k)


def test_a_pin_with_a_context_lands_at_its_exact_position_only_in_that_context():
    pin = Pin("p5", 2, context=KITCHEN)
    on_page = ranked([pin], context=KITCHEN, k=4)
    assert on_page.items.tolist() == [0, 5, 1, 2]
    assert on_page.notes[1] == ("pinned at 2 for category:Home > Kitchen",)
    assert ranked([pin], k=4).items.tolist() == [0, 1, 2, 3]  # no page: no pin
    assert ranked([pin], context="category:Toys", k=4).items.tolist() == [0, 1, 2, 3]


def test_a_context_matches_whatever_the_case_and_spaces():
    assert same_context("category:home>kitchen", " Category: Home >  Kitchen ")
    assert not same_context("category:Home", "category:Home > Kitchen")
    assert ranked([Pin("p5", 1, context=KITCHEN)], context="CATEGORY:home > kitchen", k=3).items.tolist()[0] == 5


def test_a_pin_without_a_context_applies_everywhere():
    assert ranked([Pin("p4", 1)], context=KITCHEN, k=3).items.tolist() == [4, 0, 1]
    assert ranked([Pin("p4", 1)], k=3).items.tolist() == [4, 0, 1]


def test_pins_for_other_pages_may_share_a_position_and_the_page_pin_wins_for_its_item():
    rules = [Pin("p5", 1, context=KITCHEN), Pin("p4", 1, context="category:Toys"), Pin("p5", 3)]
    assert ranked(rules, context=KITCHEN, k=4).items.tolist() == [5, 0, 1, 2]  # p5 once, at its page's position
    assert ranked(rules, context="category:Toys", k=4).items.tolist() == [4, 0, 5, 1]
    with pytest.raises(ValueError, match="two pins share a position"):
        ranked([Pin("p5", 1, context=KITCHEN), Pin("p4", 1)], context=KITCHEN)


def test_exclude_recent_drops_the_items_seen_lately():
    out = ranked([ExcludeRecent()], recent=frozenset({0, 3}))
    assert out.items.tolist() == [1, 2, 4, 5]
    assert ranked([], recent=frozenset({0, 3})).items.tolist() == [0, 1, 2, 3, 4, 5]  # only the rule reads them


def test_a_recently_seen_item_never_comes_back_through_a_pin():
    rules = [Pin("p3", 1), Pin("p0", 2, context=KITCHEN), ExcludeRecent(days=3)]
    assert ranked(rules, context=KITCHEN, recent=frozenset({0, 3}), k=3).items.tolist() == [1, 2, 4]
    assert ranked([InStock(), ExcludeRecent(), Pin("p1", 1)], recent=frozenset({2})).items.tolist() == [0, 3, 5]


def test_exclude_recent_checks_its_window_and_event_types():
    assert ExcludeRecent().days == 7 and ExcludeRecent().types == ("view", "click")
    for bad, message in [({"days": 0}, "days must be a whole number"), ({"days": 2.5}, "days must be a whole number"),
                         ({"types": ()}, "give at least one event type"),
                         ({"types": ("view", "impression")}, "unknown event type 'impression'")]:
        with pytest.raises(ValueError, match=message):
            ExcludeRecent(**bad)
    with pytest.raises(ValueError, match="unknown event type 'search'"):
        rule_from_dict({"kind": "exclude_recent", "types": ["search"]})


def test_the_new_rules_round_trip_through_their_stored_json():
    rules = [ExcludeRecent(days=3, types=("view", "add_to_cart")), Pin("p5", 2, context=KITCHEN), Pin("p4", 1)]
    stored = json.loads(json.dumps([rule_to_dict(r) for r in rules]))
    assert stored == [{"kind": "exclude_recent", "days": 3, "types": ["view", "add_to_cart"]},
                      {"kind": "pin", "item_id": "p5", "position": 2, "context": KITCHEN},
                      {"kind": "pin", "item_id": "p4", "position": 1}]  # no context: the stored form is as before
    assert [rule_from_dict(d) for d in stored] == rules
    assert rule_from_dict({"kind": "exclude_recent"}) == ExcludeRecent()
