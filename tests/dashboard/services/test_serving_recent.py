"""Serving reads a shopper's recent views and clicks for the exclude-recent rule, and the page context for pins."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.models import Event, EventType, Product, Shopper
from dashboard.services import serving
from dashboard.services.fusion import FusionConfigError, parse_settings
from dashboard.services.preview import preview_compare, preview_for_shopper
from dashboard.services.serving import recent_item_ids
from tests.dashboard.fusion_data import build_bundle, mirror

BASE = {"weights": {"popularity": 0.3, "item_knn": 1.0, "ease": 1.0}, "normalization": "rank"}
KITCHEN = "category:Home > Kitchen"


@pytest.fixture(scope="module")
def bundle_folder(tmp_path_factory):
    return build_bundle(tmp_path_factory.mktemp("recent") / "bundle")


@pytest.fixture
def served(catalog, bundle_folder):
    serving.clear_cache()
    return mirror(catalog, bundle_folder)


def ids(catalog, rules, shopper="U000", k=20, context=""):
    out = preview_for_shopper(catalog=catalog, shopper_external_id=shopper, config={**BASE, "rules": rules}, k=k,
                              context=context)
    return [it["item_id"] for it in out["items"]]


def event(catalog, shopper: str, item: str, kind: str, days_ago: float) -> None:
    customer, _ = Shopper.objects.get_or_create(catalog=catalog, external_id=shopper)
    Event.objects.create(catalog=catalog, shopper=customer, type=kind, quantity=1,
                         product=Product.objects.get(catalog=catalog, external_id=item),
                         timestamp=timezone.now() - dt.timedelta(days=days_ago))


def recent(days: int, types: list[str] | None = None) -> list[dict]:
    return [{"kind": "exclude_recent", "days": days, **({"types": types} if types else {})}]


def test_a_view_two_days_ago_is_excluded_within_seven_days_but_not_within_one(catalog, served):
    top = ids(catalog, recent(7))
    viewed = top[0]
    event(catalog, "U000", viewed, EventType.VIEW, days_ago=2)
    assert viewed not in ids(catalog, recent(7))
    assert viewed in ids(catalog, recent(1))
    assert viewed in ids(catalog, [])  # only the rule drops it


def test_only_the_rules_event_types_count(catalog, served):
    top = ids(catalog, [])
    event(catalog, "U000", top[0], EventType.CLICK, days_ago=1)
    event(catalog, "U000", top[1], EventType.ADD_TO_CART, days_ago=1)
    default = ids(catalog, recent(7))
    assert top[0] not in default and top[1] in default
    assert top[1] not in ids(catalog, recent(7, ["add_to_cart"])) and top[0] in ids(catalog, recent(7, ["add_to_cart"]))


def test_a_new_shoppers_recent_views_are_excluded_from_the_fallback_too(catalog, served):
    popular = ids(catalog, recent(7), shopper="NEW1", k=5)
    event(catalog, "NEW1", popular[0], EventType.VIEW, days_ago=0.5)
    assert popular[0] not in ids(catalog, recent(7), shopper="NEW1", k=5)


def test_a_recently_seen_item_is_not_brought_back_by_a_pin(catalog, served):
    event(catalog, "U000", "P012", EventType.VIEW, days_ago=3)
    pin = {"kind": "pin", "item_id": "P012", "position": 1}
    assert ids(catalog, [pin])[0] == "P012"
    assert "P012" not in ids(catalog, [*recent(7), pin])


def test_all_exclude_recent_rules_are_read_in_one_query(catalog, served):
    event(catalog, "U000", "P001", EventType.VIEW, days_ago=2)
    event(catalog, "U000", "P002", EventType.ADD_TO_CART, days_ago=5)
    event(catalog, "U000", "P004", EventType.ADD_TO_CART, days_ago=9)
    settings = parse_settings({**BASE, "rules": [*recent(3), *recent(6, ["add_to_cart"])]})
    with CaptureQueriesContext(connection) as queries:
        got = recent_item_ids(catalog_id=catalog.pk, shopper_external_id="U000", rules=settings.rules)
    assert sorted(got) == ["P001", "P002"] and len(queries) == 1
    assert recent_item_ids(catalog_id=catalog.pk, shopper_external_id="U000", rules=parse_settings(BASE).rules) == []


def test_the_preview_with_a_context_places_the_pinned_product_and_without_it_does_not(catalog, served):
    top = ids(catalog, [])
    pinned = top[-1]  # in the list, far down
    pin = {"kind": "pin", "item_id": pinned, "position": 2, "context": KITCHEN}
    on_page = preview_for_shopper(catalog=catalog, shopper_external_id="U000", config={**BASE, "rules": [pin]},
                                  context="Category: home > kitchen")
    assert on_page["items"][1]["item_id"] == pinned and on_page["items"][1]["rules"] == [f"pinned at 2 for {KITCHEN}"]
    assert ids(catalog, [pin]) == top
    assert ids(catalog, [pin], context="category:Garden > Tools") == top
    assert ids(catalog, [pin], shopper=None, context=KITCHEN)[1] == pinned  # the new-shopper fallback too
    both = preview_compare(catalog=catalog, shopper_external_id="U000", saved={**BASE, "rules": []},
                           edited={**BASE, "rules": [pin]}, context=KITCHEN)
    assert both["edited"]["items"][1]["item_id"] == pinned and both["saved"]["items"][1]["item_id"] != pinned


def test_bad_new_rules_are_named_with_the_fix(catalog, served):
    for rules, message in [
        (recent(0), r"rule 1 \(exclude_recent\): days must be a whole number"),
        (recent(7, ["impression"]), "unknown event type 'impression'"),
        ([{"kind": "pin", "item_id": "P001", "position": 1, "context": KITCHEN},
          {"kind": "pin", "item_id": "P002", "position": 1, "context": "category:home>kitchen"}],
         "two pins share position 1 in context"),
        ([{"kind": "pin", "item_id": "P001", "position": 1, "context": "x" * 201}], "keep it to 200"),
    ]:
        with pytest.raises(FusionConfigError, match=message):
            parse_settings({**BASE, "rules": rules})
    pins = [{"kind": "pin", "item_id": "P001", "position": 1, "context": KITCHEN},
            {"kind": "pin", "item_id": "P002", "position": 1, "context": "category:Garden"}]
    assert len(parse_settings({**BASE, "rules": pins}).rules) == 2  # other pages: no clash
