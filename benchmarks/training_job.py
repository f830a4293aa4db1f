"""Wall time of a whole training job (snapshot → clean → split → fit/tune/refit → evaluate → bundle → version),
run inline through the same service a Celery worker calls, with the per-signal fit times.

Usage (from the repo root, against the database in DATABASE_URL / VAR_DIR):
    .venv/bin/python benchmarks/training_job.py --catalog uk-gifts-demo [--signals popularity,item_knn,ease,mf]
        [--queue cpu|gpu] [--test-days 30]

Prints one line per phase and signal in seconds, the headline NDCG@10 and the device used.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recsite.settings")


def main() -> None:
    import django

    django.setup()
    from dashboard.models import Catalog, ModelVersion, TrainingJob
    from dashboard.services.training import training_job_run, training_job_start

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--signals", default="popularity,item_knn,ease,mf")
    parser.add_argument("--queue", default="cpu", choices=["cpu", "gpu"])
    parser.add_argument("--test-days", type=float, default=30)
    args = parser.parse_args()
    catalog = Catalog.objects.get(slug=args.catalog)
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
