"""The runner trains, tunes and evaluates; bundles are written whole or not at all."""
import json

import numpy as np
import pytest

from mlcore.data import temporal_split
from mlcore.fusion import Boost, FusionConfig, Pin, fuse
from mlcore.runtime import Callback, Cancelled
from mlcore.serving.bundle import load_bundle
from mlcore.training.artifacts import write_bundle
from mlcore.training.runner import RunConfig, SignalSpec, run
from tests.mlcore.conftest import tiny_dataset

FAST = tuple(SignalSpec(n) for n in ("popularity", "item_knn", "ease"))


@pytest.fixture(scope="module")
def result():
    data = tiny_dataset()
    split = temporal_split(data, "2024-01-15", validation_days=7)
    return run(data, split, RunConfig(signals=FAST))


class Recorder(Callback):
    def __init__(self, stop_after=None):
        self.phases, self.stop_after = [], stop_after

    def progress(self, *, phase, done, total, metrics=None):
        self.phases.append(phase)

    def should_stop(self):
        return self.stop_after is not None and len(self.phases) >= self.stop_after


def test_a_run_tunes_on_validation_and_reports_every_signal_and_the_fusion(result):
    assert set(result.fusion.weights) == {"popularity", "item_knn", "ease"}
    assert result.tuning is not None and result.tuning.metric >= result.tuning.baseline
    assert {"popularity", "item_knn", "ease", "fused"} <= set(result.report.metrics["all"])
    # the final models saw train + validation, so the test window's "seen" includes validation
    assert len(result.fitted_on.events) == 17
    assert result.timings["total"] > 0


def test_progress_has_a_phase_per_step_and_cancellation_stops_the_run():
    data = tiny_dataset()
    split = temporal_split(data, "2024-01-15", validation_days=7)
    recorder = Recorder()
    run(data, split, RunConfig(signals=FAST), callback=recorder)
    assert {"fit:validation", "fit:final", "fit:final:ease", "evaluate"} <= set(recorder.phases)
    with pytest.raises(Cancelled):
        run(data, split, RunConfig(signals=FAST), callback=Recorder(stop_after=2))


def test_given_weights_skip_tuning():
    data = tiny_dataset()
    split = temporal_split(data, "2024-01-15", validation_days=7)
    out = run(data, split, RunConfig(signals=FAST, weights={"ease": 1.0}))
    assert out.tuning is None and dict(out.fusion.weights) == {"popularity": 0.0, "item_knn": 0.0, "ease": 1.0}


def test_a_bad_signal_setting_is_named():
    with pytest.raises(ValueError, match="signal 'ease'"):
        SignalSpec.parse("ease", {"no_such_field": 1})


def test_bundle_round_trip_ranks_with_explanations_and_rules(result, tmp_path):
    folder = write_bundle(tmp_path / "b", result)
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["data_fingerprint"] == result.fitted_on.fingerprint()
    assert set(meta["signals"]) == {"popularity", "item_knn", "ease"}
    assert json.loads((folder / "fusion.json").read_text())["normalization"] == "rank"
    bundle = load_bundle(folder)
    users = np.arange(3)
    expected = fuse({n: m.score(users) for n, m in result.models.items()}, result.fusion.weights, "rank")
    assert np.allclose(bundle.score(users), expected)
    recs = bundle.recommend("u1", k=4, rules=[Pin("b5", 1), Boost("brand", "Acme", 2.0)])
    assert recs[0].extra["item_id"] == "b5" and recs[0].rules == ("pinned at 1",)
    ordinary = [r for r in recs if not r.rules or "pinned" not in r.rules[0]]
    for r in ordinary:
        assert sum(c.value for c in r.contributions) == pytest.approx(r.score, abs=1e-5)
    preview = bundle.recommend("u1", k=3, fusion=FusionConfig({"popularity": 1.0}))
    assert [c.signal for c in preview[0].contributions] == ["popularity"]
    with pytest.raises(KeyError, match="nobody"):
        bundle.recommend("nobody")


def test_a_crash_while_writing_leaves_no_partial_bundle(result, tmp_path, monkeypatch):
    model = result.models["ease"]

    def broken_save(folder):
        raise OSError("disk full")

    monkeypatch.setattr(model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        write_bundle(tmp_path / "b", result)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_bundle_is_never_overwritten(result, tmp_path):
    write_bundle(tmp_path / "b", result)
    with pytest.raises(FileExistsError):
        write_bundle(tmp_path / "b", result)


def test_the_graph_signal_explains_recommendations_with_a_path(tmp_path):
    data = tiny_dataset()
    split = temporal_split(data, "2024-01-15", validation_days=7)
    out = run(data, split, RunConfig(signals=(SignalSpec("kg"), SignalSpec("popularity")), weights={"kg": 1.0}))
    bundle = load_bundle(write_bundle(tmp_path / "kg", out))
    recs = bundle.recommend("u2", k=3, exclude_seen=True)
    assert any(r.path for r in recs)
    assert any("graph_path" in r.to_dict() for r in recs)


def test_auto_normalisation_keeps_the_best_method_on_validation():
    data = tiny_dataset()
    split = temporal_split(data, "2024-01-15", validation_days=7)
    out = run(data, split, RunConfig(signals=FAST, normalization="auto"))
    assert out.tuning is not None
    assert out.fusion.normalization == out.tuning.normalization
    assert {"tune:rank", "tune:zscore", "tune:minmax"} <= set(out.timings)
