"""Event types and their weights: one table of defaults, overrides checked, unknown types named."""
import pytest

from mlcore.data import DEFAULT_EVENT_WEIGHTS, Dataset, UnknownEventType, event_weights, parse_event_weights
from mlcore.data.events import format_event_weights
from tests.mlcore.conftest import tiny_events


def test_overrides_change_or_add_types_over_the_defaults():
    weights = event_weights(parse_event_weights("Rating=1, view=0.5,add-to-cart=3"))
    assert weights == {**DEFAULT_EVENT_WEIGHTS, "rating": 1.0, "view": 0.5, "add_to_cart": 3.0}
    assert parse_event_weights(format_event_weights({"rating": 1.0, "view": 0.25})) == {"rating": 1.0, "view": 0.25}


@pytest.mark.parametrize(("text", "problem"), [("view", "not TYPE=WEIGHT"), ("view=lots", "is not a number"),
                                                ("view=-2", "0 or more"), ("=1", "not TYPE=WEIGHT")])
def test_a_bad_weight_is_named(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_event_weights(text)


def test_a_dataset_refuses_an_event_type_without_a_weight_and_says_how_to_give_one():
    events = tiny_events().assign(type="rating")
    with pytest.raises(UnknownEventType, match=r"'rating' is not a known event type \(view, click, .*"
                                               r"give it a weight with event_weights rating=1"):
        Dataset.from_frames(events)
    data = Dataset.from_frames(events, event_weights=event_weights({"rating": 2}))
    assert data.matrix().sum() == 2.0 * len(events)
    assert data.with_events(data.events.head(3)).event_weights["rating"] == 2.0
