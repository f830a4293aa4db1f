"""Convert UCI Online Retail to the E/P files of ``python -m mlcore``.

    python benchmarks/online_retail_to_ep.py ../shared/data/online-retail/online_retail.csv.gz OUTDIR

Events (E): ``user_id`` = CustomerID (rows without one dropped), ``item_id`` = StockCode,
``timestamp`` = InvoiceDate, ``type`` = ``return`` for cancellation invoices (prefix C)
else ``purchase``, ``quantity`` = Quantity (absolute value; the type carries the sign).
Products (P): ``item_id``, ``title`` = the code's most frequent Description, ``price`` =
its median UnitPrice (a numeric attribute the graph bins). Cleaning (returns cancel their
purchases, non-product codes such as POST, duplicates) is left to mlcore's cleaning step.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from ep_files import convert_main

DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "shared/data/online-retail/online_retail.csv.gz"


def convert(source: Path = DEFAULT_SOURCE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events, products) frames in the E/P layout."""
    dtypes: dict[str, str] = {"InvoiceNo": "str", "StockCode": "str", "CustomerID": "Int64"}
    raw = pd.read_csv(source, dtype=dtypes)
    raw = raw[raw["CustomerID"].notna()]
    events = pd.DataFrame(
        {
            "user_id": raw["CustomerID"].astype("int64").astype(str),
            "item_id": raw["StockCode"].str.strip().str.upper(),
            "timestamp": pd.to_datetime(raw["InvoiceDate"]),
            "type": raw["InvoiceNo"].str.startswith("C").map({True: "return", False: "purchase"}),
            "quantity": raw["Quantity"].abs(),
        }
    )
    all_rows = pd.read_csv(source, dtype={"StockCode": str}, usecols=["StockCode", "Description", "UnitPrice"])
    all_rows["item_id"] = all_rows["StockCode"].str.strip().str.upper()
    all_rows = all_rows[all_rows["Description"].notna() & (all_rows["UnitPrice"] > 0)]
    titles = all_rows.groupby("item_id")["Description"].agg(lambda s: s.str.strip().value_counts().index[0])
    prices = all_rows.groupby("item_id")["UnitPrice"].median().round(2)
    products = pd.DataFrame({"item_id": titles.index, "title": titles.to_numpy(), "price": prices.reindex(titles.index).to_numpy()})
    return events, products


def main(argv: list[str]) -> int:
    return convert_main(argv, convert, DEFAULT_SOURCE, "var/online-retail")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
