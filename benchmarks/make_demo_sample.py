"""Make the bundled demo sample: the full, unchanged histories of 300 random Online Retail customers.

    .venv/bin/python benchmarks/make_demo_sample.py [SOURCE.csv.gz] [--customers 300] [--seed 7]

Writes ``dashboard/demo/online_retail_sample.csv.gz`` (rows copied verbatim, original order).
Only customers with 5 to 400 rows are drawn, so the sample stays small but gives the
recommenders real repeat behaviour.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared" / "data" / "online-retail" / "online_retail.csv.gz"
TARGET = ROOT / "dashboard" / "demo" / "online_retail_sample.csv.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default=str(SOURCE))
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    frame = pd.read_csv(args.source, dtype=str, keep_default_na=False)
    counts = frame.loc[frame["CustomerID"] != "", "CustomerID"].value_counts()
    eligible = np.sort(counts[(counts >= 5) & (counts <= 400)].index.to_numpy())
    chosen = set(np.random.default_rng(args.seed).choice(eligible, size=args.customers, replace=False))
    sample = frame[frame["CustomerID"].isin(chosen)]
    text = io.StringIO()
    sample.to_csv(text, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    with gzip.GzipFile(TARGET, "wb", mtime=0) as out:  # mtime=0: the same input gives the same bytes
        out.write(text.getvalue().encode())
    print(f"{len(sample):,} rows, {sample['CustomerID'].nunique()} customers, "
          f"{sample['StockCode'].nunique():,} products → {TARGET} ({TARGET.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
