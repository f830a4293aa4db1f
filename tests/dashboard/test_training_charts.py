"""Training charts are pure functions from plain data to Plotly figure JSON."""
from __future__ import annotations

from dashboard.charts import (
    ablation_figure,
    beyond_accuracy_figure,
    job_curve_figure,
    metrics_at_k_figure,
    signal_colour,
)
from dashboard.selectors.training import config_help, signal_forms

REPORT = {
    "ks": [5, 10],
    "metrics": {
        "all": {
            "ease": {"ndcg@5": 0.2, "ndcg@10": 0.25, "coverage@10": 0.4, "novelty@10": 3.0},
            "fused": {"ndcg@5": 0.3, "ndcg@10": 0.35, "coverage@10": 0.5, "novelty@10": 3.5},
            "fused-minus-ease": {"ndcg@5": 0.1, "ndcg@10": 0.15},
        },
        "cold_start": {"ease": {"ndcg@5": 0.0, "ndcg@10": 0.0}},
    },
    "ablation": {"fused": {"all": {"ease": -0.2, "popularity": 0.01}}},
}


def test_the_metrics_chart_has_one_bar_group_per_scorer_and_the_fused_one_last():
    fig = metrics_at_k_figure(REPORT)
    assert [t["name"] for t in fig["data"]] == ["ease", "fused"]
    assert fig["data"][1]["y"] == [0.3, 0.35] and fig["data"][1]["x"] == ["@5", "@10"]
    assert fig["layout"]["title"]["text"] == "NDCG@K per signal and fused"
    assert fig["layout"]["xaxis"]["title"]["text"] == "Cut-off K"


def test_the_cold_start_chart_reads_its_own_slice():
    fig = metrics_at_k_figure(REPORT, slice="cold_start")
    assert [t["name"] for t in fig["data"]] == ["ease"] and "Cold-start" in fig["layout"]["title"]["text"]


def test_the_ablation_chart_colours_helpful_signals_red():
    fig = ablation_figure(REPORT)
    assert fig["data"][0]["x"] == ["ease", "popularity"] and fig["data"][0]["y"] == [-0.2, 0.01]
    assert fig["data"][0]["marker"]["color"][0] == "#d6455d"


def test_beyond_accuracy_shows_only_the_measures_the_report_has():
    fig = beyond_accuracy_figure(REPORT)
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["coverage", "novelty"]


def test_the_job_curve_gives_metrics_and_each_signals_loss_their_own_axis():
    history = [{"t": 0.5, "phase": "mf", "done": 1, "total": 2, "loss": 0.9, "val_ndcg@10": 0.1, "items": 48_000},
               {"t": 1.0, "phase": "mf", "done": 2, "total": 2, "loss": 0.5, "samples_per_s": 10.0},
               {"t": 2.0, "phase": "text", "loss": 3.2}]
    fig = job_curve_figure(history)
    by_name = {t["name"]: t for t in fig["data"]}
    assert set(by_name) == {"mf val_ndcg@10", "mf loss", "text loss"}
    assert by_name["mf loss"]["y"] == [0.9, 0.5]
    axes = {by_name[n]["yaxis"] for n in by_name}
    assert len(axes) == 3, "metrics, mf loss and text loss each on their own axis"
    assert by_name["mf val_ndcg@10"]["yaxis"] == "y"
    assert fig["layout"]["showlegend"] is True


def test_every_multi_series_chart_has_a_legend_and_one_colour_per_signal():
    history = [{"t": 1.0, "phase": "mf", "loss": 0.5, "val_ndcg@10": 0.2}]
    figures = [metrics_at_k_figure(REPORT), metrics_at_k_figure(REPORT, slice="cold_start"),
               beyond_accuracy_figure(REPORT), job_curve_figure(history)]
    colour_of: dict[str, str] = {}
    for fig in figures:
        assert fig["layout"]["showlegend"] is True
        for trace in fig["data"]:
            signal = trace["name"].split(" ")[0]
            colour = trace.get("marker", {}).get("color") or trace.get("line", {}).get("color")
            assert colour, trace["name"]
            assert colour_of.setdefault(signal, colour) == colour, f"{signal} changes colour"
    assert signal_colour("ease") != signal_colour("mf") and signal_colour("fused-minus-text") == signal_colour("fused")
    assert signal_colour("brand_new_signal") == signal_colour("brand_new_signal")


def test_beyond_accuracy_puts_each_measure_on_its_own_axis():
    fig = beyond_accuracy_figure(REPORT)
    axes = {t["yaxis"] for t in fig["data"]}
    assert len(axes) == 2
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["coverage", "novelty"]


def test_an_empty_slice_says_why_instead_of_drawing_nothing():
    fig = metrics_at_k_figure({"ks": [10], "metrics": {}}, slice="cold_start")
    assert fig["data"] == [] and "Nothing to show" in fig["layout"]["annotations"][0]["text"]


def test_config_help_is_read_from_the_docstring_bullets():
    assert config_help("- ``factors``: embedding size d. ``loss``: ``\"ials\"`` or ``\"bpr\"``.\n"
                       "    - ``epochs``: passes.") == {
        "factors": "embedding size d.", "loss": '``"ials"`` or ``"bpr"``.', "epochs": "passes."}


def test_the_launch_form_lists_every_simple_setting_of_a_signal():
    (mf,) = signal_forms(names=("mf",))
    fields = {f.name: f for f in mf.fields}
    assert fields["epochs"].kind == "int" and fields["loss"].choices == ("ials", "bpr")
    assert fields["half_life_days"].optional and fields["mixed_precision"].kind == "bool"
    assert fields["factors"].help.startswith("embedding size")
