"""The job budget: signals' costs add up, and a job over budget is refused naming the signal and the fix."""
from __future__ import annotations

import pytest

from mlcore.recommenders.cost import MB, Workload
from mlcore.recommenders.ease import EASEConfig
from mlcore.training.budget import (
    OverBudget,
    check_dataset,
    check_job,
    estimate_job,
    scoring_batch_users,
    tuning_users,
)
from mlcore.training.runner import SignalSpec

SMALL = Workload(n_users=2_000, n_items=1_000, n_interactions=50_000)
LARGE = Workload(n_users=100_000, n_items=60_000, n_interactions=5_000_000)


def test_a_small_job_fits_and_lists_every_signal():
    estimate = check_job([("popularity", None), ("item_knn", None), ("ease", None)], SMALL, budget_bytes=4096 * MB)
    assert estimate.fits and set(estimate.signals) == {"popularity", "item_knn", "ease"}
    assert "ease" in estimate.table() and "job" in estimate.table()


def test_a_job_over_budget_is_refused_naming_the_signal_to_drop_and_the_setting():
    dense_ease = EASEConfig(max_dense_items=100_000)  # 60k items dense: 14 GB for B alone
    with pytest.raises(OverBudget) as refused:
        check_job([("popularity", None), ("ease", dense_ease)], LARGE, budget_bytes=8192 * MB)
    message = str(refused.value)
    assert "'ease'" in message and "drop 'ease' (the rest fits)" in message
    assert "max_dense_items" in message and "TRAINING_MEMORY_BUDGET_MB" in message


def test_ease_costs_grow_as_n_squared_dense_and_linearly_sparse():
    def ease_bytes(n_items: int) -> int:
        w = Workload(n_users=10 * n_items, n_items=n_items, n_interactions=50 * n_items)
        return estimate_job([("ease", None)], w, budget_bytes=1).signals["ease"].peak_bytes

    assert ease_bytes(20_000) / ease_bytes(10_000) > 3  # dense up to max_dense_items
    assert ease_bytes(200_000) / ease_bytes(100_000) < 2.5  # sparse above it


def test_large_catalogues_score_fewer_users_at_once():
    assert scoring_batch_users(1_000, 5, 1024) == 1024
    assert scoring_batch_users(100_000, 7, 1024, score_mb=1500) < 200
    assert tuning_users(100_000, 7, 3000, score_mb=1500) < 3000


def test_a_loaded_dataset_is_checked_with_its_measured_item_pairs(tiny):
    estimate = check_dataset([SignalSpec.parse("ease"), SignalSpec.parse("item_knn")], tiny, budget_mb=4096)
    assert estimate.fits and set(estimate.signals) == {"ease", "item_knn"}
    with pytest.raises(OverBudget, match="drop 'ease'"):
        check_dataset([SignalSpec.parse("ease")], tiny, budget_mb=1)
