"""Real time through the storefront API: events sent at a sustained rate reach the online state within a second.

    make test   # once: builds .venv
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/recsite_bench_realtime \\
        .venv/bin/python benchmarks/realtime.py [--rate 500] [--duration 60]
    .venv/bin/python benchmarks/realtime.py --smoke      # seconds: SQLite, 100 events/s for 3 s

Set-up: the benchmark's own database (``DATABASE_URL``, created when missing; without it the embedded
SQLite of ``var/bench/realtime``), migrated; a catalog ``realtime`` with 2,000 products in 20 categories
plus one "probe" product per probe, each alone in its own category; a secret token with every scope
and a 10,000,000/min throttle. The online state lives in a ``redis-server`` this benchmark starts on a free
port (``ONLINE_STATE_URL`` set: that one instead; no ``redis-server``: each process's memory).
``gunicorn recsite.wsgi -w 2`` (``benchmarks/api_server.py``) serves the API.

Load: sender threads POST batches of ``--batch`` view/click/add-to-cart events (unique ``event_id``, 5,000
shoppers, sessions, products by a Zipf law), paced so that ``--rate`` events a second go out for
``--duration`` seconds. Four times a second a probe posts one click on its own probe product (counted in
the rate) and polls ``GET …/trending?category=<its category>`` until the product shows: its
event-to-effect lag runs from the API's answer (202: stored) to the first answer that shows it (the
lag from sending, POST included, is printed beside it). After the run the benchmark waits up to 30 s for the state
to catch up, then counts ``lost``: events acknowledged (202) but not stored, plus stored events the
online state never applied (ids above its cursor), plus probes still not visible then (events in failed requests
are not acknowledged, so not lost: they are printed beside it and fail the goal).

Prints the achieved rate, lag percentiles, request latencies and the machine's load, then last:
``realtime: <n> events/s for <s> s, event-to-effect p95 <ms> ms, lost <k>``. Goal: p95 < 1,000 ms, lost 0.
The machine is shared: the load average before and after is printed beside the figures.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from api_server import free_port, log, server_start, server_stop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SLUG = "realtime"
CATEGORIES = 20
PROBES_PER_S = 4
PROBE_TIMEOUT_S = 10.0
POLL_S = 0.05
TYPES = ("view", "view", "view", "click", "add_to_cart")


def redis_start(folder: Path) -> tuple[subprocess.Popen[bytes] | None, str]:
    """This run's own redis-server (no persistence), or ``ONLINE_STATE_URL`` when set, or memory."""
    if os.environ.get("ONLINE_STATE_URL"):
        return None, os.environ["ONLINE_STATE_URL"]
    if shutil.which("redis-server") is None:
        log("no redis-server on PATH: the online state stays in each process's memory")
        return None, "memory://"
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import socket

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    process.kill()
    sys.exit(f"redis-server did not listen on port {port}")


def database_ensure() -> None:
    """Create the PostgreSQL database ``DATABASE_URL`` names when it is missing."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup(probes: int, products: int) -> tuple[Any, str]:
    """The catalog (made once, probes added as needed) and a fresh token's key."""
    from bench_db import setup_django

    database_ensure()
    setup_django("realtime")
    from dashboard.models import Catalog, Product, Scope, TokenKind
    from dashboard.services.api_tokens import api_token_create

    catalog, _ = Catalog.objects.get_or_create(slug=SLUG, defaults={"name": "Real-time benchmark"})
    have = set(Product.objects.filter(catalog=catalog).values_list("external_id", flat=True))
    wanted = [Product(catalog=catalog, external_id=f"p{i}", title=f"Product {i}",
                      category_path=f"Dept {i % CATEGORIES} > Shelf {i % 7}") for i in range(products)]
    wanted += [Product(catalog=catalog, external_id=f"probe{i}", title=f"Probe {i}",
                       category_path=f"Probes > Probe {i}") for i in range(probes)]
    Product.objects.bulk_create([p for p in wanted if p.external_id not in have], batch_size=2000)
    _token, key = api_token_create(name=f"realtime benchmark {dt.datetime.now():%Y-%m-%d %H:%M:%S}",
                                   kind=TokenKind.SECRET, scopes=list(Scope.values), catalogs=[catalog],
                                   throttle_per_minute=10_000_000)
    return catalog, key


def call(url: str, key: str, body: Any = None) -> tuple[int, Any, float]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Authorization": f"Bearer {key}",
                                                              "Content-Type": "application/json"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.loads(response.read() or b"null")
            status = response.status
    except urllib.error.HTTPError as e:
        status, payload = e.code, None
    except OSError:
        status, payload = 0, None
    return status, payload, (time.perf_counter() - t0) * 1000


