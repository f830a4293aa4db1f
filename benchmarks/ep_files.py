"""Writing the events/products (E/P) files of ``python -m mlcore`` from a converter."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

Converter = Callable[[Path], tuple[pd.DataFrame, pd.DataFrame]]


def convert_main(argv: list[str], convert: Converter, default_source: Path, default_out: str) -> int:
    """``SCRIPT [SOURCE [OUTDIR]]``: convert SOURCE and write OUTDIR/events.csv.gz and OUTDIR/products.csv.gz."""
    source = Path(argv[0]) if argv else default_source
    out = Path(argv[1]) if len(argv) > 1 else Path(default_out)
    out.mkdir(parents=True, exist_ok=True)
    events, products = convert(source)
    events.to_csv(out / "events.csv.gz", index=False)
    products.to_csv(out / "products.csv.gz", index=False)
    print(f"{len(events)} events, {len(products)} products → {out}/events.csv.gz, {out}/products.csv.gz")
    return 0
