import numpy as np
import pandas as pd
import pytest

from mlcore.data import Dataset, SplitSpec, leave_last_out, random_split, temporal_split
from tests.mlcore.conftest import tiny_dataset, tiny_events, tiny_products


def event_keys(data):
    return set(map(tuple, data.events[["user_id", "item_id", "timestamp"]].astype(str).to_numpy()))


def assert_partition(split, data):
    parts = [event_keys(split.train), event_keys(split.validation), event_keys(split.test)]
    assert sum(len(p) for p in parts) == len(data.events)
    assert set().union(*parts) == event_keys(data)
    for part in (split.validation, split.test):
        assert part.users is data.users and part.items is data.items


def test_temporal_split_cuts_by_time_with_a_validation_window(tiny):
    split = temporal_split(tiny, "2024-01-15", validation_days=7)
    assert_partition(split, tiny)
    assert split.train.events["timestamp"].max() < pd.Timestamp("2024-01-08")
    assert split.validation.events["timestamp"].between("2024-01-08", "2024-01-15", inclusive="left").all()
    assert split.test.events["timestamp"].min() >= pd.Timestamp("2024-01-15")
    assert split.name == "temporal:2024-01-15"


def test_temporal_split_refuses_a_cut_outside_the_data(tiny):
    with pytest.raises(ValueError, match="leaves test empty; events span 2024-01-01"):
        temporal_split(tiny, "2030-01-01")


def test_test_items_are_a_binary_user_by_item_matrix(tiny):
    split = temporal_split(tiny, "2024-01-15", validation_days=0)
    m = split.test_items()
    assert m.shape == (8, 10) and m.dtype == np.float32
    u1 = tiny.users.index_of("u1")
    assert sorted(tiny.items.ids[i] for i in m[u1].indices) == ["a1", "a3"]  # a3 in week 3, a1 re-bought
    assert set(np.unique(m.data)) == {1.0}
    assert split.test_users().tolist() == list(range(8))


def test_cold_items_are_those_without_training_interactions():
    events = tiny_events()
    late = pd.DataFrame([("u2", "a5", pd.Timestamp("2024-01-16"), "purchase", 1)], columns=events.columns)
    data = Dataset.from_frames(pd.concat([events, late]), tiny_products())
    split = temporal_split(data, "2024-01-15", validation_days=0)
    cold = {data.items.ids[i] for i in split.cold_items()}
    assert cold == {"a5", "b5"}
    assert {data.items.ids[i] for i in split.warm_items()} == set(data.items.ids) - cold
    assert data.items.index_of("a5") in split.test_items().indices


def test_cold_users_have_no_training_interactions():
    events = tiny_events()
    newcomer = pd.DataFrame([("u9", "a1", pd.Timestamp("2024-01-16"), "purchase", 1)], columns=events.columns)
    data = Dataset.from_frames(pd.concat([events, newcomer]), tiny_products())
    split = temporal_split(data, "2024-01-15", validation_days=0)
    u9 = data.users.index_of("u9")
    assert split.cold_users().tolist() == [u9]
    assert u9 not in split.warm_users() and len(split.warm_users()) == 8


def test_leave_last_out_holds_out_each_users_latest_events(tiny):
    split = leave_last_out(tiny, n=1, validation_n=1)
    assert_partition(split, tiny)
    test = split.test.events.set_index("user_id")
    assert test.loc["u1", "item_id"] == "a1"  # the re-buy on 2024-01-20
    assert test.loc["u2", "item_id"] == "a2"
    assert split.validation.events.set_index("user_id").loc["u2", "item_id"] == "a1"
    assert len(split.test.events) == 8 and len(split.validation.events) == 8


def test_leave_last_out_keeps_short_histories_in_train(tiny):
    split = leave_last_out(tiny, n=2, validation_n=1)
    assert set(split.test.events["user_id"]) == {"u1"}  # the only user with more than 3 events


