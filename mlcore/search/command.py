"""``python -m mlcore search-eval``: score search configurations on labelled files.

    python -m mlcore search-eval --products P.jsonl.gz --queries Q.csv --qrels R.csv [--config NAME] [--json OUT]

``--config`` is one row of :mod:`mlcore.search.suite` (bm25, dense, hybrid, hybrid+qu, hybrid+qu+cat,
dense+ft, hybrid+qu+cat+ft, "+ re-rank") or ``all`` (default); bm25 is always run as the baseline of the
paired comparison. Embeddings, fine-tuned encoder and cross-encoder weights are cached under ``--cache``
(default $VAR_DIR/search-cache); ``--finetune-steps 0`` / ``--rerank-steps 0`` skip those rows.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

from mlcore.search.adapt import AdaptConfig
from mlcore.search.evaluate import read_judgements, read_products
from mlcore.search.rerank import RerankConfig
from mlcore.search.suite import CONFIGS, FT_ROWS, RERANK_ROW, run_suite

__all__ = ["CONFIGS", "add_parser", "run_search_eval"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("search-eval", help="NDCG@10 of search configurations on graded query/product files")
    p.add_argument("--products", required=True, help="products JSON Lines (.gz ok) with id,title[,short_description,supplier]")
    p.add_argument("--queries", required=True, help="CSV query_id,query")
    p.add_argument("--qrels", required=True, help="CSV query_id,product_id,grade (0-3)")
    p.add_argument("--config", default="all", choices=["all", *CONFIGS, *FT_ROWS, RERANK_ROW],
                   help="configuration(s) to score")
    p.add_argument("--finetune-steps", type=int, default=AdaptConfig().steps,
                   help="steps of catalog fine-tuning for the +ft rows (0 skips them)")
    p.add_argument("--rerank-steps", type=int, default=RerankConfig().train.steps,
                   help="cross-encoder training steps for the re-rank row (0 skips it)")
    p.add_argument("--cache", default=os.path.join(os.environ.get("VAR_DIR", "var"), "search-cache"))
    p.add_argument("--json", help="write the figures here")


def run_search_eval(args: argparse.Namespace) -> int:
    products = read_products(args.products)
    judgements = read_judgements(args.queries, args.qrels)
    adapt = AdaptConfig(steps=args.finetune_steps) if args.finetune_steps > 0 else None
    plain_rerank = RerankConfig()
    rerank = None
    if args.rerank_steps > 0:
        rerank = replace(plain_rerank, train=replace(plain_rerank.train, steps=args.rerank_steps))
    names = [] if args.config == "all" else [args.config]
    out = run_suite(products, judgements, names=names, cache_dir=Path(args.cache), adapt=adapt, rerank=rerank,
                    log=lambda line: print(line, file=sys.stderr), query_threads=1)
    print(f"{len(products)} products, {len(judgements.queries)} queries with a product graded >= 2")
    print(out["table"])
    print("NDCG@10 on each half of the queries (settings were chosen on the odd lines):")
    print(out["split"])
    if args.json:
        Path(args.json).write_text(json.dumps({k: v for k, v in out.items() if k not in ("table", "split")},
                                              indent=1, default=float))
        print(f"report written to {args.json}", file=sys.stderr)
    return 0
