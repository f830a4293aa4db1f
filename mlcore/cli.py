"""``python -m mlcore``: evaluate signals and train servable bundles from files, no Django.

    python -m mlcore evaluate --events E --products P --split temporal:2011-10-01
        [--exclude-seen] [--signals popularity,item_knn,ease,mf,text,kg] [--k 10] [--json OUT]
    python -m mlcore train ... --out DIR
    torchrun --nproc_per_node N -m mlcore train ... --recommenders mf,text --out DIR
    python -m mlcore search-eval --products P.jsonl.gz --queries Q.csv --qrels R.csv [--config NAME] [--json OUT]

Under torchrun ``mf`` and ``text`` train data-parallel (DDP) and rank 0 writes the output;
spell ``--signals`` as ``--recommenders`` there (torchrun reads ``--signals`` as its own option).

E has columns ``user_id,item_id,timestamp`` (+ optional ``type,quantity``); P has
``item_id,title`` (+ optional ``description,category,brand`` and attribute columns); the
dashboard importer's other column names work too. Files may be CSV, JSON Lines or Parquet,
optionally gzipped, and are checked as an import checks them (timestamps ISO 8601, Unix
seconds or milliseconds, DD/MM/YYYY …; row-numbered errors). Every event type needs a weight:
``--event-weights rating=1,view=0.5`` adds or changes types over the defaults. The split is
``temporal:<cut date>[:<V>d]`` (validation = the ``V`` days, else ``--validation-days``, before
the cut), ``temporal:last-<T>d``, ``leave-last-out[:n]`` or ``random[:<train>:<validation>:<test>]``.
A table goes to stdout, progress to stderr, the full report to ``--json``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, cast

from mlcore.data import (
    DEFAULT_EVENT_WEIGHTS,
    CleaningConfig,
    Dataset,
    Split,
    SplitSpec,
    clean_events,
    event_weights,
    parse_event_weights,
)
from mlcore.data.cleaning import non_product_mask
from mlcore.data.events import format_event_weights
from mlcore.data.files import read_events, read_products
from mlcore.data.splits import SPLIT_FORMS
from mlcore.evaluation import TuneConfig
from mlcore.fusion import hashed_text_vectors
from mlcore.runtime import Callback, distributed
from mlcore.training.budget import OverBudget, check_dataset
from mlcore.training.runner import FUSED, WEIGHTED, RunConfig, RunResult, SignalSpec, run

DEFAULT_SIGNALS = "popularity,repeat,item_knn,ease,mf,text,kg"


class UsageError(ValueError):
    """Bad command-line input; the message says how to fix it."""


class StderrCallback(Callback):
    """Progress lines on stderr, with seconds since start."""

    def __init__(self, quiet: bool = False) -> None:
        self.started = time.perf_counter()
        self.quiet = quiet
        self._last: dict[str, float] = {}

    def progress(self, *, phase: str, done: int, total: int, metrics: dict[str, float] | None = None) -> None:
        now = time.perf_counter()
        if self.quiet or (done < total and now - self._last.get(phase, 0.0) < 5.0):
            return
        self._last[phase] = now
        extra = " ".join(f"{k}={v:.4g}" for k, v in (metrics or {}).items())
        print(f"[{now - self.started:7.1f}s] {phase} {done}/{total} {extra}", file=sys.stderr, flush=True)

    def log(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.started:7.1f}s] {message}", file=sys.stderr, flush=True)


# -- input ------------------------------------------------------------------------------
def load_dataset(events: str | Path, products: str | Path | None, *, clean: bool = True,
                 event_weights: Mapping[str, float] = DEFAULT_EVENT_WEIGHTS) -> tuple[Dataset, dict[str, int]]:
    """Read (as an import reads), optionally clean (returns, non-product codes, duplicates) and index the files.

    Cleaning also drops non-product codes (postage, fees) from the catalogue.
    """
    try:
        ev = read_events(events, event_weights=event_weights)
        prods = read_products(products) if products is not None else None
    except ValueError as exc:  # InputError and ReadError: the message names the file, row and fix
        raise UsageError(str(exc)) from None
    report: dict[str, int] = {"rows_in": len(ev)}
    if clean:
        config = CleaningConfig()
        ev, cleaning = clean_events(ev, config)
        report = cleaning.as_dict()
        if prods is not None:
            prods = prods[~non_product_mask(prods["item_id"], config)]
    return Dataset.from_frames(ev, prods, event_weights=event_weights), report


def make_split(data: Dataset, text: str, *, validation_days: float = 30.0, seed: int = 0) -> Split:
    """The split ``text`` names (:class:`~mlcore.data.SplitSpec`); ``validation_days`` and ``seed`` fill in."""
    try:
        return SplitSpec.parse(text, validation_days=validation_days, seed=seed).make(data)
    except ValueError as exc:
        raise UsageError(f"--split: {exc}") from None


def parse_weights(text: str | None) -> dict[str, float]:
    """``--event-weights TYPE=W[,TYPE=W…]`` over the defaults."""
    try:
        return event_weights(parse_event_weights(text or ""))
    except ValueError as exc:
        raise UsageError(f"--event-weights: {exc}") from None


def parse_signals(names: str, settings: Sequence[str]) -> tuple[SignalSpec, ...]:
    """``names`` comma-separated; ``settings`` like ``text.finetune=true`` or ``ease.l2=200``."""
    from mlcore.recommenders import REGISTRY

    chosen = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in REGISTRY]
    if unknown:
        raise UsageError(f"--signals: unknown {', '.join(unknown)}; known: {', '.join(sorted(REGISTRY))}")
    overrides: dict[str, dict[str, Any]] = {n: {} for n in chosen}
    for item in settings:
        key, eq, value = item.partition("=")
        name, dot, field = key.partition(".")
        if not eq or not dot or name not in overrides:
            raise UsageError(f"--set {item!r}: use <signal>.<field>=<value> for a chosen signal ({', '.join(chosen)})")
        try:
            overrides[name][field] = json.loads(value)
        except json.JSONDecodeError:
            overrides[name][field] = value
    try:
        return tuple(SignalSpec.parse(n, overrides[n]) for n in chosen)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


# -- output -----------------------------------------------------------------------------
def format_table(result: RunResult, k: int, primary: str = "all") -> str:
    """One line per scorer: accuracy with and without seen items, the cold slice, fit time."""
    m, t = result.report.metrics, result.timings
    other = "exclude_seen" if primary == "all" else "all"
    head = (
        f"{'scorer':<28}{'R@' + str(k):>8}{'NDCG@' + str(k):>9}{'MRR':>7}{'HR':>7}{'MAP':>7}"
        f" |{'R@' + str(k) + '*':>8}{'NDCG*':>8} |{'coldR@20':>9}{'cov':>6}{'nov':>6}{'fit s':>8}"
    )
    lines = [f"split {result.split_name}: users all={result.report.users.get('all', 0)} "
             f"new-items={result.report.users.get('exclude_seen', 0)} cold={result.report.users.get('cold_start', 0)}; "
             f"* = {other.replace('_', ' ')}", head, "-" * len(head)]
    for name in m.get(primary, {}):
        a = m[primary][name]
        b = m.get(other, {}).get(name, {})
        c = m.get("cold_start", {}).get(name, {})
        fit = sum(v for key, v in t.items() if key.startswith(f"fit:{name}:"))
        lines.append(
            f"{name:<28}{a[f'recall@{k}']:8.4f}{a[f'ndcg@{k}']:9.4f}{a[f'mrr@{k}']:7.3f}{a[f'hit_rate@{k}']:7.3f}"
            f"{a[f'map@{k}']:7.3f} |{b.get(f'recall@{k}', float('nan')):8.4f}{b.get(f'ndcg@{k}', float('nan')):8.4f} |"
            f"{c.get('recall@20', float('nan')):9.4f}{a.get(f'coverage@{k}', 0):6.2f}{a.get(f'novelty@{k}', 0):6.2f}{fit:8.1f}"
        )
    rep = result.report
    if rep.users.get("cold_start"):
        lines.append(f"cold start: {rep.cold_items} test items never seen in training, ranked among "
                     f"{rep.cold_candidates} unseen items (chance Recall@20 ≈ {rep.cold_chance_recall(20):.3f})")
    if result.tuning:
        tr = result.tuning
        weights = ", ".join(f"{n}={w:g}" for n, w in tr.weights.items())
        lines.append(f"tuned weights ({tr.normalization} normalisation; {tr.metric_name} on validation {tr.baseline:.4f} → {tr.metric:.4f}): {weights}")
    if result.learned_note:
        lines.append(f"fused = {result.learned_note if result.learned is not None else 'weighted (' + result.learned_note + ')'}")
    return "\n".join(lines)


def result_json(result: RunResult, extra: dict[str, Any]) -> dict[str, Any]:
    """The JSON contract: per-signal and fused metrics, weights, cold-start slice, timings.

    ``fused`` is the run's fusion — the learned one when it was trained, else the weighted one — and
    ``weighted`` the weighted fusion beside it; ``learned_fusion`` says whether the ranker serves and why."""
    report = result.report.to_dict()
    metrics = report["metrics"]
    signals = {n: {s: metrics[s][n] for s in metrics} for n in result.models}
    fused = {s: metrics[s][FUSED] for s in metrics if FUSED in metrics[s]}
    weighted = {s: metrics[s][WEIGHTED] for s in metrics if WEIGHTED in metrics[s]}
    return {
        **extra,
        "split": {"name": result.split_name, **result.split_sizes},
        "signals": signals,
        "fused": fused,
        "weighted": weighted,
        "learned_fusion": result.learned_summary(),
        "weights": result.fusion.to_dict(),
        "tuning": result.tuning.to_dict() if result.tuning else None,
        "cold_start": metrics.get("cold_start", {}),
        "ablation": report["ablation"],
        "users": report["users"],
        "timings": result.timings,
        "report": report,
    }


# -- commands ---------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mlcore", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("evaluate", "train"):
        p = sub.add_parser(name, help=f"{name} fused recommenders on event/product files")
        p.add_argument("--events", required=True, help="events file: user_id,item_id,timestamp[,type,quantity]")
        p.add_argument("--products", help="products file: item_id,title[,description,category,brand,...]")
        p.add_argument("--split", required=True, help=SPLIT_FORMS)
        p.add_argument("--event-weights", metavar="TYPE=W[,TYPE=W...]",
                       help="how much each event type counts (defaults: "
                            f"{format_event_weights(DEFAULT_EVENT_WEIGHTS)}); name new types, e.g. rating=1")
        p.add_argument("--validation-days", type=float, default=30.0, help="temporal split: validation window (days)")
        p.add_argument("--exclude-seen", action="store_true", help="headline and tune on items the shopper has not bought")
        # --recommenders: torchrun's own parser takes --signals for its --signals-to-handle
        p.add_argument("--signals", "--recommenders", dest="signals", default=DEFAULT_SIGNALS,
                       help=f"comma-separated recommender names ({DEFAULT_SIGNALS})")
        p.add_argument("--set", action="append", default=[], metavar="SIGNAL.FIELD=VALUE", help="a signal setting")
        p.add_argument("--k", type=int, default=10, help="cut-off shown in the table (5, 10 and 20 are always in JSON)")
        p.add_argument("--normalization", default="rank", choices=["auto", "rank", "zscore", "minmax"],
                       help="auto: the tuner picks the best on validation")
        p.add_argument("--tune-target", choices=["all", "exclude_seen", "both"], help="default: both (exclude_seen with --exclude-seen)")
        p.add_argument("--no-tune", action="store_true", help="equal weights instead of tuning on validation")
        p.add_argument("--no-clean", action="store_true", help="keep returns, non-product codes and duplicates")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--memory-budget-mb", type=int, default=0,
                       help="refuse, before any training, a job whose estimated peak memory is above this "
                            "(0: 80%% of the memory available now)")
        p.add_argument("--json", help="write the full report here")
        p.add_argument("--quiet", action="store_true", help="no progress on stderr")
        if name == "train":
            p.add_argument("--out", required=True, help="folder for the servable bundle (must not exist)")
    from mlcore.search.command import add_parser as add_search_eval

    add_search_eval(sub)
    return parser


def execute(args: argparse.Namespace, peers: dict[str, Any] | None = None) -> tuple[RunResult, dict[str, Any]]:
    """Run an ``evaluate``/``train`` command from parsed arguments; returns the result and its JSON."""
    cb = StderrCallback(args.quiet)
    started = time.perf_counter()
    signals = parse_signals(args.signals, args.set)
    weights = parse_weights(args.event_weights)
    data, cleaning = load_dataset(args.events, args.products, clean=not args.no_clean, event_weights=weights)
    cb.log(f"{len(data.events)} events, {data.n_users} users, {data.n_items} items after cleaning")
    try:
        check_dataset(signals, data, budget_mb=args.memory_budget_mb)
    except OverBudget as exc:
        raise UsageError(str(exc)) from None
    split = make_split(data, args.split, validation_days=args.validation_days, seed=args.seed)
    cb.log(f"split {split.name}: {split.describe()}")
    ks = tuple(sorted({5, 10, 20, args.k}))
    target = args.tune_target or ("exclude_seen" if args.exclude_seen else "both")
    config = RunConfig(
        signals=signals,
        ks=ks,
        normalization=cast(Any, args.normalization),
        tune=not args.no_tune,
        tune_config=TuneConfig(metric=f"ndcg@{args.k}", seed=args.seed),
        tune_target=cast(Literal["all", "exclude_seen", "both"], target),
    )
    vectors = hashed_text_vectors((data.products["title"] + " " + data.products["category"]).tolist())
    result = run(data, split, config, callback=cb, peers=peers, item_vectors=vectors)
    extra = {
        "command": args.command,
        "events": str(args.events),
        "products": str(args.products),
        "dataset": {"events": len(data.events), "users": data.n_users, "items": data.n_items, "fingerprint": data.fingerprint()},
        "event_weights": dict(weights),
        "cleaning": cleaning,
    }
    payload = result_json(result, extra)
    payload["timings"] = {**payload["timings"], "wall": time.perf_counter() - started}
    return result, payload


def main(argv: Sequence[str] | None = None) -> int:
    """Under torchrun every rank trains (DDP for ``mf`` and ``text``) and evaluates the same
    synchronised models; only rank 0 prints progress and writes the bundle and the report."""
    args = _parser().parse_args(argv)
    if args.command == "search-eval":
        from mlcore.search.command import run_search_eval

        try:
            return run_search_eval(args)
        except (ValueError, FileNotFoundError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if not distributed.is_main():
        args.quiet = True
    try:
        result, payload = execute(args)
        if not distributed.is_main():
            return 0
        if args.command == "train":
            from mlcore.training.artifacts import write_bundle

            out = write_bundle(Path(args.out), result, extra_meta={"cleaning": payload["cleaning"]})
            payload["bundle"] = str(out)
            print(f"bundle written to {out}", file=sys.stderr)
    except (UsageError, FileNotFoundError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_table(result, args.k, "exclude_seen" if args.exclude_seen else "all"))
    if args.json:
        Path(args.json).write_text(json.dumps(payload, indent=2, default=float))
        print(f"report written to {args.json}", file=sys.stderr)
    return 0
