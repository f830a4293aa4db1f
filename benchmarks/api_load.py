"""Load test of the storefront REST API: gunicorn on PostgreSQL with an Online Retail model active, driven by locust.

    make test   # once: builds .venv (PostgreSQL on 127.0.0.1:5432, user postgres, trust)
    .venv/bin/python benchmarks/api_load.py [--fresh] [--duration 20] [--users 4] [--event-users 2]

Set-up (first run several minutes, later runs reuse it; ``--fresh`` redoes it): the database
``recsite_bench_api`` on 127.0.0.1:5432 is created and migrated (artifacts under ``var/bench-api``),
a catalog gets the whole ``../shared/data/online-retail`` file through the import service
(``dashboard.services.imports.import_file``), a version (popularity, item_knn, ease, mf; the dashboard's
first-model split) is trained inline through ``dashboard.services.training`` and promoted. Each run
then creates a fresh secret token with every scope and a 10,000,000/min throttle, and at the end removes
it with its impressions and the events it sent, so the reused database stays as built. Shoppers and
products come from the version's id maps (known to the model).

``gunicorn recsite.wsgi -w 2 --threads 1`` (DEBUG=false, DATABASE_CONN_MAX_AGE=60, one BLAS/torch thread
per worker) listens on a free loopback port; every worker is warmed with requests of every kind until a
whole concurrent round is fast, so no model loads while measuring. Then one headless locust process
(``benchmarks/api_locustfile.py``, FastHttpUser, no wait time) runs each phase for ``--duration`` seconds:
the floor (``GET catalogs/<slug>/token``: auth and throttle, nothing else); recommendations (80 % known
shoppers, 20 % guests with 1-3 recent items, n=10); search (queries made of words of the catalog's
titles, n=10); events (batches of 500 unique events, every 5th request re-sends an earlier batch).
gunicorn is then stopped gracefully (its workers flush buffered impressions at exit) and the database
is counted: every served list's ``X-Request-Id`` must have its ``Impression`` row, and every event id
sent must be stored exactly once. Latencies are the client's (connection included), from every request.
Per phase it also prints the gunicorn workers' CPU time per request and how busy the whole machine was:
figures far from the goals on a busy machine (other jobs running) are told apart from a slow code path.

Goals (2 cores for server, PostgreSQL and load generator together): recommendations >= 200 rps at
p99 < 50 ms with p50 within 3x the floor's; search >= 100 rps at p99 < 100 ms; >= 2,000 events/s,
each stored exactly once; an impression for every served list. The output is also written to
``benchmarks/results/api_load_cpu.txt`` (``--no-save`` skips it).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from api_server import cpu_seconds, free_port, log, server_start, server_stop, warm_up

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "data" / "online-retail" / "online_retail.csv.gz"
DATABASE = "postgres://postgres@127.0.0.1:5432/recsite_bench_api"
VAR = ROOT / "var" / "bench-api"
RESULTS = ROOT / "benchmarks" / "results" / "api_load_cpu.txt"
SLUG = "online-retail"
MAPPING = {"InvoiceNo": "session", "StockCode": "product", "Description": "title", "Quantity": "quantity",
           "InvoiceDate": "timestamp", "UnitPrice": "price", "CustomerID": "shopper"}
PARAMS = {"signals": ["popularity", "item_knn", "ease", "mf"],
          "split": {"kind": "temporal", "test_days": 30, "validation_days": 30}}
STOP = {"and", "the", "for", "with", "set", "of"}  # query words a shopper would not start or end with
PHASES = (("floor", "FloorUser"), ("recommendations", "RecommendationsUser"), ("search", "SearchUser"),
          ("events", "EventsUser"))
SERVER_ENV = {"DATABASE_URL": DATABASE, "VAR_DIR": str(VAR), "DEBUG": "false", "SECRET_KEY": "api-load-benchmark",
              "ALLOWED_HOSTS": "127.0.0.1,localhost", "DATABASE_CONN_MAX_AGE": "60", "LOG_LEVEL": "WARNING",
              "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "DJANGO_SETTINGS_MODULE": "recsite.settings"}
os.environ.update({k: v for k, v in SERVER_ENV.items() if k not in ("DEBUG", "SECRET_KEY")})
sys.path.insert(0, str(ROOT))


# --- set-up: database, import, training, token ---------------------------------------------------------------

def _fingerprint() -> str:
    return f"benchmark source {SOURCE.name} {SOURCE.stat().st_size} bytes; params {json.dumps(PARAMS, sort_keys=True)}"


def database_reset(*, drop: bool) -> None:
    """Create the benchmark database (dropping it first when ``drop``)."""
    import psycopg

    name = DATABASE.rsplit("/", 1)[1]
    with psycopg.connect(DATABASE.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if drop:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    if drop:
        for folder in ("artifacts", "media", "cache"):
            shutil.rmtree(VAR / folder, ignore_errors=True)


def reusable_version() -> Any:
    """The catalog's active version when it was built by this benchmark from the same file and params."""
    from dashboard.models import Catalog, ModelVersion, VersionState

    catalog = Catalog.objects.filter(slug=SLUG, description=_fingerprint()).first()
    version = catalog and ModelVersion.objects.filter(catalog=catalog, state=VersionState.ACTIVE).first()
    return version if version and Path(version.artifact_path, "meta.json").exists() else None


