import pandas as pd

from mlcore.data import CleaningConfig, Dataset, clean_dataset, clean_events
from mlcore.data.cleaning import drop_returns, non_product_mask


def frame(rows):
    return pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "type", "quantity"])


def t(day):
    return pd.Timestamp("2011-01-01") + pd.Timedelta(days=day)


def test_it_drops_rows_without_a_user():
    raw = frame([("1", "10001", t(0), "purchase", 1), (None, "10001", t(0), "purchase", 1),
                 ("", "10002", t(1), "purchase", 1), ("nan", "10003", t(1), "purchase", 1)])
    events, report = clean_events(raw)
    assert events["user_id"].tolist() == ["1"]
    assert report.missing_users == 3


def test_it_drops_online_retail_non_product_codes():
    codes = ["POST", "D", "M", "DOT", "BANK CHARGES", "C2", "PADS", "AMAZONFEE", "CRUK", "S", "B", "gift_0001_10"]
    raw = frame([("1", c, t(0), "purchase", 1) for c in codes] + [("1", "85123A", t(0), "purchase", 1)])
    events, report = clean_events(raw)
    assert events["item_id"].tolist() == ["85123A"]
    assert report.non_product_codes == len(codes)


def test_it_detects_codes_without_digits_only_where_most_codes_have_digits():
    numeric = pd.Series([str(10000 + i) for i in range(20)] + ["NEWFEE"])
    assert non_product_mask(numeric).tolist() == [False] * 20 + [True]
    slugs = pd.Series(["shoe", "sock", "hat1"])
    assert not non_product_mask(slugs).any()
    assert non_product_mask(slugs, CleaningConfig(codes_without_digits="always")).tolist() == [True, True, False]


def test_it_drops_exact_duplicates_but_keeps_distinct_repeats():
    raw = frame([("1", "10001", t(0), "purchase", 1), ("1", "10001", t(0), "purchase", 1),
                 ("1", "10001", t(3), "purchase", 1)])
    events, report = clean_events(raw)
    assert len(events) == 2 and report.duplicates == 1


def test_a_return_cancels_the_latest_matching_purchase():
    raw = frame([("1", "10001", t(0), "purchase", 2), ("1", "10001", t(5), "purchase", 3),
                 ("1", "10001", t(6), "purchase", 1), ("2", "10001", t(1), "purchase", 4),
                 ("1", "10001", t(7), "purchase", -4)])
    events, report = clean_events(raw)
    # -4 units: the purchase of 1 (day 6) and 3 of day 5 go; day 0 and user 2 stay.
    assert list(zip(events["user_id"], events["timestamp"], events["quantity"], strict=True)) == [
        ("1", t(0), 2), ("2", t(1), 4)]
    assert report.returns == 1 and report.cancelled_purchases == 2


def test_a_partial_return_reduces_the_purchase_quantity():
    raw = frame([("1", "10001", t(0), "purchase", 5), ("1", "10001", t(1), "return", 2)])
    events, cancelled = drop_returns(raw)
    assert events["quantity"].tolist() == [3] and cancelled == 0


def test_a_return_never_cancels_a_later_purchase():
    raw = frame([("1", "10001", t(1), "return", 1), ("1", "10001", t(2), "purchase", 1)])
    events, _ = clean_events(raw)
    assert events["timestamp"].tolist() == [t(2)]


def test_returns_can_be_dropped_without_touching_purchases():
    raw = frame([("1", "10001", t(0), "purchase", 1), ("1", "10001", t(1), "purchase", -1)])
    events, report = clean_events(raw, CleaningConfig(cancel_matching_purchases=False))
    assert len(events) == 1 and report.cancelled_purchases == 0


def test_the_report_adds_up():
    raw = frame([("1", "10001", t(0), "purchase", 1), ("1", "10001", t(0), "purchase", 1),
                 (None, "10002", t(0), "purchase", 1), ("1", "POST", t(0), "purchase", 1),
                 ("1", "10003", t(0), "purchase", 0), ("1", "10001", t(1), "purchase", -1)])
    events, r = clean_events(raw)
    dropped = r.missing_users + r.non_product_codes + r.duplicates + r.returns + r.cancelled_purchases + r.zero_quantity
    assert r.rows_in - dropped == r.rows_out == len(events) == 0


def test_cleaning_a_dataset_keeps_every_product():
    raw = frame([("1", "10001", t(0), "purchase", 1), ("2", "10002", t(0), "purchase", 1),
                 ("2", "10002", t(1), "purchase", -1)])
    products = pd.DataFrame({"item_id": ["10001", "10002", "10003"], "title": ["x", "y", "z"]})
    data, report = clean_dataset(Dataset.from_frames(raw, products))
    assert data.items.ids == ["10001", "10002", "10003"]
    assert data.users.ids == ["1"] and report.rows_out == 1
