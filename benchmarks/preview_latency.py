"""Benchmark: latency of the fusion preview's ranking for one shopper over full Online Retail, all signals.

    .venv/bin/python benchmarks/preview_latency.py [--shoppers 50] [--rebuild]
    .venv/bin/python benchmarks/preview_latency.py --smoke   # seconds: the bundled demo sample, two signals

The bundle (every signal: popularity, repeat, item_knn, ease, mf, text, kg) is trained once
with mlcore's runner on ``../shared/data/online-retail`` (converted and cleaned as in
``recommend_online_retail.py``; no tuning, equal weights) and cached under
``var/bench/preview-bundle``. After the bundle is loaded (and one warm-up call), each of
``--shoppers`` random shoppers is previewed through ``dashboard.services.serving.serve`` —
the code path of the preview and the API: fuse with edited weights, rules (a price range, exclude
bought, a boost and a pin), MMR diversity, explanations for the top 20. Prints p50/p95/max in ms.
Goal: p95 < 300 ms. The preview reads the shopper's events from the benchmark's own database
(``var/bench/preview``, see ``bench_db.py``), set up and migrated on every run.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SIGNALS = "popularity,repeat,item_knn,ease,mf,text,kg"
FOLDER = ROOT / "var" / "bench" / "preview-bundle"
SMOKE_SIGNALS = "popularity,item_knn"
SMOKE_FOLDER = ROOT / "var" / "bench" / "preview-bundle-smoke"
SMOKE_SOURCE = ROOT / "dashboard" / "demo" / "online_retail_sample.csv.gz"


def build(folder: Path, *, smoke: bool = False) -> None:
    from online_retail_to_ep import DEFAULT_SOURCE, convert

    from mlcore.cli import parse_signals
    from mlcore.data import Dataset, clean_events, temporal_split
    from mlcore.data.cleaning import CleaningConfig, non_product_mask
    from mlcore.training.artifacts import write_bundle
    from mlcore.training.runner import RunConfig, run

    t0 = time.perf_counter()
    events, products = convert(SMOKE_SOURCE if smoke else Path(DEFAULT_SOURCE))
    events, _ = clean_events(events, CleaningConfig())
    products = products[~non_product_mask(products["item_id"], CleaningConfig())]
    data = Dataset.from_frames(events, products)
    split = temporal_split(data, "2011-10-01", validation_days=30)
    signals = parse_signals(SMOKE_SIGNALS, []) if smoke else parse_signals(SIGNALS, ["mf.epochs=10"])
    config = RunConfig(signals=signals, tune=False, ablation=False, ks=(10,))
    write_bundle(folder, run(data, split, config))
    print(f"built the bundle in {time.perf_counter() - t0:.0f} s: {folder}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shoppers", type=int, default=50, help="random shoppers previewed (default 50)")
    parser.add_argument("--rebuild", action="store_true", help="train the cached bundle again")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds, not minutes: the bundled demo sample, popularity + item_knn, 5 shoppers")
    args = parser.parse_args()
    folder = SMOKE_FOLDER if args.smoke else FOLDER
    if args.smoke:
        args.shoppers = min(args.shoppers, 5)
    if args.rebuild and folder.exists():
        import shutil

        shutil.rmtree(folder)
    if not (folder / "meta.json").exists():
        build(folder, smoke=args.smoke)

    from bench_db import setup_django

    setup_django("preview")
    from dashboard.models import Catalog, ModelVersion, VersionState
    from dashboard.services.serving import clear_cache, serve
    from mlcore.serving.bundle import load_bundle
    from mlcore.serving.requests import RecommendRequest

    # the bundle is the catalog's active version in the benchmark's own database (never trained there)
    catalog, _ = Catalog.objects.get_or_create(slug="preview-bench", defaults={"name": "Preview benchmark"})
    ModelVersion.objects.filter(catalog=catalog).delete()
    ModelVersion.objects.create(catalog=catalog, number=1, artifact_path=str(folder), state=VersionState.ACTIVE)
    clear_cache()
    t0 = time.perf_counter()
    bundle = load_bundle(folder)
    load_s = time.perf_counter() - t0
    signals = sorted(bundle.models)
    top = str(bundle.items.ids[int(np.argmax(np.asarray(bundle.seen.sum(axis=0)).ravel()))])
    settings = {
        "weights": {s: 1.0 + 0.1 * i for i, s in enumerate(signals)}, "normalization": "rank", "diversity": 0.7,
        "pool_size": 200, "rules": [{"kind": "price_range", "low": 0.5}, {"kind": "exclude_bought"},
                                    {"kind": "boost", "column": "title", "value": "x", "factor": 2},
                                    {"kind": "pin", "item_id": top, "position": 3}]}
    rng = np.random.default_rng(0)
    shoppers = [str(bundle.users.ids[i]) for i in rng.choice(len(bundle.users), args.shoppers, replace=False)]
    serve(catalog=catalog, request=RecommendRequest(shopper=shoppers[0], n=20), config=settings)  # warm-up, load
    times = []
    for sid in shoppers:
        t = time.perf_counter()
        served = serve(catalog=catalog, request=RecommendRequest(shopper=sid, n=20), config=settings)
        times.append((time.perf_counter() - t) * 1000)
        assert len(served.items) == 20 and not served.fallback
    ms = np.array(times)
    print(f"preview latency over {len(bundle.items)} items, {len(bundle.users)} shoppers, signals {', '.join(signals)}"
          f" (bundle load {load_s:.1f} s): p50 {np.percentile(ms, 50):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms,"
          f" max {ms.max():.0f} ms over {len(ms)} shoppers — goal p95 < 300 ms:"
          f" {'met' if np.percentile(ms, 95) < 300 else 'NOT met'}")


if __name__ == "__main__":
    main()
