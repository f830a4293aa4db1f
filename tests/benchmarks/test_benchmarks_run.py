"""Every benchmark script starts from a fresh clone: ``--help`` answers, and the smallest modes run."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
HELPERS = {"bench_db.py", "ep_files.py", "api_locustfile.py", "api_server.py"}  # imported by the scripts, not run on their own
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py") if p.name not in HELPERS)
SMOKE = [("scale.py", ["--smoke"]), ("preview_latency.py", ["--smoke"]), ("realtime.py", ["--smoke"]),
         ("ab_simulation.py", ["--smoke"]), ("sequential.py", ["--smoke", "--datasets", "movielens"])]


def test_the_image_benchmark_smoke_mode_says_its_catalog_is_synthetic_and_prints_the_cold_start_line(tmp_path):
    result = run("image_embedding.py", "--smoke", timeout=300, var=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "synthetic" in result.stdout
    assert re.search(r"^image: [\d,]+ images/s on cpu; cold-start recall@10 image [\d.]+ vs popularity", result.stdout, re.M)


def run(script: str, *args: str, timeout: float, var: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The script as a newcomer runs it: no DATABASE_URL (the suite's names a database pytest has not made;
    a benchmark sets up its own), its files under ``var`` when given."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    if var is not None:
        env["VAR_DIR"] = str(var)
    return subprocess.run([sys.executable, str(BENCHMARKS / script), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=BENCHMARKS.parent)


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_benchmark_explains_itself_with_help(script):
    result = run(script, "--help", timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("usage:")


@pytest.mark.parametrize(("script", "args"), SMOKE, ids=[s for s, _ in SMOKE])
def test_the_smallest_mode_of_a_benchmark_runs_in_seconds(script, args, tmp_path):
    result = run(script, *args, timeout=300, var=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("script", ["recommend_online_retail.py", "recommend_movielens.py"])
def test_the_recommendation_benchmarks_smoke_mode_prints_every_slice_and_the_goals(script, tmp_path):
    result = run(script, "--smoke", timeout=300, var=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    for text in ("per slice", "exclude_seen", "cold_start", "new_shoppers", "peer:implicit_als", "weighted", "goal:"):
        assert text in result.stdout


def test_the_search_benchmarks_smoke_mode_cross_validates_and_names_the_defaults(tmp_path):
    result = run("search_chorus.py", "--smoke", timeout=300, var=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    for text in ("held-out fold", "CV-chosen", "fold-averaged NDCG@10", "ltr over", "defaults chosen by"):
        assert text in result.stdout


def test_the_text_benchmarks_smoke_mode_prints_its_share_cold_recall_and_marginal_gain(tmp_path):
    result = run("text_kg_times.py", "--smoke", timeout=300, var=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    for text in ("chosen on validation", "% of a retrain", "text / popularity", "marginal gain of text"):
        assert text in result.stdout


FIGURES = [  # (script, args, what its smallest mode must print)
    ("cf_fit_times.py", ["--smoke"], ["ease", "mf on", "implicit-als"]),
    ("search_dashboard.py", ["--smoke"], ["index built in", "(found: True)", "p95"]),
    ("gpu_training.py", ["--smoke", "--device", "cpu"], ["CPU (", "titles/s", '"finetune_b16"']),  # the CPU fallback
]


@pytest.mark.parametrize(("script", "args", "texts"), FIGURES, ids=[s for s, _, _ in FIGURES])
def test_the_smallest_mode_of_a_timing_benchmark_prints_its_figures(script, args, texts, tmp_path):
    result = run(script, *args, timeout=300, var=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    for text in texts:
        assert text in result.stdout, result.stdout[-2000:]


def test_the_hostile_inputs_smoke_mode_refuses_every_file_without_changing_a_row(tmp_path):
    result = run("hostile_inputs.py", "--smoke", timeout=300, var=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:] + result.stdout[-2000:]
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("hostile inputs: 5 tried, 5 refused cleanly, rows changed 0, peak "), last
    assert "mapping page" in result.stdout
