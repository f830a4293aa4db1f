"""Fit time and quick accuracy of the collaborative-filtering recommenders on UCI Online Retail.

Usage (from the repo root):  .venv/bin/python benchmarks/cf_fit_times.py [--cut 2011-11-01] [--device cpu]
    [--models popularity,repeat,item_knn,ease,mf] [--implicit] [--mf-epochs 40]
    .venv/bin/python benchmarks/cf_fit_times.py --smoke   # seconds: the first 25,000 rows (ten days of
                                                          # December 2010), cut 2010-12-07, 3 validation days,
                                                          # every model, mf for 2 epochs, implicit ALS

Cleans the events (cancellations with their purchases, non-product codes, duplicates,
missing customers), cuts them in time (train before cut - 30 days, validation the 30
days before the cut, test from the cut), fits each model on train, and prints fit
seconds, scoring seconds and NDCG@10 / Recall@20 on the warm test users, with and without
items already bought in train. ``--implicit`` adds the implicit library's ALS as a peer.
``--device cuda --models mf`` times mf on a GPU (bf16 autocast) against the CPU figure.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from mlcore.data import Dataset, clean_events, temporal_split
from mlcore.evaluation.metrics import ranking_metrics, top_k
from mlcore.recommenders import REGISTRY
from mlcore.recommenders.mf import MFConfig

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "online-retail" / "online_retail.csv.gz"


SMOKE_ROWS = 25_000
SMOKE_CUT = "2010-12-07"


def load_online_retail(path: Path = DATA, nrows: int | None = None) -> Dataset:
    """Online Retail cleaned as the importer cleans it (``nrows``: only the first rows, in time order)."""
    dtypes: dict[str, str] = {"InvoiceNo": "str", "StockCode": "str", "CustomerID": "Int64"}
    raw = pd.read_csv(path, dtype=dtypes, parse_dates=["InvoiceDate"], nrows=nrows)
    events = pd.DataFrame({
        "user_id": raw["CustomerID"].astype("string"),
        "item_id": raw["StockCode"].str.strip(),
        "timestamp": raw["InvoiceDate"],
        "type": "purchase",
        "quantity": raw["Quantity"],
    })
    events, report = clean_events(events)
    print("cleaning:", report.as_dict())
    products = raw[["StockCode", "Description"]].dropna().drop_duplicates("StockCode")
    products = products.rename(columns={"StockCode": "item_id", "Description": "title"})
    products["item_id"] = products["item_id"].str.strip()
    products = products[products["item_id"].isin(set(events["item_id"]))]
    return Dataset.from_frames(events, products)


def evaluate(model, train_seen, truth, users, chunk: int = 1024) -> dict[str, float]:  # type: ignore[no-untyped-def]
    tops, tops_new = [], []
    for start in range(0, len(users), chunk):
        batch = users[start : start + chunk]
        scores = model.score(batch)
        tops.append(top_k(scores, 20))
        seen = train_seen[batch].toarray() > 0
        scores[seen] = -np.inf
        tops_new.append(top_k(scores, 20))
    t = truth[users]
    with_seen = ranking_metrics(np.vstack(tops), t, ks=(10, 20))
    new_only = ranking_metrics(np.vstack(tops_new), t[:, :] - t.multiply(train_seen[users] > 0), ks=(10, 20))
    return {
        "ndcg@10": with_seen["ndcg@10"],
        "recall@20": with_seen["recall@20"],
        "ndcg@10_new": new_only["ndcg@10"],
        "recall@20_new": new_only["recall@20"],
    }


class ImplicitALS:
    """The implicit library's ALS behind our ``score`` call (benchmark only)."""

    def __init__(self, factors: int = 64, iterations: int = 15, regularization: float = 0.05, alpha: float = 1.0):
        from implicit.cpu.als import AlternatingLeastSquares

        self.model = AlternatingLeastSquares(
            factors=factors, iterations=iterations, regularization=regularization, alpha=alpha, random_state=0
        )

    def fit(self, data: Dataset) -> ImplicitALS:
        x = data.matrix(binary=True).tocsr()
        self.model.fit(x, show_progress=False)
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        return (self.model.user_factors[users] @ self.model.item_factors.T).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cut", default="2011-11-01")
    parser.add_argument("--models", default="popularity,repeat,item_knn,ease,mf")
    parser.add_argument("--device", default="auto", help="mf device: auto, cpu or cuda")
    parser.add_argument("--mf-epochs", type=int, default=MFConfig.epochs)
    parser.add_argument("--mf-loss", default=MFConfig.loss)
    parser.add_argument("--validation-days", type=float, default=30.0)
    parser.add_argument("--implicit", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help=f"the first {SMOKE_ROWS:,} rows, cut {SMOKE_CUT}, mf 2 epochs, with --implicit: seconds")
    args = parser.parse_args()
    if args.smoke:
        args.cut, args.validation_days, args.mf_epochs, args.implicit = SMOKE_CUT, 3.0, 2, True

    started = time.perf_counter()
    data = load_online_retail(nrows=SMOKE_ROWS if args.smoke else None)
    print(f"loaded {len(data.events)} events, {data.n_users} users, {data.n_items} items "
          f"in {time.perf_counter() - started:.1f}s")
    split = temporal_split(data, args.cut, validation_days=args.validation_days)
    print("split:", split.name, split.describe())
    train = split.train_and_validation()
    truth = split.test_items()
    seen = train.matrix(binary=True)
    users = split.warm_users()
    print(f"evaluating {len(users)} warm test users of {len(split.test_users())}")
    print(f"{'model':<12}{'fit_s':>8}{'score_s':>9}{'ndcg@10':>9}{'rec@20':>8}{'ndcg@10 new':>13}{'rec@20 new':>12}")
    for name in args.models.split(","):
        cls = REGISTRY[name]
        config = cls.Config()
        if name == "mf":
            config = replace(config, device=args.device, epochs=args.mf_epochs, loss=args.mf_loss)
        model = cls(config)
        t0 = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        m = evaluate(model, seen, truth, users)
        score_s = time.perf_counter() - t0
        print(f"{name:<12}{fit_s:>8.2f}{score_s:>9.2f}{m['ndcg@10']:>9.4f}{m['recall@20']:>8.4f}"
              f"{m['ndcg@10_new']:>13.4f}{m['recall@20_new']:>12.4f}", flush=True)
        if name == "mf":
            rate = np.median([h["samples_per_s"] for h in getattr(model, "history_", [])])
            print(f"{'':<12}mf on {config.device}: {rate:,.0f} interactions/s (median epoch), {config.epochs} epochs")
    if args.implicit:
        t0 = time.perf_counter()
        als = ImplicitALS().fit(train)
        fit_s = time.perf_counter() - t0
        m = evaluate(als, seen, truth, users)
        print(f"{'implicit-als':<12}{fit_s:>8.2f}{'':>9}{m['ndcg@10']:>9.4f}{m['recall@20']:>8.4f}"
              f"{m['ndcg@10_new']:>13.4f}{m['recall@20_new']:>12.4f}")


if __name__ == "__main__":
    main()
