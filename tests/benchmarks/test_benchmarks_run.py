"""Every benchmark script starts from a fresh clone: ``--help`` answers, and the smallest modes run."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
HELPERS = {"bench_db.py", "ep_files.py", "api_locustfile.py", "api_server.py"}  # imported by the scripts, not run on their own
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py") if p.name not in HELPERS)
SMOKE = [("scale.py", ["--smoke"]), ("preview_latency.py", ["--smoke"])]


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
