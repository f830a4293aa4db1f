"""Writing the events/products (E/P) files of ``python -m mlcore`` from a converter."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pandas as pd

Converter = Callable[[Path], tuple[pd.DataFrame, pd.DataFrame]]


def convert_main(argv: list[str], convert: Converter, default_source: Path, default_out: str) -> int:
    """``SCRIPT [SOURCE [OUTDIR]]``: convert SOURCE and write OUTDIR/events.csv.gz and OUTDIR/products.csv.gz."""
    import __main__

    parser = argparse.ArgumentParser(description=(__main__.__doc__ or "").split("\n")[0])
    parser.add_argument("source", nargs="?", type=Path, default=default_source, help=f"default {default_source}")
    parser.add_argument("out", nargs="?", type=Path, default=Path(default_out), help=f"default {default_out}")
    args = parser.parse_args(argv)
    source, out = args.source, args.out
    out.mkdir(parents=True, exist_ok=True)
    events, products = convert(source)
    events.to_csv(out / "events.csv.gz", index=False)
    products.to_csv(out / "products.csv.gz", index=False)
    print(f"{len(events)} events, {len(products)} products → {out}/events.csv.gz, {out}/products.csv.gz")
    return 0
