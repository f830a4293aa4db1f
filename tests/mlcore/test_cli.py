"""``python -m mlcore evaluate/train`` on the tiny shop written to files."""
import json
import subprocess
import sys

import pytest

from mlcore.cli import main
from mlcore.serving.bundle import load_bundle
from tests.mlcore.conftest import tiny_events, tiny_products

FAST = "popularity,item_knn,ease"


@pytest.fixture
def files(tmp_path):
    events, products = tmp_path / "events.csv", tmp_path / "products.jsonl"
    tiny_events().to_csv(events, index=False)
    tiny_products().to_json(products, orient="records", lines=True)
    return events, products


def args(files, *extra):
    events, products = files
    return ["--events", str(events), "--products", str(products), "--split", "temporal:2024-01-15",
            "--validation-days", "7", "--signals", FAST, "--quiet", *extra]


def test_evaluate_prints_a_table_and_writes_the_json_contract(files, tmp_path, capsys):
    out = tmp_path / "report.json"
    assert main(["evaluate", *args(files, "--json", str(out))]) == 0
    table = capsys.readouterr().out
    for name in ("popularity", "item_knn", "ease", "fused", "tuned weights"):
        assert name in table
    report = json.loads(out.read_text())
    assert set(report["signals"]) == {"popularity", "item_knn", "ease"}
    assert 0.0 <= report["fused"]["all"]["ndcg@10"] <= 1.0
    assert "exclude_seen" in report["fused"] and "cold_start" in report
    assert set(report["weights"]["weights"]) == {"popularity", "item_knn", "ease"}
    assert report["tuning"]["metric_name"] == "ndcg@10"
    assert report["timings"]["wall"] > 0 and "fit:ease:final" in report["timings"]


def test_leave_last_out_and_random_splits_run(files, tmp_path):
    for split in ("leave-last-out", "random:0.6:0.2:0.2"):
        out = tmp_path / "r.json"
        cli = [a if a != "temporal:2024-01-15" else split for a in args(files, "--json", str(out), "--no-tune")]
        assert main(["evaluate", *cli]) == 0
        assert json.loads(out.read_text())["split"]["name"].startswith(split.split(":")[0])


def test_train_writes_a_servable_bundle(files, tmp_path):
    bundle_dir = tmp_path / "bundle"
    assert main(["train", *args(files, "--out", str(bundle_dir))]) == 0
    bundle = load_bundle(bundle_dir)
    assert set(bundle.meta["signals"]) == {"popularity", "item_knn", "ease"}
    assert bundle.meta["data_fingerprint"] and "all" in bundle.meta["metrics"]
    recs = bundle.recommend("u1", k=3, exclude_seen=True)
    assert len(recs) == 3 and all(r.extra["item_id"] not in {"a1", "a2", "a3"} for r in recs)
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]


def test_bad_input_gets_a_clear_error(files, tmp_path, capsys):
    assert main(["evaluate", *args(files), "--signals", "popularity,nonsense"]) == 2
    assert "unknown nonsense" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,item_id,timestamp\nu1,a1,2024-01-01\nu2,a2,yesterday-ish\n")
    assert main(["evaluate", *args((bad, files[1]))]) == 2
    assert "row 3, column “timestamp” (timestamp): expected a date and time" in capsys.readouterr().err
    assert main(["evaluate", *[a if a != "temporal:2024-01-15" else "weekly" for a in args(files)]]) == 2
    assert "--split: split 'weekly' not understood" in capsys.readouterr().err


def test_python_dash_m_mlcore_runs(files):
    result = subprocess.run([sys.executable, "-m", "mlcore", "evaluate", *args(files, "--no-tune")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "fused" in result.stdout
