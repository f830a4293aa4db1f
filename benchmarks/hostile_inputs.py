"""Hostile upload files through the upload and import services: each is refused cleanly, changes no row,
and no process goes past 500 MB.

    .venv/bin/python benchmarks/hostile_inputs.py            # full size, the default limits (minutes)
    .venv/bin/python benchmarks/hostile_inputs.py --smoke    # small files, small limits (seconds)

Files (generated under ``VAR_DIR/hostile``, small once compressed): one endless line (.csv.gz), 153 million
short rows (.csv.gz), a gzipped Parquet bomb, a CSV with 1,000,000 columns, one with 100,000 columns, and a
file exactly at the column limit that is accepted (its column-mapping page is paginated; the table gives
its size). Each file goes through ``import_upload`` (the web request: only a preview is read) and then,
stored as a queued batch as if its preview had passed, through ``import_run`` (the worker). Each input runs
in a fresh child process, so its peak memory (``ru_maxrss``) is its own (``--smoke``: one child for all).
The database is the benchmark's own (``benchmarks/bench_db.py``: SQLite under ``var/bench/hostile``
unless DATABASE_URL is set). Prints a table and last:
``hostile inputs: <n> tried, <k> refused cleanly, rows changed 0, peak <mb> MB``.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
MEMORY_GOAL_MB = 500
# name → (file name, builder, size); the sizes of the full run (issue figures), then of --smoke
FULL = {"endless_mb": 1000, "short_rows": 153_000_000, "bomb_mb": 1200, "huge_columns": 1_000_000,
        "wide_columns": 100_000, "at_limit": 1000}
SMOKE = {"endless_mb": 16, "short_rows": 200_000, "bomb_mb": 12, "huge_columns": 40_000, "wide_columns": 2_000,
         "at_limit": 100}
SMOKE_LIMITS = {"IMPORT_MAX_ROWS": "50000", "IMPORT_MAX_DECOMPRESSED_MB": "8", "IMPORT_MAX_LINE_KB": "64",
                "IMPORT_MAX_COLUMNS": "100"}


def _endless(path: Path, megabytes: int) -> None:
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(b"id,title\n")
        block = b"x" * (1 << 20)
        for _ in range(megabytes):
            out.write(block)


def _short_rows(path: Path, rows: int) -> None:
    block_rows = 1_000_000
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(b"id,title\n")
        block = b"1,2\n" * block_rows
        for _ in range(rows // block_rows):
            out.write(block)
        out.write(b"1,2\n" * (rows % block_rows))


def _bomb(path: Path, megabytes: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    plain = path.with_suffix("")  # .parquet
    group_rows = 400_000  # 100 bytes a row: 40 MB row groups
    group = pa.table({"id": pa.array(["A" * 96] * group_rows), "title": pa.array(["t"] * group_rows)})
    with pq.ParquetWriter(plain, group.schema, compression="none", use_dictionary=False) as writer:
        for _ in range(max(1, megabytes * (1 << 20) // (group_rows * 100))):
            writer.write_table(group)
    with plain.open("rb") as source, gzip.open(path, "wb", compresslevel=6) as out:
        while block := source.read(1 << 22):
            out.write(block)
    plain.unlink()


def _columns(path: Path, columns: int) -> None:
    with path.open("w") as out:
        out.write("id,title," + ",".join(f"c{i}" for i in range(columns - 2)) + "\n")
        out.write("A1,Mug," + ",".join("1" for _ in range(columns - 2)) + "\n")


def build(folder: Path, sizes: dict[str, int]) -> list[tuple[str, Path]]:
    """Generate the files (kept between runs when the same size is asked); returns (label, path) pairs."""
    folder.mkdir(parents=True, exist_ok=True)
    plan = [
        (f"endless line ({sizes['endless_mb']:,} MB, one line)", f"endless-{sizes['endless_mb']}.csv.gz",
         lambda p: _endless(p, sizes["endless_mb"])),
        (f"{sizes['short_rows']:,} short rows", f"rows-{sizes['short_rows']}.csv.gz",
         lambda p: _short_rows(p, sizes["short_rows"])),
        (f"gzipped Parquet bomb ({sizes['bomb_mb']:,} MB decoded)", f"bomb-{sizes['bomb_mb']}.parquet.gz",
         lambda p: _bomb(p, sizes["bomb_mb"])),
        (f"{sizes['huge_columns']:,} columns", f"columns-{sizes['huge_columns']}.csv",
         lambda p: _columns(p, sizes["huge_columns"])),
        (f"{sizes['wide_columns']:,} columns", f"columns-{sizes['wide_columns']}.csv",
         lambda p: _columns(p, sizes["wide_columns"])),
        (f"{sizes['at_limit']:,} columns (at the limit)", f"columns-{sizes['at_limit']}.csv",
         lambda p: _columns(p, sizes["at_limit"])),
    ]
    out = []
    for label, name, make in plan:
        path = folder / name
        if not path.exists():
            partial = folder / f".{name}.partial"
            make(partial)
            partial.rename(path)
        out.append((label, path))
    return out


def _rows(catalog) -> int:  # type: ignore[no-untyped-def]
    from dashboard.models import Event, Product

    return Product.objects.filter(catalog=catalog).count() + Event.objects.filter(catalog=catalog).count()


def _short(message: str) -> str:
    return message.replace("\n", " ")[:110]


def try_one(label: str, path: Path) -> dict[str, object]:
    """Upload ``path`` (the web request), then import it as a queued batch (the worker); in this process."""
    from django.core.files import File

    from dashboard.models import Catalog, ImportBatch, ImportStatus
    from dashboard.services.imports import ImportInputError, import_run, import_upload

    slug = f"hostile-{int(time.time() * 1000) % 10**9}"
    catalog = Catalog.objects.create(name=slug, slug=slug)  # the row alone: catalog_create loads the engine
    before = _rows(catalog)
    result: dict[str, object] = {"input": label, "compressed_mb": path.stat().st_size / 2**20}
    started = time.perf_counter()
    try:
        with path.open("rb") as handle:
            batch = import_upload(catalog=catalog, kind="products", file=File(handle, name=path.name))
        result["upload"] = "accepted"
    except ImportInputError as exc:
        result["upload"] = "refused: " + _short(str(exc))
        batch = ImportBatch(catalog=catalog, kind="products", original_name=path.name,
                            size_bytes=path.stat().st_size)
        with path.open("rb") as handle:
            batch.file.save(path.name, File(handle), save=False)
    result["upload_s"] = time.perf_counter() - started
    started = time.perf_counter()
    if "at the limit" in label:  # an acceptable file: only its mapping page is measured, nothing imported
        result["import"], result["refused"] = "not started (a valid file)", False
    else:
        batch.status, batch.mapping = ImportStatus.QUEUED, {"id": "id", "title": "title"}
        batch.save()
        done = import_run(batch=batch)
        result["import"] = f"{done.status}: " + _short(done.error_message or "")
        result["refused"] = done.status == ImportStatus.FAILED and bool(done.error_message)
    result["import_s"] = time.perf_counter() - started
    result["rows_changed"] = _rows(catalog) - before
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if result["upload"] == "accepted":
        result["_batch"] = batch.pk
    return result


def _add_page_size(result: dict[str, object]) -> None:
    """The mapping page of an accepted upload, measured after every peak was taken: the URL conf loads every
    page's libraries (torch, …), which no upload or import needs."""
    from django.test import Client

    from dashboard.models import ImportBatch

    batch = ImportBatch.objects.select_related("catalog").get(pk=result.pop("_batch"))
    ImportBatch.objects.filter(pk=batch.pk).update(status="draft", mapping={})
    try:
        result["page_kb"] = _page_kb(Client(), batch.catalog, batch)
    except Exception as exc:  # a site that does not load is reported, not a hostile-input failure
        result["upload"] = f"{result['upload']} (mapping page not rendered: {type(exc).__name__})"


