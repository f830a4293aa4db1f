from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mlcore.search.engine import SearchConfig
from mlcore.search.evaluate import evaluate_configs, halves, judged_at, ndcg, paired, read_judgements, read_products


def test_ndcg_uses_exponential_gain_and_the_ideal_from_all_judged() -> None:
    grades = {"a": 3, "b": 1, "c": 0}
    assert ndcg(["a", "b"], grades) == 1.0
    assert ndcg(["x", "a", "b"], grades) < ndcg(["x", "a", "b"], grades, skip_unjudged=True) == 1.0
    assert judged_at(["x", "a"], grades, k=10) == 0.1


def test_paired_comparison_counts_wins_and_has_a_seeded_ci() -> None:
    out = paired(np.array([0.5, 0.2, 0.3]), np.array([0.4, 0.2, 0.4]), seed=1)
    assert (out["wins"], out["ties"], out["losses"]) == (1, 1, 1)
    assert out == paired(np.array([0.5, 0.2, 0.3]), np.array([0.4, 0.2, 0.4]), seed=1)
    assert out["ci_low"] <= out["mean_diff"] <= out["ci_high"]


def write_files(products: pd.DataFrame, folder: Path) -> tuple[Path, Path, Path]:
    p = folder / "products.jsonl.gz"
    products.to_json(p, orient="records", lines=True, compression="gzip")
    (folder / "q.csv").write_text("query_id,query\n1,laser printer\n2,shoes\n3,mouse\n")
    (folder / "r.csv").write_text("query_id,query,product_id,grade\n1,laser printer,p5,3\n1,laser printer,p6,1\n"
                                  "2,shoes,p1,0\n3,mouse,p3,2\n")
    return p, folder / "q.csv", folder / "r.csv"


def test_it_scores_configs_on_files_and_skips_queries_without_relevant_products(
    products: pd.DataFrame, encoder: object, tmp_path: Path
) -> None:
    p, q, r = write_files(products, tmp_path)
    judgements = read_judgements(q, r)
    assert judgements.queries["query_id"].tolist() == ["1", "3"]
    out = evaluate_configs(read_products(p), judgements, {"bm25": SearchConfig(mode="bm25"),
                           "hybrid": SearchConfig(mode="hybrid")}, encoder=encoder)
    runs = out["runs"]
    assert isinstance(runs, dict)
    assert runs["bm25"]["ndcg@10"] == 1.0
    assert "bm25" in str(out["table"])


def test_the_split_report_scores_odd_and_even_lines_of_the_queries_file_separately(
    products: pd.DataFrame, encoder: object, tmp_path: Path
) -> None:
    p, q, r = write_files(products, tmp_path)
    judgements = read_judgements(q, r)
    assert halves(judgements) == {"odd": ["1", "3"], "even": []}  # line 2 ("shoes") has no relevant product
    out = evaluate_configs(read_products(p), judgements, {"bm25": SearchConfig(mode="bm25")}, encoder=encoder)
    assert "odd (2)" in str(out["split"]) and "even (0)" in str(out["split"])
