"""Fit time and peak memory of every signal, and of a whole training job, as the catalogue grows.

Run from the repository root of a fresh clone, after ``make test`` has built ``.venv``::

    .venv/bin/python benchmarks/scale.py --help
    .venv/bin/python benchmarks/scale.py --smoke                 # seconds: 300 products, the cheap signals
    .venv/bin/python benchmarks/scale.py --sizes 1000,10000      # minutes on 2 cores
    .venv/bin/python benchmarks/scale.py --sizes 1000,10000,100000 --out benchmarks/results/scale_cpu.txt
    nice -n 10 .venv/bin/python benchmarks/scale.py --sizes 100000 --signals mf,text --parallel 3 \
        --timeout 3900 --merge OLD_TABLE --out NEW_TABLE   # the 100k rows at once, exponents over all

The catalogue: UCI Online Retail (``../shared/data/online-retail``, cleaned as the importer
cleans it: 3,645 products, 4,325 customers, 388k purchases) replicated until it has enough
products. Replica r renames every product ``<code>~r`` (its title gets ``", <variant>"``, one of
20 words, then ``"<word> no. r"`` past 20 replicas, so every title is distinct: the embedding
cache text uses has no hits within a run and all n texts are encoded, as a catalogue of n
distinct short titles would be) and every customer ``<id>~r``, shifts times by a few minutes,
and moves 5 % of its purchases to the same product of replica r + 1, so the replicas are linked
rather than disjoint blocks. ``n`` products are then drawn (seeded) and ``--events-per-product``
(50) purchases per product kept: 1k products ≈ 50k events, 100k products = 5M events.

Each (signal, size) is fitted in its own child process; its peak is the child's ``ru_maxrss``
(the kernel's VmHWM high-water mark of the child, as ru_maxrss would report it were it not
inherited across exec), and ``net`` is that peak minus the child's memory before the fit
(runtime plus data), so one signal's peak never masks another's; a child stopped at ``--timeout``
is reported with the high-water mark it had reached. ``--parallel`` fits that many children at
once (peaks stay per child; times then share the cores). ``job`` runs
:func:`mlcore.training.runner.run` (tune on validation, refit, evaluate; temporal split, 30 + 30
days as the dashboard's default) with ``--job-signals`` (default: the dashboard's default job,
popularity, item_knn and ease). ``text`` caches its embeddings as a dashboard job does. The
growth exponent is the least-squares slope of log(net peak) and log(fit seconds) against log(products); ``est`` is the signal's cost
model (:mod:`mlcore.recommenders.cost`) for the same workload, for calibration.
"""
from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from queue import Empty
from typing import Any

import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from mlcore.data import Dataset, clean_events, temporal_split
from mlcore.recommenders import get
from mlcore.recommenders.cost import MB, Workload
from mlcore.training.budget import estimate_job
from mlcore.training.runner import RunConfig, SignalSpec, run

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "online-retail" / "online_retail.csv.gz"
SIGNALS = ("popularity", "repeat", "item_knn", "ease", "mf", "kg", "text")
JOB_SIGNALS = ("popularity", "item_knn", "ease")  # the dashboard's default job (dashboard/views/training.py)
SMOKE_SIGNALS = ("popularity", "repeat", "item_knn", "ease")
VARIANTS = ("red", "blue", "green", "black", "white", "pink", "large", "small", "mini", "jumbo", "vintage",
            "gold", "silver", "retro", "classic", "deluxe", "set of 2", "set of 6", "striped", "spotty")
# fast settings where the defaults train for long: mf on the CPU, text without fine-tuning
CONFIGS: dict[str, dict[str, Any]] = {"mf": {"device": "cpu"}, "text": {"device": "cpu", "finetune": False}}


