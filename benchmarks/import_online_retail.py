"""Import the full UCI Online Retail file into PostgreSQL through the import service; print rows/s and peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/recsite_bench .venv/bin/python benchmarks/import_online_retail.py

Goal: ≥ 20,000 rows/s and < 1 GB peak RSS on a 2-core machine. The database named in
DATABASE_URL is created when missing and migrated; each run imports into a fresh catalog.
Rows without CustomerID become anonymous events; cancellations (negative quantity) become returns.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared" / "data" / "online-retail" / "online_retail.csv.gz"
MAPPING = {"InvoiceNo": "session", "StockCode": "product", "Description": "title", "Quantity": "quantity",
           "InvoiceDate": "timestamp", "UnitPrice": "price", "CustomerID": "shopper"}


def _ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("source", nargs="?", type=Path, default=SOURCE, help=f"default {SOURCE}")
    parser.add_argument("--keep", action="store_true", help="keep the imported catalog (default: delete it)")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/recsite_bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recsite.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("This benchmark measures the PostgreSQL fast path: set DATABASE_URL=postgres://…")
    sys.path.insert(0, str(ROOT))
    _ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    from dashboard.models import Catalog, Event
    from dashboard.services.catalogs import catalog_create
    from dashboard.services.imports import import_file

    call_command("migrate", verbosity=0)
    source = args.source
    slug = f"bench-{int(time.time())}"
    catalog = catalog_create(name=f"Online Retail benchmark {slug}", slug=slug)
    start = time.perf_counter()
    batch = import_file(catalog=catalog, kind="events", path=source, mapping=MAPPING, unknown_products="create")
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    rows = batch.rows_total or 0
    print(f"file: {source.name} ({source.stat().st_size / 1e6:.1f} MB), status: {batch.status}")
    print(f"rows read: {rows:,}; events imported: {batch.rows_imported:,}; rejected: {batch.rows_rejected:,}; "
          f"duplicates: {batch.rows_duplicate:,}")
    print(f"products created: {batch.products_created:,}; shoppers created: {batch.shoppers_created:,}; "
          f"returns: {Event.objects.filter(catalog=catalog, type='return').count():,}; "
          f"anonymous: {Event.objects.filter(catalog=catalog, shopper__isnull=True).count():,}")
    print(f"time: {seconds:.1f} s (whole service call: upload copy, validate, write, commit)")
    print(f"rate: {rows / seconds:,.0f} rows/s (goal ≥ 20,000)")
    print(f"peak RSS: {peak_mib:,.0f} MiB (goal < 1,024)")
    if not args.keep:
        Catalog.objects.filter(pk=catalog.pk).delete()


if __name__ == "__main__":
    main()
