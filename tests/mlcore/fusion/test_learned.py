"""The learned fusion: it learns a known best order, its contributions add up, it falls back on too little
data, it is saved without pickle and served through Bundle.rank with the operator's rules after it."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mlcore.cli import result_json
from mlcore.data import temporal_split
from mlcore.evaluation.metrics import graded_ndcg
from mlcore.fusion import ExcludeBought, Pin
from mlcore.fusion.features import CONTEXT_FEATURES
from mlcore.fusion.learned import LearnedConfig, LearnedFusion, fit_ranker
from mlcore.serving.bundle import load_bundle
from mlcore.training.artifacts import write_bundle
from mlcore.training.runner import FUSED, WEIGHTED, RunConfig, SignalSpec, run
from tests.mlcore.conftest import tiny_dataset
from tests.mlcore.fusion.shop import shop

SIGNALS = ("popularity", "item_knn", "kg")


def ranking_data(groups: int, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Groups of ``size`` candidates over two signals: ``good``'s score is the truth (grade 0..3), ``noise`` is not."""
    n = groups * size
    x = np.zeros((n, 4 + len(CONTEXT_FEATURES)), dtype=np.float32)
    x[:, 0] = rng.normal(size=n)  # noise:score
    x[:, 1] = rng.random(n)  # noise:rank
    x[:, 2] = rng.normal(size=n)  # good:score
    x[:, 3] = rng.random(n)
    y = np.digitize(x[:, 2], [0.0, 0.8, 1.5]).astype(np.float32)
    return x, y, np.full(groups, size)


def test_the_ranker_learns_the_known_best_order_and_its_contributions_sum_to_the_score():
    rng = np.random.default_rng(0)
    train, stop, test = ranking_data(120, 20, rng), ranking_data(60, 20, rng), ranking_data(50, 20, rng)
    booster, info = fit_ranker(train, stop, ("noise", "good"), LearnedConfig(threads=1))
    model = LearnedFusion(booster, ("noise", "good"))
    pred = model.predict(test[0]).reshape(50, 20)
    # the learned order of every group is the true one: the best item first, NDCG close to 1
    truth = test[1].reshape(50, 20)
    assert (truth[np.arange(50), pred.argmax(axis=1)] == truth.max(axis=1)).mean() >= 0.9
    ndcgs = [graded_ndcg(t[np.argsort(-p)].tolist(), t.tolist(), 10) for p, t in zip(pred, truth, strict=True)]
    assert np.mean(ndcgs) > 0.95
    assert info["best_iteration"] >= 1 and info["stop_ndcg@10"] > 0.9
    parts = model.contributions(test[0][:30])
    assert [sum(p.values()) for p in parts] == pytest.approx(model.predict(test[0][:30]).tolist(), abs=1e-6)
    assert set(parts[0]) == {"noise", "good", "context", "base"}
    assert np.mean([abs(p["good"]) for p in parts]) > 5 * np.mean([abs(p["noise"]) for p in parts])


@pytest.fixture(scope="module")
def trained():
    data = shop()
    split = temporal_split(data, "2024-02-20", validation_days=10)
    return run(data, split, RunConfig(signals=tuple(SignalSpec(n) for n in SIGNALS), learned_ablation=("kg",),
                                      learned_config=LearnedConfig(threads=1)))


@pytest.fixture(scope="module")
def bundle(trained, tmp_path_factory):
    return load_bundle(write_bundle(tmp_path_factory.mktemp("learned") / "b", trained))


def test_the_job_trains_it_on_validation_and_the_report_has_it_as_fused_beside_weighted(trained):
    assert trained.learned is not None and trained.fusion.mode == "learned"
    assert set(trained.learned.routes) == {"all", "exclude_seen", "cold_start", "new_shoppers"}
    m = trained.report.metrics
    for slice_name in ("all", "exclude_seen", "new_shoppers"):
        assert {FUSED, WEIGHTED, "fused-minus-kg", "weighted-minus-kg"} <= set(m[slice_name])
    # a lambdarank model over the signals beats the best one of them on this shop
    best = max(m["all"][s]["ndcg@10"] for s in SIGNALS)
    assert m["all"][FUSED]["ndcg@10"] >= best
    payload = result_json(trained, {})
    assert payload["fused"]["all"] == m["all"][FUSED] and payload["weighted"]["all"] == m["all"][WEIGHTED]
    assert payload["learned_fusion"]["used"] and "trees" in payload["learned_fusion"]["note"]


def test_too_little_data_falls_back_to_the_weighted_fusion_and_says_so():
    data = tiny_dataset()
    result = run(data, temporal_split(data, "2024-01-15", validation_days=7),
                 RunConfig(signals=(SignalSpec("popularity"), SignalSpec("item_knn")), ablation=False))
    assert result.learned is None and result.fusion.mode == "weighted"
    assert "too little validation data" in result.learned_note
    m = result.report.metrics["all"]
    assert m[FUSED] == m[WEIGHTED]
    assert not result_json(result, {})["learned_fusion"]["used"]


def test_the_bundle_keeps_the_model_as_text_and_serves_it_with_contributions(bundle, tmp_path):
    files = {p.name for p in (bundle.folder / "fusion").iterdir()}
    assert files == {"learned_model.txt", "learned.json", "learned_context.npz"}
    assert (bundle.folder / "fusion" / "learned_model.txt").read_text().startswith("tree")
    assert bundle.fusion.mode == "learned" and bundle.learned is not None
    recs = bundle.recommend("u1", k=5)
    assert len(recs) == 5
    for e in recs:
        assert {c.signal for c in e.contributions} == {*SIGNALS, "context", "base"}
        assert e.score == pytest.approx(sum(c.value for c in e.contributions), abs=1e-6)
        assert e.extra["fusion"] == "learned"
    assert [e.score for e in recs] == sorted((e.score for e in recs), reverse=True)
    weighted = bundle.recommend("u1", k=5, fusion=dataclasses.replace(bundle.fusion, mode="weighted"))
    assert {c.signal for c in weighted[0].contributions} == set(SIGNALS) and "fusion" not in weighted[0].extra


def test_operator_rules_apply_after_the_learned_fusion(bundle):
    u = bundle.user_index("u1")
    owned = {bundle.items.ids[i] for i in bundle.seen[u].indices}
    plain = [e.extra["item_id"] for e in bundle.recommend("u1", k=8)]
    assert owned & set(plain)  # the learned list re-recommends bought items without the rule
    ruled = bundle.recommend("u1", k=8, rules=[ExcludeBought(), Pin("c3i9", 1)])
    got = [e.extra["item_id"] for e in ruled]
    assert got[0] == "c3i9" and "pinned" in " ".join(ruled[0].rules)
    assert not owned & set(got)


def test_the_learned_fusion_beats_weighted_on_the_held_out_users_it_was_not_trained_on(trained):
    table = trained.learned.info["routes_ndcg@10"]["all"]
    assert table["learned"] >= table["weighted"]