class Load:
    """The senders' and probes' shared tallies."""

    def __init__(self, base: str, key: str, run: str, *, rate: int, duration: float, batch: int,
                 products: int) -> None:
        self.base, self.key, self.run = base, key, run
        self.rate, self.duration, self.batch, self.products = rate, duration, batch, products
        self.lock = threading.Lock()
        self.acked = 0
        self.sent = 0
        self.failed = 0
        self.post_ms: list[float] = []
        self.lags_ms: list[float] = []  # stored (the API's 202) → visible
        self.send_lags_ms: list[float] = []  # sent → visible
        self.unseen: list[tuple[str, str]] = []  # probes not visible within PROBE_TIMEOUT_S
        self.next_batch = 0
        self.zipf = np.random.default_rng(0).zipf(1.3, size=1_000_000) % products

    def events(self, n: int, number: int) -> list[dict[str, Any]]:
        rng = np.random.default_rng(number)
        out = []
        for i in range(n):
            j = number * self.batch + i
            out.append({"event_id": f"{self.run}-{j}", "type": TYPES[j % len(TYPES)],
                        "shopper_id": f"s{int(rng.integers(5000))}", "session_id": f"t{int(rng.integers(20000))}",
                        "product_id": f"p{int(self.zipf[j % len(self.zipf)])}"})
        return out

    def sender(self, started: float, per_batch: int) -> None:
        while True:
            with self.lock:
                number = self.next_batch
                self.next_batch += 1
            due = started + number * per_batch / self.rate
            if due - started >= self.duration:
                return
            time.sleep(max(0.0, due - time.perf_counter()))
            events = self.events(per_batch, number)
            status, body, ms = call(f"{self.base}events", self.key, {"events": events})
            with self.lock:
                self.sent += len(events)
                self.post_ms.append(ms)
                if status == 202 and body:
                    self.acked += int(body["stored"]) + int(body["duplicates"])
                else:
                    self.failed += len(events)

    def probe(self, started: float, number: int) -> None:
        due = started + number / PROBES_PER_S
        time.sleep(max(0.0, due - time.perf_counter()))
        product, category = f"probe{number}", f"Probes > Probe {number}"
        event = {"event_id": f"{self.run}-probe-{number}", "type": "click", "session_id": f"probe-{number}",
                 "product_id": product}
        sent_at = time.perf_counter()
        status, body, _ms = call(f"{self.base}events", self.key, {"events": [event]})
        stored_at = time.perf_counter()
        with self.lock:
            self.sent += 1
            if status == 202 and body:
                self.acked += 1
            else:
                self.failed += 1
                return
        query = urllib.parse.urlencode({"category": category, "n": 1})
        while time.perf_counter() - stored_at < PROBE_TIMEOUT_S:
            if self.shows(query, product):
                seen = time.perf_counter()
                with self.lock:
                    self.lags_ms.append((seen - stored_at) * 1000)
                    self.send_lags_ms.append((seen - sent_at) * 1000)
                return
            time.sleep(POLL_S)
        with self.lock:
            self.unseen.append((query, product))

    def shows(self, query: str, product: str) -> bool:
        status, body, _ms = call(f"{self.base}trending?{query}", self.key)
        return status == 200 and bool(body) and [it["item_id"] for it in body["items"]] == [product]


