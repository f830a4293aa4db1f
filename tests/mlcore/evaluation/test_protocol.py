"""The evaluation protocol on the tiny shop, with hand-made score matrices."""
import json

import numpy as np
import pandas as pd
import pytest

from mlcore.data import Split, temporal_split
from mlcore.evaluation import EvalConfig, evaluate
from mlcore.fusion import FusionConfig
from tests.mlcore.conftest import tiny_dataset


@pytest.fixture
def split():
    # train: weeks 1-2; test: from 2024-01-15 (third purchases and u1's re-buy of a1)
    return temporal_split(tiny_dataset(), "2024-01-15", validation_days=0)


def oracle(split):
    """Scores that put every test item first: a perfect recommender."""
    truth = split.test_items().toarray()
    return truth + 0.01 * np.arange(split.n_items)[::-1]


def test_a_perfect_scorer_gets_full_marks_and_a_constant_one_gets_none(split):
    constant = np.zeros((split.n_users, split.n_items), dtype=np.float32)
    report = evaluate({"oracle": oracle(split), "constant": constant}, split, EvalConfig(ks=(1, 5)))
    assert report.get("oracle", "ndcg@5") == pytest.approx(1.0)
    assert report.get("oracle", "recall@5") == pytest.approx(1.0)
    assert report.users["all"] == 8
    # constant scores rank by column: a1 first, which only u1 re-buys
    assert report.get("constant", "hit_rate@1") == pytest.approx(1 / 8)


def test_exclude_seen_drops_rebuys_from_truth_and_ranking(split):
    scores = np.zeros((split.n_users, split.n_items), dtype=np.float32)
    a1 = split.train.items.index_of("a1")
    scores[:, a1] = 10.0  # everybody is told to buy a1, then b5 (which nobody buys)
    scores[:, split.train.items.index_of("b5")] = 5.0
    report = evaluate({"a1": scores}, split, EvalConfig(ks=(1,), slices=("all", "exclude_seen")))
    assert report.get("a1", "hit_rate@1", "all") == pytest.approx(1 / 8)  # u1's re-buy
    # u1 bought a1 in train: the re-buy leaves the truth, so u1 only has nothing left → dropped
    assert report.users["exclude_seen"] == 7
    assert report.get("a1", "hit_rate@1", "exclude_seen") == 0.0


def test_cold_start_slice_ranks_only_items_without_training_interactions():
    data = tiny_dataset()
    extra = pd.DataFrame(
        [("u1", "a5", pd.Timestamp("2024-01-16 12:00"), "purchase", 1)],
        columns=["user_id", "item_id", "timestamp", "type", "quantity"],
    )
    data = data.with_events(pd.concat([data.events, extra]).sort_values("timestamp"))
    split = temporal_split(data, "2024-01-15", validation_days=0)
    a5, b5 = data.items.index_of("a5"), data.items.index_of("b5")
    text_like = np.zeros((split.n_users, split.n_items), dtype=np.float32)
    text_like[:, a5] = 1.0
    text_like[:, b5] = 0.5
    cf_like = np.ones((split.n_users, split.n_items), dtype=np.float32)
    cf_like[:, [a5, b5]] = 0.0  # CF knows nothing of cold items
    report = evaluate({"text": text_like, "cf": cf_like}, split, EvalConfig(ks=(1,)))
    assert report.users["cold_start"] == 1
    assert report.get("text", "recall@1", "cold_start") == 1.0
    assert report.get("cf", "recall@1", "cold_start") == 0.0


def test_fusions_and_ablations_are_reported_and_json_ready(split):
    good, noise = oracle(split), np.random.default_rng(0).random((split.n_users, split.n_items))
    fusion = FusionConfig({"good": 1.0, "noise": 0.2})
    report = evaluate({"good": good, "noise": noise}, split, fusions={"fused": fusion})
    assert "fused-minus-noise" in report.metrics["all"]
    ablation = report.ablation("fused")["all"]
    assert ablation["good"] < 0  # leaving out the informative signal hurts
    payload = json.loads(json.dumps(report.to_dict()))
    assert payload["fusions"]["fused"]["weights"] == {"good": 1.0, "noise": 0.2}
    assert set(payload["metrics"]) == {"all", "exclude_seen", "cold_start", "new_shoppers"}


def test_callables_are_scored_in_batches(split):
    calls = []

    def scorer(users):
        calls.append(len(users))
        return oracle(split)[users]

    report = evaluate({"f": scorer}, split, EvalConfig(batch_users=3))
    assert max(calls) <= 3 and sum(calls) == 8
    assert report.get("f", "ndcg@10") == pytest.approx(1.0)
    assert report.timings["f"] >= 0


def test_a_scorer_with_the_wrong_shape_is_named(split):
    with pytest.raises(ValueError, match="scorer 'bad' returned shape"):
        evaluate({"bad": np.zeros((split.n_users, 3))}, split)


def test_overlapping_splits_are_refused(split):
    leaky = Split(train=split.train.with_events(pd.concat([split.train.events, split.test.events])),
                  validation=split.validation, test=split.test, name="leaky")
    with pytest.raises(ValueError, match="overlapping split: .* test events are also in train"):
        evaluate({"o": oracle(split)}, leaky)


def test_the_cold_slice_reports_its_chance_level(split):
    report = evaluate({"o": oracle(split)}, split)
    # a5 and b5 were never bought: two candidates, so a random top-20 finds everything
    assert report.cold_candidates == 2 and report.cold_chance_recall(20) == 1.0


def test_the_new_shoppers_slice_holds_only_shoppers_with_short_histories(split):
    from mlcore.fusion.features import NEW_SHOPPER_ITEMS

    report = evaluate({"good": oracle(split)}, split)
    history = np.diff(split.train.matrix(binary=True).indptr)
    expected = [u for u in split.test_users() if history[u] <= NEW_SHOPPER_ITEMS]
    assert report.users["new_shoppers"] == len(expected)
    if expected:
        assert report.get("good", "recall@10", "new_shoppers") == 1.0