def _page_kb(client, catalog, batch) -> float:  # type: ignore[no-untyped-def]
    """The size of the column-mapping page an admin sees for ``batch`` (KB)."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    user, _ = get_user_model().objects.get_or_create(username="hostile-admin", defaults={"is_superuser": True,
                                                                                         "is_staff": True})
    client.force_login(user)
    page = client.get(reverse("dashboard:import_detail", kwargs={"catalog": catalog.slug, "pk": batch.pk}),
                      HTTP_HOST="localhost")
    return len(page.content) / 1024


def child(pairs: list[tuple[str, Path]]) -> None:
    from bench_db import setup_django

    setup_django("hostile")
    import dashboard.services.imports  # noqa: F401 - the services' own libraries (pandas, pyarrow) count
    from dashboard.models import Catalog

    warm, _ = Catalog.objects.get_or_create(slug="hostile-warm", defaults={"name": "warm"})
    warm.save()  # saving a catalog loads the engine (its signals): part of the baseline, not of a file

    print("BASELINE " + str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), flush=True)
    results = [try_one(label, path) for label, path in pairs]
    for result in results:
        if "_batch" in result:
            _add_page_size(result)
        print("RESULT " + json.dumps(result), flush=True)


def _spawn(pairs: list[tuple[str, Path]], env: dict[str, str]) -> list[dict]:
    args = [sys.executable, __file__, "--child", json.dumps([[label, str(path)] for label, path in pairs])]
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT)
    results = [json.loads(line[7:]) for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    base = [float(line[9:]) for line in done.stdout.splitlines() if line.startswith("BASELINE ")]
    for r in results:
        r["baseline_mb"] = base[0] if base else 0.0
    if done.returncode != 0 or len(results) != len(pairs):
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        sys.exit(f"the child for {pairs[0][0]} exited with {done.returncode}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="small files and small limits (seconds)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child([(label, Path(path)) for label, path in json.loads(args.child)])
        return
    os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "bench" / "hostile"))
    env = dict(os.environ, LOG_LEVEL="ERROR", DJANGO_SETTINGS_MODULE="recsite.settings")
    if args.smoke:
        env.update(SMOKE_LIMITS)
    pairs = build(Path(os.environ["VAR_DIR"]) / "hostile", SMOKE if args.smoke else FULL)
    results = _spawn(pairs, env) if args.smoke else [r for pair in pairs for r in _spawn([pair], env)]
    limits = SMOKE_LIMITS if args.smoke else {"IMPORT_MAX_ROWS": "10000000", "IMPORT_MAX_DECOMPRESSED_MB": "1024",
                                              "IMPORT_MAX_LINE_KB": "1024", "IMPORT_MAX_COLUMNS": "1000"}
    print("limits: " + ", ".join(f"{k}={env.get(k, v)}" for k, v in limits.items()))
    print(f"{'input':<44} {'gz MB':>6} | {'upload (web request)':<60} | {'import (worker)':<60} | "
          f"{'rows':>4} | {'peak MB':>7} | {'+MB':>5}")
    for r in results:
        upload = r["upload"] + (f" (mapping page {r['page_kb']:.0f} KB)" if "page_kb" in r else "")
        print(f"{r['input']:<44} {r['compressed_mb']:>6.2f} | {upload[:60]:<60} | {r['import'][:60]:<60} | "
              f"{r['rows_changed']:>4} | {r['peak_mb']:>7.0f} | {r['peak_mb'] - r['baseline_mb']:>5.0f}")
        upload_s, import_s = f"  in {r['upload_s']:.1f} s", f"  in {r['import_s']:.1f} s"
        print(f"{'':<44} {'':>6} | {upload_s:<60} | {import_s:<60} |")
    hostile = [r for r in results if "at the limit" not in str(r["input"])]
    refused = sum(1 for r in hostile if r["refused"])
    changed = sum(int(r["rows_changed"]) for r in results)
    peak = max(float(r["peak_mb"]) for r in results)
    print(f"peak = the child process's maximum resident memory (ru_maxrss) through upload and import; "
          f"{max(float(r['baseline_mb']) for r in results):.0f} MB of it is the process before any file "
          "(Django, pandas and pyarrow)")
    ok = refused == len(hostile) and changed == 0 and peak < MEMORY_GOAL_MB
    print(f"goal: every hostile file refused with 0 rows changed and < {MEMORY_GOAL_MB} MB per process: "
          f"{'met' if ok else 'NOT met'}")
    print(f"hostile inputs: {len(hostile)} tried, {refused} refused cleanly, rows changed {changed}, peak {peak:.0f} MB")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