def online_retail() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cleaned purchase events and product titles of UCI Online Retail."""
    raw = pd.read_csv(DATA, dtype={"InvoiceNo": "str", "StockCode": "str", "CustomerID": "Int64"},
                      parse_dates=["InvoiceDate"])
    events = pd.DataFrame({"user_id": raw["CustomerID"].astype("string"), "item_id": raw["StockCode"].str.strip(),
                           "timestamp": raw["InvoiceDate"], "type": "purchase", "quantity": raw["Quantity"]})
    events, _ = clean_events(events)
    products = raw[["StockCode", "Description"]].dropna().drop_duplicates("StockCode")
    products = products.rename(columns={"StockCode": "item_id", "Description": "title"})
    products["item_id"] = products["item_id"].str.strip()
    return events.reset_index(drop=True), products[products["item_id"].isin(set(events["item_id"]))]


def scaled_catalog(n_products: int, events_per_product: int = 50, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events, products) with ``n_products`` products built from Online Retail as the docstring says."""
    events, products = online_retail()
    codes = pd.Index(products["item_id"].drop_duplicates())
    item = codes.get_indexer(events["item_id"])
    events = events[item >= 0]
    item = item[item >= 0]
    user_codes, user = np.unique(events["user_id"].astype(str).to_numpy(), return_inverse=True)
    stamp = events["timestamp"].to_numpy().astype("datetime64[ns]").astype(np.int64)
    n_base = len(codes)
    replicas = max(1, math.ceil(n_products / n_base))
    rng = np.random.default_rng(seed)
    parts = []
    for r in range(replicas):
        moved = (rng.random(len(item)) < 0.05) if replicas > 1 else np.zeros(len(item), dtype=bool)
        item_replica = np.where(moved, (r + 1) % replicas, r)
        shift = rng.integers(0, 600, len(item)) * 1_000_000_000  # up to 10 minutes
        parts.append((user + r * len(user_codes), item + item_replica * n_base, stamp + shift))
    users, items, stamps = (np.concatenate(p) for p in zip(*parts, strict=True))
    keep_items = np.sort(rng.choice(replicas * n_base, size=min(n_products, replicas * n_base), replace=False))
    on = np.isin(items, keep_items)
    users, items, stamps = users[on], items[on], stamps[on]
    want = events_per_product * len(keep_items)
    if len(items) > want:
        pick = np.sort(rng.choice(len(items), size=want, replace=False))
        users, items, stamps = users[pick], items[pick], stamps[pick]
    item_ids = pd.Series(codes.to_numpy()[keep_items % n_base]) + "~" + pd.Series(keep_items // n_base).astype(str)
    titles = products.drop_duplicates("item_id").set_index("item_id")["title"].reindex(codes).to_numpy()
    variant = pd.Series([VARIANTS[r % len(VARIANTS)] + ("" if r < len(VARIANTS) else f" no. {r}")
                         for r in keep_items // n_base])
    catalog = pd.DataFrame({"item_id": item_ids, "title": pd.Series(titles[keep_items % n_base]) + ", " + variant})
    position = np.searchsorted(keep_items, items)
    out = pd.DataFrame({
        "user_id": pd.Series(user_codes[users % len(user_codes)]) + "~" + pd.Series(users // len(user_codes)).astype(str),
        "item_id": item_ids.to_numpy()[position],
        "timestamp": pd.to_datetime(stamps),
        "type": "purchase",
        "quantity": 1,
    })
    return out, catalog


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


def _peak() -> int:
    """This process's peak resident memory. ru_maxrss survives fork + exec (a spawned child would
    report its parent's peak), so read the kernel's high-water mark VmHWM, which exec resets."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _config(name: str, folder: str) -> dict[str, Any] | None:
    """The benchmark's settings for ``name``; text caches its embeddings in ``folder`` as a dashboard job does."""
    config = CONFIGS.get(name)
    if name == "text":
        config = {**(config or {}), "cache_dir": str(Path(folder) / "embeddings")}
    return config


def _child(folder: str, what: str, job_signals: tuple[str, ...], queue: Any, threads: int = 2) -> None:
    """Fit one signal (or run the whole job) on the catalogue in ``folder``; report through ``queue``."""
    import torch

    torch.set_num_threads(threads)
    data = Dataset.from_frames(pd.read_parquet(Path(folder) / "events.parquet"),
                               pd.read_parquet(Path(folder) / "products.parquet"))
    data.matrix()  # the shared views every model reads
    before = _rss()
    started = time.perf_counter()
    if what == "job":
        cut = data.events["timestamp"].max() - pd.Timedelta(days=30)
        split = temporal_split(data, cut, validation_days=30)
        specs = tuple(SignalSpec.parse(name, _config(name, folder)) for name in job_signals)
        run(data, split, RunConfig(signals=specs))
    else:
        get(what)(SignalSpec.parse(what, _config(what, folder)).config).fit(data)
    queue.put({"seconds": time.perf_counter() - started, "peak": _peak(), "before": before})


def _high_water(pid: int) -> int:
    """A running child's VmHWM in bytes (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure_all(folder: Path, whats: list[str], job_signals: tuple[str, ...], timeout_s: float,
                parallel: int = 1) -> Iterator[tuple[str, dict[str, Any]]]:
    """Fit each of ``whats`` in its own spawned child, ``parallel`` at a time (each with
    ``2 // parallel`` torch threads, at least one), yielding (what, figures) as each ends; a child
    over ``timeout_s`` is stopped and reported with the high-water mark it had reached."""
    ctx = mp.get_context("spawn")
    threads = max(1, 2 // max(1, parallel))
    waiting = list(whats)
    running: dict[str, tuple[Any, Any, float, int]] = {}
    while waiting or running:
        while waiting and len(running) < max(1, parallel):
            what = waiting.pop(0)
            queue = ctx.Queue()
            child = ctx.Process(target=_child, args=(str(folder), what, job_signals, queue, threads))
            child.start()
            running[what] = (child, queue, time.monotonic(), 0)
        time.sleep(0.2)
        for what, (child, queue, started, high) in list(running.items()):
            high = max(high, _high_water(child.pid or 0))
            running[what] = (child, queue, started, high)
            if not queue.empty() or not child.is_alive():
                try:  # a child that just ended may still be flushing its figures
                    got = dict(queue.get(timeout=5))
                except Empty:
                    got = {}
                child.join()
                got = got or {"error": f"exit {child.exitcode}"}
            elif time.monotonic() - started > timeout_s:
                child.terminate()
                child.join()
                got = {"error": f"over {timeout_s:.0f} s, peak so far {high / MB:,.0f} MB"}
            else:
                continue
            del running[what]
            yield what, got


def read_rows(path: Path) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(signal, products, figures) of each measured row of a table this script wrote."""
    for line in path.read_text().splitlines():
        cells = line.split()
        if len(cells) >= 6 and cells[0] in (*SIGNALS, "job") and all(c.replace(".", "").isdigit() for c in cells[1:6]):
            yield cells[0], int(cells[1]), {"seconds": float(cells[3]), "peak": float(cells[4]) * MB,
                                            "before": (float(cells[4]) - float(cells[5])) * MB}


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log y against log x (nan with fewer than two points)."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len(pts) < 2:
        return float("nan")
    lx, ly = np.array(pts).T
    return float(np.polyfit(lx, ly, 1)[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="product counts, comma-separated")
    parser.add_argument("--signals", default=",".join(SIGNALS), help="signals fitted one by one")
    parser.add_argument("--job-signals", default=",".join(JOB_SIGNALS), help="signals of the whole job ('' for none)")
    parser.add_argument("--events-per-product", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per child before it is stopped")
    parser.add_argument("--smoke", action="store_true", help="300 products, cheap signals, small job: seconds")
    parser.add_argument("--parallel", type=int, default=1,
                        help="children fitted at once (each with 2 // parallel torch threads); peaks stay per child")
    parser.add_argument("--merge", type=Path, action="append", default=[],
                        help="a table of an earlier run whose rows join the growth exponents (rows measured now win)")
    parser.add_argument("--out", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]  # none: only the tables given with --merge
    signals = [s for s in args.signals.split(",") if s]
    job_signals = tuple(s for s in args.job_signals.split(",") if s)
    if args.smoke:
        sizes, signals, job_signals = [300], list(SMOKE_SIGNALS), ("popularity", "item_knn")
    rows: dict[str, dict[int, dict[str, Any]]] = {}
    lines = [f"# benchmarks/scale.py {' '.join(argv if argv is not None else sys.argv[1:])}",
             f"# {psutil.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB RAM; "
             f"{args.events_per_product} events per product",
             f"{'signal':<11}{'products':>9}{'events':>10}{'fit s':>9}{'peak MB':>9}{'net MB':>9}"
             f"{'est MB':>9}{'est s':>8}"]
    print("\n".join(lines), flush=True)

    def save() -> None:  # after every row, so a long run that is stopped keeps what it measured
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text("\n".join(lines) + "\n")

    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            events, products = scaled_catalog(n, args.events_per_product)
            events.to_parquet(Path(tmp) / "events.parquet")
            products.to_parquet(Path(tmp) / "products.parquet")
            pairs = events[["user_id", "item_id"]].drop_duplicates()
            workload = Workload(n_users=events["user_id"].nunique(), n_items=len(products),
                                n_interactions=len(pairs), n_events=len(events))
            del events, products, pairs
            whats = [*signals, *(["job"] if job_signals else [])]
            for what, got in measure_all(Path(tmp), whats, job_signals, args.timeout, args.parallel):
                names = job_signals if what == "job" else (what,)
                est = estimate_job([(s, SignalSpec.parse(s, CONFIGS.get(s)).config) for s in names], workload,
                                   budget_bytes=1)
                est_mb = (est.peak_bytes if what == "job" else est.signals[what].peak_bytes) / MB
                rows.setdefault(what, {})[n] = got
                if "error" in got:
                    line = f"{what:<11}{n:>9}{workload.events:>10}  {got['error']}"
                else:
                    line = (f"{what:<11}{n:>9}{workload.events:>10}{got['seconds']:>9.1f}{got['peak'] / MB:>9.0f}"
                            f"{(got['peak'] - got['before']) / MB:>9.0f}{est_mb:>9.0f}{est.seconds:>8.0f}")
                lines.append(line)
                print(line, flush=True)
                save()
    for path in args.merge:
        for what, n, got in read_rows(path):
            rows.setdefault(what, {}).setdefault(n, got)
    lines.append("")
    lines.append(f"{'growth exponent':<16}{'memory (net)':>13}{'time':>8}   (log-log slope over products)")
    for what, by_size in rows.items():
        ok = {n: r for n, r in by_size.items() if "error" not in r}
        ns = sorted(ok)
        mem = slope([float(n) for n in ns], [max(ok[n]["peak"] - ok[n]["before"], MB) for n in ns])
        secs = slope([float(n) for n in ns], [ok[n]["seconds"] for n in ns])
        lines.append(f"{what:<16}{mem:>13.2f}{secs:>8.2f}   sizes {','.join(map(str, ns))}")
    print("\n".join(lines[-len(rows) - 1:]), flush=True)
    save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
