"""Times of the text and graph signals on the full Online Retail catalog.

    python benchmarks/text_kg_times.py [--source PATH] [--device cpu|cuda] [--model DIR] [--steps 10] [--batch-size 32]

Prints: catalog size; MiniLM encoding of every product title (s, titles/s);
behaviour-pair mining; seconds per contrastive fine-tuning step (full model,
lower 4 layers frozen, LoRA r=8) with pairs/s; knowledge-graph build, item
vectors and scoring every shopper against every product. Events: rows with a
CustomerID, no cancellation (InvoiceNo prefix C), Quantity > 0; a product's
title is its most frequent Description.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from mlcore.data import Dataset
from mlcore.graph import build_graph, item_features, propagate_scores, recent_item_weights
from mlcore.text import FinetuneConfig, PairConfig, TextEncoder, behaviour_pairs, finetune, product_texts

DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "shared/data/online-retail/online_retail.csv.gz"


def online_retail(source: Path) -> Dataset:
    dtypes: dict[str, str] = {"InvoiceNo": "str", "StockCode": "str", "CustomerID": "Int64"}
    raw = pd.read_csv(source, dtype=dtypes)
    raw["StockCode"] = raw["StockCode"].str.strip().str.upper()
    named = raw[raw["Description"].notna()]
    titles = named.groupby("StockCode")["Description"].agg(lambda s: s.str.strip().value_counts().index[0])
    products = pd.DataFrame({"item_id": titles.index, "title": titles.to_numpy()})
    keep = raw["CustomerID"].notna() & ~raw["InvoiceNo"].str.startswith("C") & (raw["Quantity"] > 0)
    rows = raw[keep]
    events = pd.DataFrame(
        {
            "user_id": rows["CustomerID"].astype("int64").astype(str),
            "item_id": rows["StockCode"],
            "timestamp": pd.to_datetime(rows["InvoiceDate"]),
            "quantity": rows["Quantity"],
        }
    )
    return Dataset.from_frames(events, products)


def timed(label: str, fn, unit: str = "", count: int = 0):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    rate = f"  ({count / seconds:,.0f} {unit}/s)" if count else ""
    print(f"{label:<44} {seconds:8.2f} s{rate}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model", default=None, help="MiniLM folder (default: the bundled package)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")

    data = timed("read Online Retail", lambda: online_retail(args.source))
    print(f"{data.n_items} products, {data.n_users} shoppers, {len(data.events)} purchase rows")
    titles = product_texts(data.products)
    encoder = timed("load MiniLM", lambda: TextEncoder.load(args.model, device=args.device, max_length=64))
    encoder.encode(titles[:64])  # warm-up
    timed("encode all product titles (batch 64)", lambda: encoder.encode(titles, 64), "titles", len(titles))

    pairs = timed("mine behaviour pairs", lambda: behaviour_pairs(data, PairConfig()))
    print(f"{len(pairs)} pairs")
    anchors, positives = [titles[i] for i in pairs[:, 0]], [titles[i] for i in pairs[:, 1]]
    for label, config in [
        ("full model", FinetuneConfig()),
        ("lower 4 layers frozen", FinetuneConfig(freeze_layers=4)),
        ("LoRA r=8", FinetuneConfig(lora=True, lr=5e-4)),
    ]:
        tuned = TextEncoder.load(args.model, device=args.device, max_length=64)
        config = FinetuneConfig(**{**config.__dict__, "max_steps": args.steps, "batch_size": args.batch_size})
        finetune(tuned, anchors[: args.batch_size], positives[: args.batch_size], FinetuneConfig(max_steps=1, batch_size=args.batch_size))  # warm-up
        tuned = TextEncoder.load(args.model, device=args.device, max_length=64)
        result = finetune(tuned, anchors, positives, config)
        print(
            f"fine-tune {label:<34} {result.seconds / max(result.steps, 1):8.3f} s/step"
            f"  ({result.samples_per_s:,.0f} pairs/s, {result.steps} steps of {args.batch_size}, "
            f"loss {result.losses[0]:.3f} → {result.losses[-1]:.3f}, {result.device})"
        )

    graph = timed("build knowledge graph", lambda: build_graph(data))
    print(f"graph: {graph.n_entities} entities, {len(graph.head)} edges; {graph.summary()}")
    features = timed("item–entity vectors", lambda: item_features(graph))
    profiles = timed("shopper profiles", lambda: recent_item_weights(data, 50, 0.95))
    timed(
        "graph scores, every shopper × every product",
        lambda: propagate_scores(profiles, features),
        "shoppers",
        data.n_users,
    )


if __name__ == "__main__":
    main()