def build() -> Any:
    """Import Online Retail into a new catalog, train a version inline and promote it; returns the version."""
    from unittest import mock

    from dashboard.models import ModelVersion
    from dashboard.services.catalogs import catalog_create
    from dashboard.services.imports import import_file
    from dashboard.services.training import training_job_run, training_job_start
    from dashboard.services.versions import version_promote

    catalog = catalog_create(name="Online Retail (API load benchmark)", slug=SLUG, description=_fingerprint())
    t0 = time.perf_counter()
    batch = import_file(catalog=catalog, kind="events", path=SOURCE, mapping=MAPPING, unknown_products="create")
    log(f"imported {batch.rows_imported:,} events ({batch.status}) in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    with mock.patch("dashboard.services.training.current_app.send_task"):  # run inline, queue nothing
        job = training_job_start(catalog=catalog, params=PARAMS)
    status = training_job_run(job_id=job.pk)
    if status != "succeeded":
        job.refresh_from_db()
        sys.exit(f"training failed: {job.error}")
    version = version_promote(version=ModelVersion.objects.get(job=job), by=None)
    log(f"trained and promoted version {version.number} in {time.perf_counter() - t0:.0f} s")
    return version


def workload(version: Any, *, seed: int = 0) -> dict[str, Any]:
    """Shoppers and products the version knows (its id maps), and search queries made of the catalog's titles."""
    from dashboard.models import Product
    from mlcore.data import IdMap

    rng = random.Random(seed)
    folder = Path(version.artifact_path)
    shoppers = [str(s) for s in IdMap.load(folder / "users.json").ids]
    items = [str(i) for i in IdMap.load(folder / "items.json").ids]
    titles = list(Product.objects.filter(catalog=version.catalog, external_id__in=items).values_list("title", flat=True))
    queries: set[str] = set()
    while len(queries) < 300:
        words = [w for w in re.findall(r"[a-z][a-z'-]+", rng.choice(titles).lower()) if len(w) > 2]
        size = rng.choice((1, 2, 2, 3))
        start = rng.randrange(max(1, len(words) - size + 1))
        query = words[start:start + size]
        if query and query[0] not in STOP and query[-1] not in STOP:
            queries.add(" ".join(query))
    return {"shoppers": rng.sample(shoppers, min(2000, len(shoppers))),
            "products": rng.sample(items, min(2000, len(items))), "queries": sorted(queries)}


def token_create(catalog: Any) -> tuple[Any, str]:
    from dashboard.models import Scope, TokenKind
    from dashboard.services.api_tokens import api_token_create

    return api_token_create(name=f"api-load benchmark {dt.datetime.now():%Y-%m-%d %H:%M:%S}",
                              kind=TokenKind.SECRET, scopes=list(Scope.values), catalogs=[catalog],
                              throttle_per_minute=10_000_000)


def cleanup(catalog: Any, token: Any, prefix: str) -> None:
    """Leave the reused database as it was: this run's events, impressions and token go."""
    from dashboard.models import Event, Impression

    Event.objects.filter(catalog=catalog, event_id__startswith=f"{prefix}-").delete()
    Event.objects.filter(catalog=catalog, event_id__startswith="warm-").delete()
    Impression.objects.filter(token=token).delete()
    token.delete()


# --- the load phases --------------------------------------------------------------------------------------------

def phase(name: str, user_class: str, *, users: int, duration: int, host: str, work_file: Path,
          folder: Path) -> dict[str, Any]:
    """One headless locust run of ``user_class``; returns what its process wrote (see api_locustfile.py)."""
    out = folder / f"{name}.json"
    command = [str(ROOT / ".venv" / "bin" / "locust"), "-f", str(ROOT / "benchmarks" / "api_locustfile.py"),
               "--headless", "-u", str(users), "-r", "100", "-t", f"{duration}s", "--host", host,
               "--csv", str(folder / name), "--only-summary", "--stop-timeout", "30", "--loglevel", "WARNING",
               user_class]
    env = {**os.environ, "API_LOAD_WORK": str(work_file), "API_LOAD_OUT": str(out)}
    with (folder / f"{name}.log").open("wb") as logfile:
        subprocess.run(command, cwd=ROOT, env=env, stdout=logfile, stderr=subprocess.STDOUT, check=False)
    if not out.exists():
        sys.exit(f"locust wrote nothing for {name}; see {folder / name}.log")
    result = json.loads(out.read_text())
    result["seconds"] = result["stopped"] - result["started"]
    return result


def figures(result: dict[str, Any], name: str) -> tuple[float, float, float, int]:
    """(requests/s of successes, p50 ms, p99 ms, failures)."""
    times = np.asarray(result["latencies"].get(name, []), dtype=float)
    failed = len(result["failures"].get(name, []))
    if not len(times):
        return 0.0, float("nan"), float("nan"), failed
    return len(times) / result["seconds"], float(np.percentile(times, 50)), float(np.percentile(times, 99)), failed


def impressions_found(request_ids: list[str]) -> int:
    from dashboard.models import Impression

    return sum(Impression.objects.filter(request_id__in=request_ids[i:i + 5000]).count()
               for i in range(0, len(request_ids), 5000))


def events_stored(catalog: Any, prefix: str) -> tuple[int, int]:
    """(event ids of this run stored exactly once, rows stored with this run's ids)."""
    from django.db.models import Count

    from dashboard.models import Event

    rows = Event.objects.filter(catalog=catalog, event_id__startswith=f"{prefix}-")
    once = rows.values("event_id").annotate(c=Count("id")).filter(c=1).count()
    return once, rows.count()


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next((int(line.split()[1]) / 2**20 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0.0)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores {cpu}, {memory:.0f} GiB RAM, Python {platform.python_version()}, load avg {load}"


def setup(fresh: bool) -> Any:
    """The active version to serve: reused when this benchmark built it from the same file, else built."""
    import django

    database_reset(drop=fresh)
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from dashboard.models import Catalog

    call_command("migrate", verbosity=0)
    version = reusable_version()
    if version is not None:
        log(f"reusing version {version.number} of catalog {SLUG} (--fresh rebuilds it)")
        return version
    if Catalog.objects.exists():
        connection.close()
        database_reset(drop=True)
        call_command("migrate", verbosity=0)
    log("building: import, training and promotion (several minutes)")
    return build()


def report(results: dict[str, dict[str, Any]], *, impressions: tuple[int, int], stored: tuple[int, int]) -> list[str]:
    floor_rps, floor_p50, floor_p99, floor_failed = figures(results["floor"], "floor")
    rec_rps, rec_p50, rec_p99, rec_failed = figures(results["recommendations"], "recommendations")
    s_rps, s_p50, s_p99, s_failed = figures(results["search"], "search")
    ev = results["events"]
    ev_failed = len(ev["failures"].get("events", []))
    n = int(ev["unique_events"])
    ev_rate = n / ev["seconds"]
    found, served = impressions
    once, rows = stored

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    cpu = []
    for name in ("floor", "recommendations", "search", "events"):
        r = results[name]
        done = len(r["latencies"].get(name, [])) + len(r["failures"].get(name, []))
        cpu.append(f"{name} {1000 * r['cpu'][0] / max(done, 1):.1f} ms/request (workers {100 * r['cpu'][0] / r['seconds']:.0f} %, "
                   f"machine {100 * r['cpu'][1] / r['cpu'][2]:.0f} % of {100 * (os.cpu_count() or 1)} %)")
    lines = [
        "gunicorn workers' CPU: " + "; ".join(cpu),
        f"floor (GET token): {floor_rps:.0f} rps, p50 {floor_p50:.1f} ms, p99 {floor_p99:.1f} ms, {floor_failed} failed",
        f"failed requests: recommendations {rec_failed}, search {s_failed}, events {ev_failed}",
        f"event batches: {n} unique events in {len(ev['latencies'].get('events', [])) + ev_failed} requests; "
        f"{ev['resent_batches']} batches ({ev['resent_events']} events) re-sent; responses said {ev['reported_stored']} "
        f"stored, {ev['reported_duplicates']} duplicates; {rows} rows in the database with this run's ids",
        f"impressions: {found}/{served} served lists logged",
        "goals: recommendations "
        f">= 200 rps {met(rec_rps >= 200)}, p99 < 50 ms {met(rec_p99 < 50)}, p50 <= 3x floor {met(rec_p50 <= 3 * floor_p50)}; "
        f"search >= 100 rps {met(s_rps >= 100)}, p99 < 100 ms {met(s_p99 < 100)}; "
        f"events >= 2000/s {met(ev_rate >= 2000)}, exactly once {met(once == n == rows and not ev_failed)}; "
        f"impressions for every list {met(found == served)}",
        f"recommendations: {rec_rps:.0f} rps, p50 {rec_p50:.1f} ms, p99 {rec_p99:.1f} ms, floor p50 {floor_p50:.1f} ms",
        f"search: {s_rps:.0f} rps, p50 {s_p50:.1f} ms, p99 {s_p99:.1f} ms",
        f"events: {ev_rate:.0f} events/s, stored {once}/{n} exactly once",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="drop the benchmark database and build it again")
    parser.add_argument("--duration", type=int, default=20, help="seconds per phase")
    parser.add_argument("--users", type=int, default=4, help="concurrent locust users (floor, recommendations, search)")
    parser.add_argument("--event-users", type=int, default=2, help="concurrent users posting event batches")
    parser.add_argument("--batch", type=int, default=500, help="events per POST")
    parser.add_argument("--no-save", action="store_true", help=f"do not write {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args()
    started = time.perf_counter()
    before = machine()
    version = setup(args.fresh)
    from django.conf import settings
    from django.db import connection

    catalog = version.catalog
    token, key = token_create(catalog)
    work = {"slug": catalog.slug, "key": key, "batch": args.batch,
            "prefix": f"bench-{dt.datetime.now():%Y%m%d%H%M%S}-{os.getpid()}", **workload(version)}
    setup_line = (f"set-up: catalog {catalog.slug}, {catalog.events.count():,} events, version {version.number} "
                  f"({', '.join(sorted(version.signals))}), ready in {time.perf_counter() - started:.0f} s; "
                  f"{len(work['shoppers'])} shoppers, {len(work['products'])} products, {len(work['queries'])} queries")
    connection.close()  # no connection held open while measuring
    folder = VAR / "locust" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    work_file = folder / "work.json"
    work_file.write_text(json.dumps(work))
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    server = server_start(port, folder / "gunicorn.log", SERVER_ENV)
    results: dict[str, dict[str, Any]] = {}
    try:
        rounds = warm_up(f"{host}/api/v1/catalogs/{catalog.slug}/", work["key"], work)
        log(f"warm-up: {rounds} rounds; measuring {args.duration} s per phase")
        for name, user_class in PHASES:
            users = args.event_users if name == "events" else args.users
            cpu = cpu_seconds(server)
            results[name] = phase(name, user_class, users=users, duration=args.duration, host=host,
                                  work_file=work_file, folder=folder)
            results[name]["cpu"] = [b - a for a, b in zip(cpu, cpu_seconds(server), strict=True)]
            log(f"{name}: {len(results[name]['latencies'].get(name, []))} requests")
    finally:
        server_stop(server)
    time.sleep(2 * settings.API_IMPRESSION_FLUSH_S)
    served = results["recommendations"]["served"] + results["search"]["served"]
    lines = [setup_line, f"server: gunicorn -w 2 --threads 1 on 127.0.0.1, PostgreSQL, DEBUG=false; "
             f"locust {args.users} users ({args.event_users} for events), {args.duration} s per phase, "
             f"warm-up {rounds} rounds; files in {folder.relative_to(ROOT)}"]
    lines += report(results, impressions=(impressions_found(served), len(served)),
                    stored=events_stored(catalog, work["prefix"]))
    cleanup(catalog, token, work["prefix"])
    print("\n".join(lines))
    if not args.no_save:
        command = "HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/api_load.py " + " ".join(sys.argv[1:])
        RESULTS.write_text(f"# {command.strip()}\n# ({dt.date.today():%Y-%m-%d}; before: {before}; "
                           f"after: {machine().split('load avg ')[1]} load avg)\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
