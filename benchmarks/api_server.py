"""The load benchmark's server side: gunicorn started and stopped, its CPU time read, every worker warmed up.

A helper of ``benchmarks/api_load.py`` (not run on its own).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WARM_KINDS = ("floor", "shopper", "guest", "search", "events")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_start(port: int, logfile: Path, server_env: dict[str, str], *, workers: int = 2) -> subprocess.Popen[bytes]:
    """gunicorn (``workers`` sync workers, one BLAS/torch thread each) on ``port``, once it answers health/live."""
    env = {**os.environ, **server_env, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "recsite.wsgi", "-w", str(workers), "--threads", "1",
               "-b", f"127.0.0.1:{port}", "--timeout", "120", "--graceful-timeout", "60"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=logfile.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited ({process.returncode}); see {logfile}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health/live", timeout=2) as r:
                if r.status == 200:
                    return process
        except urllib.error.HTTPError as e:
            process.kill()
            sys.exit(f"GET /api/v1/health/live answered {e.code}: is the API routed in recsite/urls.py?")
        except OSError:
            time.sleep(0.3)
    process.kill()
    sys.exit(f"gunicorn did not answer /api/v1/health/live within 60 s; see {logfile}")


def server_stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM: gunicorn's workers finish, run their atexit hooks (the impression buffer's flush) and exit."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=90)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(server: subprocess.Popen[bytes]) -> tuple[float, float, float]:
    """(CPU seconds used so far by gunicorn's workers, by the whole machine; the clock): the workers' CPU per
    request is what a quiet machine would give, whatever else runs."""
    import psutil

    workers = sum(sum(w.cpu_times()[:2]) for w in psutil.Process(server.pid).children())
    times = psutil.cpu_times()
    busy = ("user", "nice", "system", "irq", "softirq", "steal")  # Linux: guest time is already in user
    return workers, sum(getattr(times, field, 0.0) for field in busy), time.monotonic()


def _get(url: str, key: str, body: dict[str, Any] | None = None) -> tuple[int, float]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Authorization": f"Bearer {key}",
                                                              "Content-Type": "application/json"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=180) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as e:
        status = e.code
    return status, (time.perf_counter() - t0) * 1000


def warm_up(base: str, key: str, work: dict[str, Any], *, concurrency: int = 6, rounds: int = 40) -> int:
    """At least 3 rounds of ``concurrency`` parallel requests of every kind, until a whole round answers within
    2 s each (a worker loading the model or the search index takes longer); returns the number of rounds."""
    rng = random.Random(1)
    results: list[tuple[str, int, float]] = []
    for number in range(1, rounds + 1):
        batch = [{"event_id": f"warm-{number}-{i}", "type": "view", "shopper_id": work["shoppers"][i],
                  "product_id": work["products"][i], "timestamp": dt.datetime.now(dt.UTC).isoformat()}
                 for i in range(20)]
        calls: list[tuple[str, str, dict[str, Any] | None]] = [("events", f"{base}events", {"events": batch})]
        for _ in range(concurrency):
            calls += [("floor", f"{base}token", None),
                      ("shopper", f"{base}recommendations?shopper={rng.choice(work['shoppers'])}&n=10", None),
                      ("guest", f"{base}recommendations?recent={rng.choice(work['products'])}&n=10", None),
                      ("search", f"{base}search?q={urllib.parse.quote(rng.choice(work['queries']))}&n=10", None)]
        results = []
        threads = [threading.Thread(target=lambda k=k, u=u, b=b, out=results: out.append((k, *_get(u, key, b))))
                   for k, u, b in calls if k in WARM_KINDS]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        bad = sorted({(kind, status) for kind, status, _ in results if status >= 300})
        if bad:
            sys.exit(f"warm-up: {', '.join(f'{k} answered HTTP {s}' for k, s in bad)}; see the gunicorn log")
        if number >= 3 and max(ms for _, _, ms in results) < 2000:
            return number
    log(f"warm-up: still slow after {rounds} rounds (slowest {max(ms for _, _, ms in results):.0f} ms)")
    return rounds
