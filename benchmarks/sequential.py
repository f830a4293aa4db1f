"""Benchmark: the ``sequential`` signal (SASRec-style) on leave-last-out, against EASE and implicit ALS.

    .venv/bin/python benchmarks/sequential.py [--datasets movielens,online-retail] [--json OUT] [--smoke]

From a fresh clone (after ``make install`` or ``pip install -e .[dev]``), with the shared data in
``../shared/data`` (MovieLens latest-small, UCI Online Retail). ``--smoke``: a few hundred shoppers
of each dataset, two epochs, hashed text vectors instead of MiniLM: seconds, checks that it runs.

Data, as ``python -m mlcore evaluate`` reads it: MovieLens (every rating an interaction, products
with genres and tags, see ``movielens_to_ep.py``) and Online Retail by shopper (``online_retail_to_ep.py``,
cleaned: returns cancel purchases, non-product codes dropped). Split: leave-last-out, each shopper's
last event is test and the one before it validation (shoppers with at least three events).

Per dataset, in one run:

1. implicit ALS (peer) picked on validation, refitted on train + validation;
2. the fused signals WITHOUT ``sequential`` (:data:`BASE`) and WITH it: weights tuned on validation
   (coordinate ascent), then every signal refitted on train + validation and evaluated once on test;
   the single signals (``sequential`` alone, ``ease`` …) come from the same run.

Headline per dataset: MovieLens on items not rated before (``exclude_seen``; a movie is not rated twice),
Online Retail on every item (``all``; shoppers re-buy). Goals: ``sequential`` alone beats ``ease``, and the
fused result with ``sequential`` beats the one without. The sequential settings per dataset
(:data:`SETTINGS`) were set to fit a CPU time budget, not tuned (the test items were never looked at;
fusion weights are tuned on validation only).
Item vectors start from MiniLM embeddings of the product texts, cached under
``$VAR_DIR/embedding-cache`` (encoding MovieLens' 9,742 movies takes minutes on a CPU, once).
Prints a CPU/GPU epoch-time line; runs on CUDA when one is present.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import movielens_to_ep  # noqa: E402
import online_retail_to_ep  # noqa: E402
from recommend_online_retail import als_scorer, pick_als  # noqa: E402

from mlcore.cli import StderrCallback, parse_signals  # noqa: E402
from mlcore.data import Dataset, clean_events, leave_last_out  # noqa: E402
from mlcore.data.cleaning import CleaningConfig, non_product_mask  # noqa: E402
from mlcore.fusion import hashed_text_vectors  # noqa: E402
from mlcore.text import ProductTextConfig, product_texts  # noqa: E402
from mlcore.training.runner import FUSED, RunConfig, RunResult, run  # noqa: E402

BASE = "popularity,repeat,item_knn,ease"
PEER = "peer:implicit_als"
HEADLINE: dict[str, Literal["all", "exclude_seen"]] = {"movielens": "exclude_seen", "online-retail": "all"}
# small enough for a CPU run (not tuned), see the module doc
SETTINGS: dict[str, list[str]] = {
    "movielens": ["sequential.epochs=6", "sequential.dim=32", "sequential.max_len=100", "sequential.windows_per_user=1",
                  "sequential.cpu_threads=2"],
    "online-retail": ["sequential.epochs=6", "sequential.dim=32", "sequential.max_len=50", "sequential.windows_per_user=1",
                      "sequential.cpu_threads=2"],
}
CF_SETTINGS: dict[str, list[str]] = {  # 22 years of ratings: no recency decay (as movielens_to_ep.py advises)
    "movielens": ["popularity.half_life_days=null", "item_knn.half_life_days=null", "ease.half_life_days=null"],
    "online-retail": [],
}
TEXT_FIELDS = "title,brand,category,description"
SMOKE_USERS = 100


def load(name: str, smoke: bool = False) -> Dataset:
    """The dataset as the CLI reads it (cleaned), optionally cut to :data:`SMOKE_USERS` shoppers."""
    if name == "movielens":
        events, products = movielens_to_ep.convert()
    elif name == "online-retail":
        events, products = online_retail_to_ep.convert()
    else:
        raise SystemExit(f"unknown dataset {name!r}; use movielens or online-retail")
    config = CleaningConfig()
    events, _report = clean_events(events, config)
    # the same product twice on one invoice line time: one event (leave-last-out needs distinct events)
    keys = ["user_id", "item_id", "timestamp", "type"]
    events = events.groupby(keys, as_index=False, sort=False).agg(quantity=("quantity", "sum"))
    products = products[~non_product_mask(products["item_id"], config)]
    if smoke:
        users = events["user_id"].drop_duplicates().sort_values().head(SMOKE_USERS)
        events = events[events["user_id"].isin(users)]
        products = products[products["item_id"].isin(events["item_id"])]
    return Dataset.from_frames(events, products)


def text_embeddings(data: Dataset, smoke: bool, cache: Path) -> np.ndarray:
    """(n_items, dim) float32: MiniLM embeddings of the product texts (cached), or hashed vectors in smoke mode."""
    texts = product_texts(data.products, ProductTextConfig(fields=TEXT_FIELDS))
    if smoke:
        return hashed_text_vectors(texts, dim=64)
    from mlcore.text import EmbeddingCache, TextEncoder

    encoder = TextEncoder.load(None, device="auto")
    return EmbeddingCache(cache).encode(encoder, texts, 64, StderrCallback(), phase="encode products")


def one_dataset(name: str, data: Dataset, cache: Path, smoke: bool) -> dict[str, Any]:
    """The peer, the fused runs without and with ``sequential``; prints the table and returns the figures."""
    split = leave_last_out(data, 1, 1)
    cb = StderrCallback(quiet=True)
    started = time.perf_counter()
    grid, iterations = (((32, 0.05),), 3) if smoke else (((64, 0.05), (128, 0.05), (128, 0.5)), 15)
    (factors, reg), _ = pick_als(split, list(grid), iterations)
    peer = als_scorer(split.train_and_validation().matrix(), factors, reg, iterations=iterations)
    print(f"implicit ALS factors={factors} reg={reg} picked on validation ({time.perf_counter() - started:.0f} s)")
    sequential = [*SETTINGS[name], f"sequential.cache_dir={json.dumps(str(cache))}"]
    if smoke:
        sequential = ["sequential.epochs=2", "sequential.text_init=false", "sequential.dim=16", "sequential.heads=1",
                      "sequential.max_len=20", "sequential.windows_per_user=1"]
    results: dict[str, RunResult] = {}
    for label, names in (("without", BASE), ("with", f"{BASE},sequential")):
        settings = CF_SETTINGS[name] + (sequential if "sequential" in names else [])
        config = RunConfig(signals=parse_signals(names, settings), normalization="auto", learned=False, ablation=False,
                           tune_target=HEADLINE[name])
        t0 = time.perf_counter()
        results[label] = run(data, split, config, callback=cb, peers={PEER: peer})
        print(f"fused {label} sequential: {time.perf_counter() - t0:.0f} s, weights {results[label].fusion.weights}")
    return report(name, results)


def report(name: str, results: dict[str, RunResult]) -> dict[str, Any]:
    """Print NDCG@10 / Recall@10 of every scorer on the headline slice, the goals and the epoch times."""
    headline = HEADLINE[name]
    with_seq, without = results["with"], results["without"]
    m = with_seq.report.metrics[headline]
    rows = {**{n: m[n] for n in with_seq.models}, PEER: m[PEER], "fused with sequential": m[FUSED],
            "fused without sequential": without.report.metrics[headline][FUSED]}
    print(f"\n{name}, leave-last-out, slice {headline} ({with_seq.report.users.get(headline, 0)} shoppers)")
    print(f"{'scorer':<28}{'NDCG@10':>9}{'R@10':>8}{'R@20':>8}")
    for scorer, values in rows.items():
        print(f"{scorer:<28}{values['ndcg@10']:9.4f}{values['recall@10']:8.4f}{values['recall@20']:8.4f}")
    seq, ease = m["sequential"]["ndcg@10"], m["ease"]["ndcg@10"]
    fused_with, fused_without = m[FUSED]["ndcg@10"], without.report.metrics[headline][FUSED]["ndcg@10"]
    history = with_seq.models["sequential"].history_
    epoch_s = float(np.mean([h["epoch_s"] for h in history])) if history else 0.0
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"goal sequential > ease: {seq:.4f} vs {ease:.4f} ({'met' if seq > ease else 'NOT met'})")
    print(f"goal fused with > without: {fused_with:.4f} vs {fused_without:.4f} "
          f"({'met' if fused_with > fused_without else 'NOT met'})")
    print(f"sequential epoch time ({device}): {epoch_s:.1f} s over {len(history)} epochs "
          f"({history[-1]['targets_per_s'] if history else 0:,.0f} next-item targets/s)")
    return {"slice": headline, "ndcg@10": {k: v["ndcg@10"] for k, v in rows.items()},
            "recall@20": {k: v["recall@20"] for k, v in rows.items()}, "epoch_s": epoch_s, "device": device,
            "goals": {"sequential_beats_ease": seq > ease, "fused_with_beats_without": fused_with > fused_without}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="movielens,online-retail")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--smoke", action="store_true", help="tiny data, two epochs: checks that it runs")
    parser.add_argument("--encode-only", action="store_true", help="only fill the embedding cache")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cache = Path(os.environ.get("VAR_DIR", "var")) / "embedding-cache"
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"torch {torch.__version__}, device {device}" + ("" if device == "cuda" else " (no GPU here: CPU figures only)"))
    figures: dict[str, Any] = {}
    for name in args.datasets.split(","):
        data = load(name, args.smoke)
        print(f"\n== {name}: {data.n_users} shoppers, {data.n_items} items, {len(data.events)} events")
        t0 = time.perf_counter()
        if not args.smoke:  # fill the cache once; the sequential fits read it
            text = text_embeddings(data, args.smoke, cache)
            print(f"text embeddings {text.shape} in {time.perf_counter() - t0:.1f} s")
        if args.encode_only:
            continue
        figures[name] = one_dataset(name, data, cache, args.smoke)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
