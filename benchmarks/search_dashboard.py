"""Benchmark: the dashboard's search index — build, load, a product added after training, query latency.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/search_dashboard.py [--limit 3000] [--data ../shared/data/chorus-icecat]
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/search_dashboard.py --smoke   # seconds: 100 products, 20 queries

Chorus/Icecat products (the first ``--limit``, their ``attr_t_*`` values as attributes) are mapped to the
training snapshot's shape and indexed with :func:`dashboard.services.search_index.index_build` (the training
job's step, MiniLM on the CPU).
Then, as after an import: one new product is added in process A (``add_products`` + the part written
to the version folder), and process B (a second, already loaded index) replays it — the sum is
"searchable in other workers within". Finally the Chorus dev queries run through the engine with
the default "Hybrid" settings' config. Prints seconds and p50/p95 ms. Goal: new product searchable < 5 s.
It reads no table; its files go under ``VAR_DIR`` (default ``var/bench/search_dashboard``, see ``bench_db``).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_db import ROOT, setup_django

sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
SMOKE = {"limit": 100, "queries": 20}


def snapshot_frame(path: Path, limit: int) -> tuple[pd.DataFrame, dict[str, dict[str, str]]]:
    """The snapshot frame and each product's attributes (Icecat's ``attr_t_*`` text columns)."""
    raw = pd.read_json(path, lines=True, dtype={"id": str}, nrows=limit)
    frame = pd.DataFrame({
        "item_id": raw["id"].astype(str), "title": raw["title"].fillna(""),
        "description": raw["short_description"].fillna(""), "category": "", "brand": raw["supplier"].fillna(""),
        "price": pd.to_numeric(raw["price"], errors="coerce") / 100, "in_stock": True,
    })
    text = raw[[c for c in raw.columns if c.startswith("attr_t_")]]
    attributes = {pid: {k.removeprefix("attr_t_"): str(v) for k, v in row.items() if pd.notna(v)}
                  for pid, row in zip(frame["item_id"], text.to_dict("records"), strict=True)}
    return frame, attributes


def main() -> None:
    setup_django("search_dashboard", migrate=False)
    import torch

    from dashboard.services import search_index as si
    from mlcore.serving import search_store as store

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "chorus-icecat"))
    parser.add_argument("--limit", type=int, default=3000)
    parser.add_argument("--queries", type=int, default=0, help="dev queries timed (0: all)")
    parser.add_argument("--smoke", action="store_true", help=f"seconds: {SMOKE['limit']} products, "
                        f"{SMOKE['queries']} queries")
    args = parser.parse_args()
    if args.smoke:
        args.limit, args.queries = SMOKE["limit"], SMOKE["queries"]
    data = Path(args.data)
    products, attributes = snapshot_frame(data / "products.jsonl.gz", args.limit)
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "bundle"
        bundle.mkdir()
        si.load_encoder(bundle, "")  # the model load is a per-process cost, not the build's
        t0 = time.perf_counter()
        folder = si.index_build(bundle=bundle, products=products,
                                attributes={pid: si.indexed(a) for pid, a in attributes.items()})
        build_s = time.perf_counter() - t0

        def load() -> store.LoadedIndex:
            return store.load_index(folder, lambda ref: si.load_encoder(bundle, ref))

        t0 = time.perf_counter()
        a = load()
        load_s = time.perf_counter() - t0
        b = load()
        new = si.index_frame(pd.DataFrame([{"item_id": "NEW-1", "title": "Quantum flux capacitor docking station",
                                            "description": "USB-C dock", "category": "", "brand": "Acme",
                                            "price": 99.0, "in_stock": True}]), {})
        t0 = time.perf_counter()
        store.add_products(a, new)
        add_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        store.replay(b)
        replay_s = time.perf_counter() - t0
        found = b.engine.search("flux capacitor dock", k=1).hits[0].product_id == "NEW-1"

        queries = pd.read_csv(data / "queries-dev.csv")["query"].astype(str).tolist()
        queries = queries[: args.queries] if args.queries > 0 else queries
        torch.set_num_threads(1)
        b.engine.search(queries[0], k=10)
        times = []
        for q in queries:
            t0 = time.perf_counter()
            b.engine.search(q, k=10)
            times.append((time.perf_counter() - t0) * 1000)
    print(f"{len(products)} products: index built in {build_s:.1f} s ({len(products) / build_s:.0f} products/s), "
          f"loaded in {load_s:.2f} s")
    print(f"a product added after training: {add_s:.2f} s in the importing process, replayed by another in "
          f"{replay_s:.2f} s -> searchable everywhere in {add_s + replay_s:.2f} s (found: {found})")
    print(f"{len(queries)} queries, hybrid+qu: p50 {np.percentile(times, 50):.1f} ms, "
          f"p95 {np.percentile(times, 95):.1f} ms, max {max(times):.1f} ms")


if __name__ == "__main__":
    main()