def test_random_split_is_seeded_and_per_user():
    data = Dataset.from_frames(
        pd.DataFrame({
            "user_id": np.repeat(["x", "y"], 20),
            "item_id": [f"i{i}" for i in range(40)],
            "timestamp": pd.date_range("2024-01-01", periods=40, freq="h"),
        })
    )
    first, again, other = (random_split(data, 0.8, 0.1, 0.1, seed=s) for s in (3, 3, 4))
    assert_partition(first, data)
    assert event_keys(first.test) == event_keys(again.test)
    assert event_keys(first.test) != event_keys(other.test)
    assert first.test.events["user_id"].value_counts().to_dict() == {"x": 2, "y": 2}
    assert first.validation.events["user_id"].value_counts().to_dict() == {"x": 2, "y": 2}


def test_random_split_keeps_a_training_event_for_every_user():
    split = random_split(tiny_dataset(), 0.0, 0.5, 0.5, seed=0)
    assert set(split.train.events["user_id"]) == {f"u{i}" for i in range(1, 9)}


def test_random_split_rejects_fractions_that_do_not_sum_to_one(tiny):
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(tiny, 0.8, 0.1, 0.2)


def test_train_and_validation_joins_the_first_two_parts(tiny):
    split = temporal_split(tiny, "2024-01-15", validation_days=7)
    joined = split.train_and_validation()
    assert len(joined.events) == len(split.train.events) + len(split.validation.events)
    assert joined.items is tiny.items


@pytest.mark.parametrize("text", ["temporal:2011-10-01", "temporal:2011-10-01:14d", "temporal:2011-10-01T12:30:00",
                                  "temporal:last-30d", "temporal:last-7.5d:0d", "leave-last-out", "leave-last-out:2",
                                  "leave-last-out:2:0", "random:0.8:0.1:0.1", "random:0.7:0.15:0.15:3"])
def test_a_split_spec_round_trips_through_its_text_and_its_job_dict(text):
    spec = SplitSpec.parse(text)
    assert str(spec) == text
    assert SplitSpec.parse(str(spec)) == spec
    assert SplitSpec.from_dict(spec.to_dict()) == spec


def test_a_split_spec_fills_in_defaults_and_reads_the_dicts_jobs_stored():
    assert str(SplitSpec.parse("random")) == "random:0.8:0.1:0.1"
    assert SplitSpec.parse("random", seed=4).seed == 4 and SplitSpec.parse("random:0.8:0.1:0.1:2", seed=4).seed == 2
    assert SplitSpec.parse("temporal:2011-10-01", validation_days=7).validation_days == 7
    stored = {"kind": "temporal", "test_days": 20, "validation_days": 15}
    assert SplitSpec.from_dict(stored) == SplitSpec.parse("temporal:last-20d:15d")
    assert SplitSpec.from_dict(stored).to_dict() == {"kind": "temporal", "test_days": 20.0, "validation_days": 15.0}
    assert SplitSpec.from_dict({"kind": "leave_last_out"}) == SplitSpec.parse("leave-last-out")


@pytest.mark.parametrize(("text", "problem"), [
    ("weekly", "not understood; use temporal:2011-10-01"),
    ("random:0.5:0.6:0.1", "must sum to 1"),
    ("temporal:someday", "'someday' is not a date"),
    ("leave-last-out:0", "n 0 must be at least 1"),
])
def test_a_bad_split_spec_is_named_with_the_forms_understood(text, problem):
    with pytest.raises(ValueError, match=problem):
        SplitSpec.parse(text)


def test_a_split_spec_makes_the_split_its_function_makes(tiny):
    made = SplitSpec.parse("temporal:2024-01-15:7d").make(tiny)
    direct = temporal_split(tiny, "2024-01-15", validation_days=7)
    assert made.name == direct.name and made.describe() == direct.describe()
    last = SplitSpec.parse("leave-last-out").make(tiny)
    assert last.describe() == leave_last_out(tiny).describe()
