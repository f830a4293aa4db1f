from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mlcore.cli import main
from tests.mlcore.search.test_evaluate import write_files


def test_search_eval_prints_the_table_and_writes_json(products: pd.DataFrame, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    p, q, r = write_files(products, tmp_path)
    out = tmp_path / "out.json"
    code = main(["search-eval", "--products", str(p), "--queries", str(q), "--qrels", str(r),
                 "--config", "bm25", "--json", str(out)])
    assert code == 0
    assert "ndcg@10" in capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["runs"]["bm25"]["queries"] == 2


def test_search_eval_names_a_missing_column(products: pd.DataFrame, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    p, q, _ = write_files(products, tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("query_id,product_id\n1,p5\n")
    assert main(["search-eval", "--products", str(p), "--queries", str(q), "--qrels", str(bad), "--config", "bm25"]) == 2
    assert "grade" in capsys.readouterr().err
