"""Normalisation per user row, weighted fusion and explanations."""
import numpy as np
import pytest

from mlcore.fusion import FusionConfig, explain, fuse, normalize

SCORES = np.array([[1.0, 2.0, 4.0], [10.0, 10.0, 10.0]], dtype=np.float32)


def test_rank_normalisation_maps_each_row_to_zero_one():
    assert normalize(SCORES, "rank").tolist() == [[0.0, 0.5, 1.0], [0.0, 0.0, 0.0]]


def test_zscore_and_minmax_leave_flat_rows_at_zero():
    z = normalize(SCORES, "zscore")
    assert z[0].mean() == pytest.approx(0.0, abs=1e-6) and z[0].std() == pytest.approx(1.0, abs=1e-5)
    assert z[1].tolist() == [0.0, 0.0, 0.0]
    assert normalize(SCORES, "minmax")[0].tolist() == pytest.approx([0.0, 1 / 3, 1.0])


def test_excluded_items_stay_excluded_and_do_not_move_the_statistics():
    s = np.array([[1.0, -np.inf, 3.0]], dtype=np.float32)
    for method in ("rank", "zscore", "minmax"):
        out = normalize(s, method)
        assert out[0, 1] == -np.inf
        assert out[0, 2] > out[0, 0]


def test_an_unknown_normalisation_is_refused():
    with pytest.raises(ValueError, match="unknown normalisation 'softmax'"):
        normalize(SCORES, "softmax")


def test_fuse_is_the_weighted_sum_of_normalised_scores():
    a = np.array([[0.0, 1.0, 2.0]], dtype=np.float32)
    b = np.array([[5.0, 3.0, 1.0]], dtype=np.float32)
    fused = fuse({"a": a, "b": b}, {"a": 2.0, "b": 1.0}, "rank")
    assert fused[0].tolist() == pytest.approx([1.0, 1.5, 2.0])


def test_fuse_skips_zero_weights_and_names_missing_signals():
    a = np.ones((1, 3), dtype=np.float32)
    assert fuse({"a": a}, {"a": 1.0, "ghost": 0.0}).shape == (1, 3)
    with pytest.raises(KeyError, match="ghost"):
        fuse({"a": a}, {"a": 1.0, "ghost": 0.5})


def test_fusion_config_round_trips_and_rejects_bad_weights():
    config = FusionConfig({"ease": 1, "text": "0.5"}, normalization="zscore")  # type: ignore[dict-item]
    assert FusionConfig.from_dict(config.to_dict()) == config
    assert config.weights["text"] == 0.5
    with pytest.raises(ValueError, match="weight for signal 'kg'"):
        FusionConfig({"kg": "lots"})  # type: ignore[dict-item]


class GraphStub:
    def explain(self, user, item):
        return ["you bought Blue mug", "same brand Acme", f"item {item}"]


def test_explanations_add_up_to_the_fused_score_and_carry_the_graph_path():
    rows = {"cf": np.array([0.0, 1.0, 2.0]), "kg": np.array([2.0, 1.0, 0.0])}
    weights = {"cf": 1.0, "kg": 0.5}
    fused = fuse({k: v[None, :] for k, v in rows.items()}, weights)[0]
    explanations = explain(rows, weights, np.array([2, 0]), user=0, explainers={"kg": GraphStub()})
    assert [e.item for e in explanations] == [2, 0]
    for e in explanations:
        assert e.score == pytest.approx(fused[e.item])
        assert sum(c.value for c in e.contributions) == pytest.approx(e.score)
    assert explanations[0].path == "you bought Blue mug → same brand Acme → item 2"
    assert explanations[0].to_dict()["contributions"][1] == {"signal": "kg", "normalized": 0.0, "weight": 0.5, "value": 0.0}
