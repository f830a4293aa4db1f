"""Image embedding throughput and the image signal's effect on cold-start products.

    python benchmarks/image_embedding.py [--model CLIP_DIR] [--products 2000] [--device cpu|cuda] [--smoke]

No catalog with product pictures is in ``../shared/data``, so this measures on a **synthetic catalog
whose pictures carry the category** (each of ``--categories`` categories has its own colour and stripe
pattern, with per-product noise) and says so in its output. Shoppers buy within one category; products
launched in the last 20 % of the time window have no training events (cold). The test measures, on
held-out purchases of cold products only, Recall@10 and NDCG@10 over the cold products for:
``image`` (cosine to the shopper's pictured history), ``popularity`` (the cold products' training
popularity: none, so an arbitrary order; the floor) and ``random``.

Without ``--model`` a small randomly initialised CLIP is built (nothing is downloaded): its throughput is
not a real CLIP's — give a real CLIP folder (``save_pretrained`` layout) for those figures.
Prints last: ``image: <n> images/s on <device>; cold-start recall@10 image <r> vs popularity <p> (<x>×)``.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from mlcore.data import Dataset  # noqa: E402
from mlcore.evaluation.metrics import ndcg, recall, top_k  # noqa: E402
from mlcore.image import ImageEncoder, build_tiny_clip  # noqa: E402
from mlcore.recommenders.image import ImageConfig, ImageRecommender  # noqa: E402


def pictures(folder: Path, n: int, categories: int, seed: int) -> tuple[list[str], np.ndarray]:
    """``n`` 64-pixel PNGs; product i's category is ``cat[i]`` (its hue and stripe frequency)."""
    rng = np.random.default_rng(seed)
    cat = rng.integers(0, categories, size=n)
    hues = rng.integers(30, 226, size=(categories, 3))
    xs = np.arange(64)
    paths = []
    for i in range(n):
        c = cat[i]
        stripes = (np.sin(xs[None, :] * (c + 1) * 0.2) > 0)[:, :, None] * 40
        pixels = hues[c][None, None, :] + stripes + rng.normal(0, 30, (64, 64, 3))
        path = folder / f"p{i}.png"
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path)
        paths.append(str(path))
    return paths, cat


def catalog(paths: list[str], cat: np.ndarray, shoppers: int, seed: int) -> tuple[Dataset, pd.DataFrame, np.ndarray]:
    """(train dataset, test events, cold item ids) from within-category shopping over 100 days."""
    rng = np.random.default_rng(seed)
    n = len(paths)
    launch = rng.uniform(0, 100, size=n)  # day each product appears
    by_cat = {c: np.flatnonzero(cat == c) for c in np.unique(cat)}
    rows = []
    for u in range(shoppers):
        favourite = int(rng.integers(0, len(by_cat)))
        for _ in range(int(rng.integers(6, 16))):
            day = float(rng.uniform(0, 100))
            pool = by_cat[favourite] if rng.random() < 0.85 else np.arange(n)
            pool = pool[launch[pool] <= day]
            if len(pool):
                rows.append((f"u{u}", f"p{int(rng.choice(pool))}", day))
    events = pd.DataFrame(rows, columns=["user_id", "item_id", "day"])
    events["timestamp"] = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(events["day"], unit="D")
    events["type"] = "purchase"
    products = pd.DataFrame({"item_id": [f"p{i}" for i in range(n)], "title": [f"product {i}" for i in range(n)],
                             "image_path": paths})
    train = events[events["day"] < 80]
    test = events[events["day"] >= 80]
    cold = sorted(set(products["item_id"]) - set(train["item_id"]))
    data = Dataset.from_frames(train.drop(columns="day"), products)
    return data, test, np.asarray(cold)


def cold_metrics(scores: np.ndarray, data: Dataset, test: pd.DataFrame, cold: np.ndarray) -> tuple[float, float]:
    """Recall@10 and NDCG@10 over the cold products, for test shoppers known to training who bought one."""
    cold_index = data.items.index(cold)
    test = test[test["item_id"].isin(set(cold)) & test["user_id"].isin(set(data.users.ids))]
    users = np.unique(data.users.index(test["user_id"].to_numpy()))
    position = {int(item): j for j, item in enumerate(cold_index)}
    truth = sp.lil_matrix((len(users), len(cold_index)), dtype=np.float32)
    row_of = {int(u): r for r, u in enumerate(users)}
    for user, item in zip(data.users.index(test["user_id"].to_numpy()), data.items.index(test["item_id"].to_numpy()),
                          strict=True):
        truth[row_of[int(user)], position[int(item)]] = 1.0
    top = top_k(scores[users][:, cold_index], 10)
    return recall(top, truth.tocsr(), 10), ndcg(top, truth.tocsr(), 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="", help="a CLIP folder (default: a tiny random CLIP, built here)")
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--shoppers", type=int, default=1500)
    parser.add_argument("--categories", type=int, default=12)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--smoke", action="store_true", help="200 products, 150 shoppers: seconds, for the tests")
    args = parser.parse_args()
    if args.smoke:
        args.products, args.shoppers = 200, 150
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = args.model or str(build_tiny_clip(folder / "clip", image_size=64, dim=64))
        print(f"catalog: synthetic — {args.products} products in {args.categories} categories whose pictures "
              "carry the category (no catalog with pictures is available here)")
        print(f"model: {args.model or 'tiny random CLIP (64 px, 64 dims): throughput is not a real CLIP figure'}")
        (folder / "pics").mkdir()
        paths, cat = pictures(folder / "pics", args.products, args.categories, seed=0)
        encoder = ImageEncoder.load(model, device=args.device)
        start = time.perf_counter()
        encoder.encode_images(paths, batch_size=64)
        rate = len(paths) / (time.perf_counter() - start)
        print(f"encode: {len(paths)} images in {len(paths) / rate:.2f} s ({rate:,.0f} images/s on {encoder.device})")
        data, test, cold = catalog(paths, cat, args.shoppers, seed=1)
        signal = ImageRecommender(ImageConfig(model=model, device=args.device, batch_size=64)).fit(data)
        users = np.arange(data.n_users)
        image_scores = signal.score(users)
        popularity = np.bincount(data.items.index(data.events["item_id"].to_numpy()), minlength=data.n_items)
        pop_scores = np.broadcast_to(popularity.astype(np.float32), image_scores.shape)
        random_scores = np.random.default_rng(2).random(image_scores.shape).astype(np.float32)
        print(f"cold products: {len(cold)}; test purchases of them: {int(test['item_id'].isin(set(cold)).sum())}")
        results = {name: cold_metrics(s, data, test, cold)
                   for name, s in (("image", image_scores), ("popularity", pop_scores), ("random", random_scores))}
        print(f"{'signal':<12}{'recall@10':>10}{'ndcg@10':>10}")
        for name, (r, n) in results.items():
            print(f"{name:<12}{r:>10.4f}{n:>10.4f}")
        ratio = results["image"][0] / max(results["popularity"][0], 1e-9)
        print(f"image: {rate:,.0f} images/s on {encoder.device}; cold-start recall@10 image {results['image'][0]:.4f} "
              f"vs popularity {results['popularity'][0]:.4f} ({ratio:.2f}×)")


if __name__ == "__main__":
    main()
