"""``python -m mlcore search-eval``: score search configurations on labelled files.

    python -m mlcore search-eval --products P.jsonl.gz --queries Q.csv --qrels R.csv [--config NAME] [--json OUT]

``--config`` is one of bm25, dense, hybrid, hybrid+qu or ``all`` (default); bm25 is always run as
the baseline of the paired comparison. Embeddings are cached under ``--cache`` (default var/search-cache).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from mlcore.search.dense import cached_encode
from mlcore.search.engine import SearchConfig
from mlcore.search.evaluate import evaluate_configs, read_judgements, read_products
from mlcore.search.lexical import field_texts

# bm25 is the baseline (bm25s, English stopwords, title + short_description + supplier). The fusion
# weights and the doubled title were chosen on the Chorus dev queries (global settings, no per-query rules).
CONFIGS = {
    "bm25": SearchConfig(mode="bm25"),
    "dense": SearchConfig(mode="dense"),
    "hybrid": SearchConfig(mode="hybrid", fusion="weighted", dense_weight=0.5),
    "hybrid+qu": SearchConfig(mode="hybrid+qu", fusion="weighted", dense_weight=0.5, price_scale=100.0,
                              lexical_fields=("title", "title", "short_description", "supplier")),
}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("search-eval", help="NDCG@10 of search configurations on graded query/product files")
    p.add_argument("--products", required=True, help="products JSON Lines (.gz ok) with id,title[,short_description,supplier]")
    p.add_argument("--queries", required=True, help="CSV query_id,query")
    p.add_argument("--qrels", required=True, help="CSV query_id,product_id,grade (0-3)")
    p.add_argument("--config", default="all", choices=["all", *CONFIGS], help="configuration(s) to score")
    p.add_argument("--cache", default=os.path.join(os.environ.get("VAR_DIR", "var"), "search-cache"))
    p.add_argument("--json", help="write the figures here")


def run_search_eval(args: argparse.Namespace) -> int:
    names = list(CONFIGS) if args.config == "all" else list(dict.fromkeys(["bm25", args.config]))
    configs = {n: CONFIGS[n] for n in names}
    products = read_products(args.products)
    judgements = read_judgements(args.queries, args.qrels)
    encoder = vectors = None
    if any(c.mode != "bm25" for c in configs.values()):
        from mlcore.text.encoder import TextEncoder

        encoder = TextEncoder.load(None)
        vectors = cached_encode(encoder, field_texts(products, CONFIGS["dense"].dense_fields), Path(args.cache))
    out = evaluate_configs(products, judgements, configs, encoder=encoder, vectors=vectors, baseline="bm25")
    print(f"{len(products)} products, {len(judgements.queries)} queries with a product graded >= 2")
    print(out["table"])
    if args.json:
        Path(args.json).write_text(json.dumps({k: v for k, v in out.items() if k != "table"}, indent=1, default=float))
        print(f"report written to {args.json}", file=sys.stderr)
    return 0
