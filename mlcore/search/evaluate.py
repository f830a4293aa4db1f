"""Relevance evaluation on graded judgements (files shaped like Chorus/Icecat: products.jsonl.gz,
queries.csv ``query_id,query``, qrels.csv ``query_id,product_id,grade``).

NDCG@k uses gain 2^grade − 1 and the ideal ranking of all judged products of the query, over queries
with at least one product graded >= 2; reported with unjudged products as 0 and with them skipped,
plus judged@k and a paired per-query comparison against a baseline (seeded bootstrap 95% CI).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcore.evaluation.metrics import graded_ndcg


@dataclass(frozen=True)
class Judgements:
    queries: pd.DataFrame  # query_id, query, ordinal (1-based line in the file); only queries with a grade >= 2
    grades: dict[str, dict[str, int]]  # query_id -> product_id -> grade


def read_products(path: str | Path) -> pd.DataFrame:
    """Products JSON Lines (optionally gzipped) with an ``id`` column, ids as strings."""
    df = pd.read_json(path, lines=True, dtype={"id": str, "ean": str})
    if "id" not in df.columns:
        raise ValueError(f"{path}: products need an 'id' field; found {list(df.columns)[:10]}")
    df["id"] = df["id"].astype(str)
    return df


def read_judgements(queries: str | Path, qrels: str | Path, min_relevant: int = 2) -> Judgements:
    q = pd.read_csv(queries, dtype={"query_id": str})
    r = pd.read_csv(qrels, dtype={"query_id": str, "product_id": str})
    for name, frame, cols in (("queries", q, ("query_id", "query")), ("qrels", r, ("query_id", "product_id", "grade"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} file: missing column(s) {missing}; found {list(frame.columns)}")
    grades: dict[str, dict[str, int]] = {}
    for qid, pid, g in zip(r["query_id"], r["product_id"], r["grade"], strict=True):
        grades.setdefault(str(qid), {})[str(pid)] = int(g)
    q["ordinal"] = np.arange(1, len(q) + 1)
    keep = [qid for qid, gs in grades.items() if max(gs.values()) >= min_relevant]
    q = q[q["query_id"].isin(keep)].reset_index(drop=True)
    return Judgements(q, grades)


def ndcg(ranked: Sequence[str], grades: Mapping[str, int], k: int = 10, *, skip_unjudged: bool = False) -> float:
    """NDCG@k (:func:`~mlcore.evaluation.metrics.graded_ndcg`) with gain 2^grade − 1; unjudged products
    count 0, or are dropped first if ``skip_unjudged``."""
    if skip_unjudged:
        ranked = [p for p in ranked if p in grades]
    gains = [2.0 ** grades.get(p, 0) - 1 for p in ranked[:k]]
    return graded_ndcg(gains, (2.0 ** g - 1 for g in grades.values()), k)


def judged_at(ranked: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    top = list(ranked[:k])
    return sum(p in grades for p in top) / k


def paired(a: np.ndarray, base: np.ndarray, *, seed: int = 0, n_boot: int = 2000, tol: float = 1e-9) -> dict[str, float]:
    """Wins/ties/losses of ``a`` over ``base`` per query and a bootstrap 95% CI of the mean difference."""
    d = np.asarray(a, float) - np.asarray(base, float)
    rng = np.random.default_rng(seed)
    boots = d[rng.integers(0, len(d), size=(n_boot, len(d)))].mean(axis=1) if len(d) else np.zeros(1)
    return {"wins": int((d > tol).sum()), "ties": int((abs(d) <= tol).sum()), "losses": int((d < -tol).sum()),
            "mean_diff": float(d.mean()) if len(d) else 0.0,
            "ci_low": float(np.percentile(boots, 2.5)), "ci_high": float(np.percentile(boots, 97.5))}


def evaluate_run(search: Callable[[str], Sequence[str]], judgements: Judgements, k: int = 10) -> dict[str, object]:
    """Run ``search`` (query text -> product ids, best first) on every judged query."""
    per_query: dict[str, dict[str, float]] = {}
    latencies = []
    for qid, text in zip(judgements.queries["query_id"], judgements.queries["query"], strict=True):
        t = time.perf_counter()
        ranked = list(search(str(text)))
        latencies.append(time.perf_counter() - t)
        g = judgements.grades[qid]
        per_query[qid] = {"ndcg": ndcg(ranked, g, k), "ndcg_skip": ndcg(ranked, g, k, skip_unjudged=True),
                          "judged": judged_at(ranked, g, k)}
    arr = {m: np.array([v[m] for v in per_query.values()]) for m in ("ndcg", "ndcg_skip", "judged")}
    lat = np.array(latencies) * 1000
    return {"queries": len(per_query), f"ndcg@{k}": float(arr["ndcg"].mean()),
            f"ndcg_skip@{k}": float(arr["ndcg_skip"].mean()), f"judged@{k}": float(arr["judged"].mean()),
            "p50_ms": float(np.percentile(lat, 50)), "p95_ms": float(np.percentile(lat, 95)), "per_query": per_query}


def compare(runs: Mapping[str, Mapping[str, object]], baseline: str, k: int = 10, seed: int = 0) -> dict[str, dict[str, float]]:
    """Paired NDCG@k (unjudged as 0) comparison of every run against ``baseline``."""
    base_pq = runs[baseline]["per_query"]
    assert isinstance(base_pq, dict)
    qids = sorted(base_pq)
    base = np.array([base_pq[q]["ndcg"] for q in qids])
    out = {}
    for name, run in runs.items():
        pq = run["per_query"]
        assert isinstance(pq, dict)
        out[name] = paired(np.array([pq[q]["ndcg"] for q in qids]), base, seed=seed)
    return out


def format_table(runs: Mapping[str, Mapping[str, object]], comparison: Mapping[str, Mapping[str, float]], baseline: str,
                 k: int = 10) -> str:
    base = float(runs[baseline][f"ndcg@{k}"])  # type: ignore[arg-type]
    w = max([12, *map(len, runs)])
    head = f"{'config':<{w}} {'ndcg@' + str(k):>8} {'x base':>7} {'skip':>7} {'judged':>7} {'W/T/L':>10} {'95% CI diff':>18} {'p95 ms':>7}"
    lines = [head, "-" * len(head)]
    for name, r in runs.items():
        c = comparison[name]
        nd = float(r[f"ndcg@{k}"])  # type: ignore[arg-type]
        lines.append(
            f"{name:<{w}} {nd:8.4f} {nd / base if base else 0:7.3f} {float(r[f'ndcg_skip@{k}']):7.4f} "  # type: ignore[arg-type]
            f"{float(r[f'judged@{k}']):7.3f} {c['wins']:>3}/{c['ties']:>2}/{c['losses']:>3} "  # type: ignore[arg-type]
            f"[{c['ci_low']:+.4f},{c['ci_high']:+.4f}] {float(r['p95_ms']):7.1f}"  # type: ignore[arg-type]
        )
    return "\n".join(lines)


def evaluate_configs(products: pd.DataFrame, judgements: Judgements, configs: Mapping[str, object], *,
                     encoder: object = None, vectors: np.ndarray | None = None, baseline: str | None = None,
                     k: int = 10, seed: int = 0) -> dict[str, object]:
    """Build one engine per :class:`SearchConfig` in ``configs`` and score each; ``vectors`` (n, 384)
    for ``products`` skips encoding. Returns {"runs", "comparison", "baseline", "table", "split"}."""
    from mlcore.search.engine import SearchConfig, SearchEngine

    engines = {}
    for name, config in configs.items():
        assert isinstance(config, SearchConfig)
        engines[name] = SearchEngine(config, encoder).build(products, vectors=vectors if config.mode != "bm25" else None)
    return evaluate_engines(engines, judgements, baseline=baseline, k=k, seed=seed)


def evaluate_engines(engines: Mapping[str, Any], judgements: Judgements, *, baseline: str | None = None, k: int = 10,
                     seed: int = 0) -> dict[str, object]:
    """Score built :class:`~mlcore.search.engine.SearchEngine` objects (name -> engine) on ``judgements``."""
    runs: dict[str, dict[str, object]] = {}
    for name, engine in engines.items():
        engine.search("warm up", k=k)

        def ranked(text: str, engine: Any = engine) -> list[str]:
            return [h.product_id for h in engine.search(text, k=k).hits]

        runs[name] = evaluate_run(ranked, judgements, k)
    base = baseline or next(iter(engines))
    comparison = compare(runs, base, k, seed)
    return {"runs": runs, "comparison": comparison, "baseline": base, "table": format_table(runs, comparison, base, k),
            "split": format_split(runs, judgements, base, k)}


def halves(judgements: Judgements) -> dict[str, list[str]]:
    """Query ids on odd lines of the queries file (the half settings were chosen on) and on even lines."""
    q = judgements.queries
    ordinal = q["ordinal"] if "ordinal" in q.columns else pd.Series(np.arange(1, len(q) + 1))
    ids = q["query_id"].astype(str).tolist()
    return {"odd": [i for i, o in zip(ids, ordinal, strict=True) if o % 2 == 1],
            "even": [i for i, o in zip(ids, ordinal, strict=True) if o % 2 == 0]}


def format_split(runs: Mapping[str, Mapping[str, object]], judgements: Judgements, baseline: str, k: int = 10) -> str:
    """NDCG@k (unjudged as 0) on each half of the queries, and the ratio to the baseline on that half."""
    parts = halves(judgements)
    w = max([12, *map(len, runs)])
    head = f"{'config':<{w}} " + " ".join(f"{h + ' (' + str(len(ids)) + ')':>14} {'x base':>7}" for h, ids in parts.items())
    lines = [head, "-" * len(head)]

    def mean(run: Mapping[str, object], ids: list[str]) -> float:
        pq = run["per_query"]
        assert isinstance(pq, dict)
        return float(np.mean([pq[i]["ndcg"] for i in ids])) if ids else 0.0

    for name, run in runs.items():
        cells = []
        for ids in parts.values():
            value, base = mean(run, ids), mean(runs[baseline], ids)
            cells.append(f"{value:14.4f} {value / base if base else 0:7.3f}")
        lines.append(f"{name:<{w}} " + " ".join(cells))
    return "\n".join(lines)
