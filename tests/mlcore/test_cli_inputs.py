"""What ``python -m mlcore`` reads: Unix timestamps, event weights and unknown event types."""
import json

import pandas as pd
import pytest

from mlcore import cli
from mlcore.cli import load_dataset, main
from tests.mlcore.conftest import tiny_events, tiny_products

FAST = "popularity,item_knn"


def ratings_file(path, *, unit: str = "s"):
    """The tiny shop as MovieLens-style ratings: Unix timestamps and type ``rating``."""
    events = tiny_events()
    stamps = (events["timestamp"] - pd.Timestamp(0)) // pd.Timedelta(1, unit=unit)
    frame = pd.DataFrame({"user_id": events["user_id"], "item_id": events["item_id"], "rating": 4.0,
                          "timestamp": stamps, "type": "rating", "quantity": events["quantity"]})
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def products(tmp_path):
    path = tmp_path / "products.csv"
    tiny_products().to_csv(path, index=False)
    return path


def test_movielens_style_files_with_unix_seconds_evaluate_with_a_rating_weight(tmp_path, products):
    events, out = ratings_file(tmp_path / "ratings.csv"), tmp_path / "report.json"
    code = main(["evaluate", "--events", str(events), "--products", str(products), "--split", "random:0.8:0.1:0.1",
                 "--event-weights", "rating=1", "--signals", FAST, "--no-tune", "--quiet", "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["event_weights"]["rating"] == 1.0 and report["dataset"]["events"] == 26
    assert report["split"]["name"].startswith("random:0.8:0.1:0.1")


def test_an_unknown_event_type_names_its_row_and_the_fix_before_any_training(tmp_path, products, capsys,
                                                                             monkeypatch):
    monkeypatch.setattr(cli, "run", lambda *a, **k: pytest.fail("training started"))
    events = ratings_file(tmp_path / "ratings.csv")
    assert main(["evaluate", "--events", str(events), "--products", str(products), "--split", "leave-last-out",
                 "--signals", FAST, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "row 2, column “type” (type): 'rating' is not a known event type (view, click, add_to_cart, " in err
    assert "give it a weight with --event-weights rating=1" in err
    assert "(and 23 more bad rows)" in err


def test_unix_seconds_milliseconds_and_iso_files_give_the_same_events(tmp_path):
    iso = tmp_path / "iso.csv"
    tiny_events().assign(type="rating").to_csv(iso, index=False)
    weights = {"rating": 1.0}
    read = [load_dataset(path, None, event_weights=weights)[0].events
            for path in (iso, ratings_file(tmp_path / "s.csv"), ratings_file(tmp_path / "ms.csv", unit="ms"))]
    pd.testing.assert_frame_equal(read[0], read[1])
    pd.testing.assert_frame_equal(read[0], read[2])
    assert str(read[0]["timestamp"].iloc[0]) == "2024-01-01 09:00:00+00:00"


def test_event_weights_change_what_counts(tmp_path):
    path = tmp_path / "events.csv"
    tiny_events().to_csv(path, index=False)
    default, _ = load_dataset(path, None, clean=False)
    no_views, _ = load_dataset(path, None, clean=False, event_weights=cli.parse_weights("view=0,purchase=1"))
    u1, a3 = default.users.index(["u1"])[0], default.items.index(["a3"])[0]
    assert default.matrix()[u1, a3] == 8.0 + 1.0  # a purchase and a view
    assert no_views.matrix()[u1, a3] == 1.0
    assert no_views.fingerprint() != default.fingerprint()


def test_bad_event_weights_are_named():
    with pytest.raises(cli.UsageError, match=r"--event-weights: event weights: 'view' is not TYPE=WEIGHT"):
        cli.parse_weights("view")
    with pytest.raises(cli.UsageError, match=r"view=-1 must be a number of 0 or more"):
        cli.parse_weights("view=-1")


def test_a_job_over_the_memory_budget_is_refused_before_any_training(tmp_path, products, capsys, monkeypatch):
    monkeypatch.setattr(cli, "run", lambda *a, **k: pytest.fail("training started"))
    events = ratings_file(tmp_path / "ratings.csv")
    assert main(["evaluate", "--events", str(events), "--products", str(products), "--split", "random:0.8:0.1:0.1",
                 "--event-weights", "rating=1", "--signals", "popularity,ease", "--memory-budget-mb", "1",
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "TRAINING_MEMORY_BUDGET_MB" in err or "--memory-budget-mb" in err