def catch_up_and_count(catalog: Any, run: str, acked: int) -> tuple[int, int, int]:
    """(events stored with this run's ids, stored events the online state has not applied after up to 30 s,
    seconds waited)."""
    from dashboard.models import Event, OnlineState

    stored = Event.objects.filter(catalog=catalog, event_id__startswith=f"{run}-")
    count = stored.count()
    last = stored.order_by("-id").values_list("id", flat=True).first() or 0
    waited = 0
    while waited < 30:
        cursor = OnlineState.objects.filter(catalog=catalog).values_list("applied_event_id", flat=True).first() or 0
        if cursor >= last:
            return count, 0, waited
        time.sleep(1)
        waited += 1
    cursor = OnlineState.objects.filter(catalog=catalog).values_list("applied_event_id", flat=True).first() or 0
    return count, stored.filter(id__gt=cursor).count(), waited


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=500, help="events per second to send")
    parser.add_argument("--duration", type=float, default=60, help="seconds to send for")
    parser.add_argument("--batch", type=int, default=25, help="events per POST")
    parser.add_argument("--senders", type=int, default=6, help="concurrent sender threads")
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--smoke", action="store_true", help="100 events/s for 3 s, 1 worker (seconds)")
    args = parser.parse_args()
    if args.smoke:
        args.rate, args.duration, args.products, args.workers, args.senders = 100, 3.0, 200, 1, 2
    probes = int(args.duration * PROBES_PER_S) + 1
    folder = Path(tempfile.mkdtemp(prefix="realtime-"))
    redis, url = redis_start(folder)
    os.environ["ONLINE_STATE_URL"] = url
    server = None
    try:
        catalog, key = setup(probes, args.products)
        from django.db import connection

        connection.close()
        env = {"ONLINE_STATE_URL": url, "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50), "LOG_LEVEL": "WARNING",
               "ALLOWED_HOSTS": "127.0.0.1,localhost", "DATABASE_CONN_MAX_AGE": "60",
               "VAR_DIR": os.environ["VAR_DIR"], "DJANGO_SETTINGS_MODULE": "recsite.settings"}
        if os.environ.get("DATABASE_URL"):
            env["DATABASE_URL"] = os.environ["DATABASE_URL"]
        port = free_port()
        server = server_start(port, Path(os.environ["VAR_DIR"]) / "realtime-gunicorn.log", env, workers=args.workers)
        base = f"http://127.0.0.1:{port}/api/v1/catalogs/{SLUG}/"
        call(f"{base}trending", key)  # every worker's first request loads settings
        load_before = os.getloadavg()
        run = f"rt{uuid.uuid4().hex[:8]}"
        load = Load(base, key, run, rate=args.rate - PROBES_PER_S, duration=args.duration, batch=args.batch,
                    products=args.products)
        log(f"sending {args.rate} events/s for {args.duration:g} s ({url.split('://')[0]} online state, "
            f"{'PostgreSQL' if os.environ.get('DATABASE_URL', '').startswith('postgres') else 'SQLite'})")
        started = time.perf_counter()
        threads = [threading.Thread(target=load.sender, args=(started, args.batch)) for _ in range(args.senders)]
        threads += [threading.Thread(target=load.probe, args=(started, n)) for n in range(probes - 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - started
        stored, unapplied, waited = catch_up_and_count(catalog, run, load.acked)
        never = [product for query, product in load.unseen if not load.shows(query, product)]  # late is not lost
        load_after = os.getloadavg()
    finally:
        if server is not None:
            server_stop(server)
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
    not_stored = max(load.acked - stored, 0)
    lost = not_stored + unapplied + len(never)
    lags = np.asarray(load.lags_ms) if load.lags_ms else np.asarray([float("nan")])
    posts = np.asarray(load.post_ms) if load.post_ms else np.asarray([float("nan")])
    rate = load.sent / seconds
    print(f"machine: {os.cpu_count()} cores, load average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
          "(shared: other jobs run beside this benchmark)")
    print(f"sent {load.sent} events in {seconds:.1f} s ({rate:.0f}/s), {load.acked} acknowledged, {load.failed} in "
          f"failed requests; {stored} stored; online state caught up {waited} s after the run")
    print(f"POST events ({args.batch} per batch): p50 {np.percentile(posts, 50):.0f} ms, p95 "
          f"{np.percentile(posts, 95):.0f} ms, p99 {np.percentile(posts, 99):.0f} ms")
    sends = np.asarray(load.send_lags_ms) if load.send_lags_ms else np.asarray([float("nan")])
    print(f"event-to-effect ({len(load.lags_ms)} probes, stored (202) → visible in GET trending): p50 "
          f"{np.percentile(lags, 50):.0f} ms, p95 {np.percentile(lags, 95):.0f} ms, max {np.max(lags):.0f} ms; "
          f"from sending: p50 {np.percentile(sends, 50):.0f} ms, p95 {np.percentile(sends, 95):.0f} ms; "
          f"{len(load.unseen)} probes not visible within {PROBE_TIMEOUT_S:g} s of being stored, {len(never)} never")
    print(f"lost: {not_stored} acknowledged but not stored, {unapplied} stored but not applied, "
          f"{len(never)} probes never visible (and {load.failed} events in failed requests, not acknowledged)")
    p95 = float(np.percentile(lags, 95))
    late = len(load.unseen) - len(never)  # visible only after PROBE_TIMEOUT_S: beyond any p95 goal
    goal = "met" if p95 < 1000 and lost == 0 and not load.failed and not late else "NOT met"
    print(f"goal p95 < 1,000 ms and lost 0: {goal}")
    print(f"realtime: {rate:.0f} events/s for {seconds:.0f} s, event-to-effect p95 {p95:.0f} ms, lost {lost}")
    if args.smoke and (lost or load.failed or not load.lags_ms):
        sys.exit(f"smoke: {lost} events lost, {load.failed} in failed requests, {len(load.lags_ms)} probes seen")


if __name__ == "__main__":
    main()
