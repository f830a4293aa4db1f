"""Wall time of a whole training job (snapshot → clean → split → fit/tune/refit → evaluate → bundle → version),
run inline through the same service a Celery worker calls, with the per-signal fit times.

Usage (from the repo root; the database in DATABASE_URL, else the benchmark's own SQLite database under
``var/bench/training-job``, migrated; see ``bench_db.py``):
    .venv/bin/python benchmarks/training_job.py [--catalog uk-gifts-demo] [--signals popularity,item_knn,ease,mf]
        [--queue cpu|gpu] [--test-days 30]
    .venv/bin/python benchmarks/training_job.py --smoke     # seconds: the demo catalog, popularity + item_knn

The demo catalog (``uk-gifts-demo``, the bundled Online Retail sample) is imported when it is missing.

Prints one line per phase and signal in seconds, the headline NDCG@10 and the device used.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def demo_catalog() -> Any:
    """The demo catalog, imported from the bundled sample when this database lacks it."""
    from dashboard.management.commands.bootstrap_demo import DEMO_FILE, DEMO_MAPPING, DEMO_NAME, DEMO_SLUG
    from dashboard.models import Catalog
    from dashboard.services.catalogs import catalog_create
    from dashboard.services.imports import import_file

    catalog = Catalog.objects.filter(slug=DEMO_SLUG).first()
    if catalog is None or not catalog.events.exists():
        catalog = catalog or catalog_create(name=DEMO_NAME, slug=DEMO_SLUG)
        import_file(catalog=catalog, kind="events", path=DEMO_FILE, mapping=DEMO_MAPPING, unknown_products="create")
    return catalog


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--catalog", default="uk-gifts-demo", help="catalog slug (default: the demo catalog)")
    parser.add_argument("--signals", default="popularity,item_knn,ease,mf")
    parser.add_argument("--queue", default="cpu", choices=["cpu", "gpu"])
    parser.add_argument("--test-days", type=float, default=30)
    parser.add_argument("--smoke", action="store_true", help="the demo catalog with popularity + item_knn")
    args = parser.parse_args()
    from bench_db import setup_django

    setup_django("training-job")
    from dashboard.models import Catalog, ModelVersion, TrainingJob
    from dashboard.services.training import training_job_run, training_job_start

    if args.smoke:
        args.catalog, args.signals = "uk-gifts-demo", "popularity,item_knn"
    catalog = demo_catalog() if args.catalog == "uk-gifts-demo" else Catalog.objects.get(slug=args.catalog)
    params = {"signals": args.signals.split(","),
              "split": {"kind": "temporal", "test_days": args.test_days, "validation_days": 30}}
    started = time.perf_counter()
    from unittest import mock

    with mock.patch("dashboard.services.training.current_app.send_task"):  # run inline, queue nothing
        job = training_job_start(catalog=catalog, params=params, queue=args.queue)
    snapshot = time.perf_counter() - started
    status = training_job_run(job_id=job.pk)
    total = time.perf_counter() - started
    job = TrainingJob.objects.get(pk=job.pk)
    print(f"catalog {catalog.slug}: {job.params['snapshot']['events']:,} events, "
          f"{job.params['snapshot']['products']:,} products; device {job.device}; status {status}")
    print(f"snapshot (launch)      {snapshot:8.2f} s")
    if status != "succeeded":
        print(job.error)
        return
    version = ModelVersion.objects.get(job=job)
    timings = version.report.timings
    for key in sorted(k for k in timings if k.startswith("fit:")):
        print(f"{key:<22} {timings[key]:8.2f} s")
    for key in ("tune", "evaluate"):
        if key in timings:
            print(f"{key:<22} {timings[key]:8.2f} s")
    print(f"whole job              {total:8.2f} s   NDCG@10 {version.ndcg10:.4f} ({version.metrics['scorer']})")


if __name__ == "__main__":
    main()
