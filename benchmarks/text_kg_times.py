"""Does the text signal earn its time? Its share of a default job, its cold-item recall, its marginal gain.

    HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python benchmarks/text_kg_times.py [--datasets online-retail,movielens]
        [--finetune] [--json OUT] [--smoke]

Per dataset (Online Retail: temporal split at 2011-10-01, validation the 30 days before, cleaned as in
``recommend_online_retail.py``, ``mf.epochs=20``; MovieLens latest-small: leave-last-out, no time
decay, as ``movielens_to_ep.py`` documents):

1. Text settings chosen on the validation window only: the text signal fitted on train with
   ``learned_weight`` 0 (plain cosine), 0.5 and 1 (the content-aware item-item model alone), scored
   by the mean validation NDCG@10 with and without already-bought items (the job's tuning target);
   with ``--finetune`` also the behaviour-pair fine-tuned encoder (100 LoRA steps), kept only if it
   beats the frozen encoder there.
2. A default job (``mlcore.training.runner.run``: every signal of ``python -m mlcore evaluate``, fit on
   train, fusion tuned on validation, refit on train + validation, scored once on test) with the chosen
   text settings, on the embedding cache step 1 filled (as a retrain meets it). A first job's text
   time is that job's with its validation fit replaced by step 1's first fit on the empty cache.

Prints the seconds of every fit and the text signal's share of the job (goal <= 25 %; CPU seconds of
this process, which a busy shared machine does not inflate, and wall seconds), cold-item
Recall@20 of text, kg and popularity (goal text >= 2x popularity), and the marginal gain of text in
the fused list on the warm slices (fused minus fused-without-text NDCG@10 on all items and on
not-yet-bought items; goal > 0 on at least one dataset). ``--smoke``: 20 shoppers of the bundled demo
sample, a few seconds once the model is loaded.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlcore.cli import DEFAULT_SIGNALS, parse_signals  # noqa: E402
from mlcore.data import Dataset, Split, clean_events, leave_last_out, temporal_split  # noqa: E402
from mlcore.data.cleaning import CleaningConfig, non_product_mask  # noqa: E402
from mlcore.evaluation import TuneConfig, ranking_metrics, top_k  # noqa: E402
from mlcore.recommenders.text import TextConfig, TextRecommender  # noqa: E402
from mlcore.runtime.callback import NullCallback  # noqa: E402
from mlcore.training.runner import FUSED, RunConfig, run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "dashboard" / "demo" / "online_retail_sample.csv.gz"
LEARNED_WEIGHTS = (0.0, 0.5, 1.0)
VALIDATION_USERS = 3000


def online_retail(source: Path, customers: int = 0) -> tuple[Dataset, Split, list[str]]:
    from online_retail_to_ep import convert

    events, products = convert(source)
    if customers:
        keep = sorted(events["user_id"].unique())[:customers]
        events = events[events["user_id"].isin(keep)]
        products = products[products["item_id"].isin(events["item_id"])]
    events, _ = clean_events(events, CleaningConfig())
    products = products[~non_product_mask(products["item_id"], CleaningConfig())]
    data = Dataset.from_frames(events, products)
    return data, temporal_split(data, "2011-10-01", validation_days=30), ["mf.epochs=20"]


def movielens() -> tuple[Dataset, Split, list[str]]:
    from movielens_to_ep import convert

    events, products = convert()
    data = Dataset.from_frames(events, products)
    flat = [f"{s}.half_life_days=null" for s in ("popularity", "item_knn", "ease", "mf")]
    return data, leave_last_out(data), flat


def validation_score(model: Any, split: Split, seed: int = 0) -> float:
    """Mean of validation NDCG@10 with and without already-bought items (up to VALIDATION_USERS users)."""
    truth = sp.csr_matrix(split.validation_items())
    users = np.flatnonzero(np.diff(truth.indptr) > 0)
    if len(users) > VALIDATION_USERS:
        users = np.sort(np.random.default_rng(seed).choice(users, VALIDATION_USERS, replace=False))
    seen = sp.csr_matrix(split.train_items())[users]
    scores = np.asarray(model.score(users), dtype=np.float32)
    all_items = ranking_metrics(top_k(scores, 10), truth[users], (10,))["ndcg@10"]
    scores[seen.nonzero()] = -np.inf
    fresh = sp.csr_matrix(truth[users] - truth[users].multiply(seen))
    fresh.eliminate_zeros()
    return (all_items + ranking_metrics(top_k(scores, 10), fresh, (10,))["ndcg@10"]) / 2


class CpuClock(NullCallback):
    """CPU seconds of this process (all threads) in each ``fit:<tag>:<signal>`` phase the runner reports.
    On a shared machine wall time measures the neighbours; CPU time measures the work."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}

    def progress(self, *, phase: str, done: int, total: int, metrics: dict[str, float] | None = None) -> None:
        if phase.startswith("fit:") and phase.count(":") == 2:
            if done == 0:
                self.started[phase] = time.process_time()
            elif phase in self.started:
                self.seconds[phase] = time.process_time() - self.started.pop(phase)


def choose_text(split: Split, base: TextConfig, finetune: bool, cache: Path) -> tuple[TextConfig, list[str], float, float]:
    """The text settings with the best validation score (see the module docstring), the log lines and the
    wall and CPU seconds of the first fit (empty embedding cache: what a first job's text fit costs)."""
    lines, best, best_value, first, first_cpu = [], base, -1.0, 0.0, 0.0
    candidates = [replace(base, learned_weight=w) for w in LEARNED_WEIGHTS]
    if finetune:
        candidates.append(replace(base, finetune=True))
    for n, cfg in enumerate(candidates):
        started, cpu = time.perf_counter(), time.process_time()
        model = TextRecommender(replace(cfg, cache_dir=str(cache))).fit(split.train)
        seconds = time.perf_counter() - started
        first, first_cpu = (seconds, time.process_time() - cpu) if n == 0 else (first, first_cpu)
        value = validation_score(model, split)
        label = f"learned_weight={cfg.learned_weight}" + (" + fine-tuned" if cfg.finetune else "")
        lines.append(f"  text {label:<32} validation NDCG@10 (all/new mean) {value:.4f}  fit {seconds:6.1f} s wall")
        if value > best_value + 1e-9:
            best, best_value = cfg, value
    return best, lines, first, first_cpu


def job(data: Dataset, split: Split, settings: list[str], text: TextConfig, signals: str, cache: Path,
        clock: CpuClock) -> Any:
    specs = list(parse_signals(signals, [s for s in settings if s.split(".")[0] in signals.split(",")]))
    specs = [replace(s, config=replace(text, cache_dir=str(cache))) if s.name == "text" else s for s in specs]
    return run(data, split, RunConfig(signals=tuple(specs), normalization="auto", tune_config=TuneConfig(seed=0)),
               callback=clock)


def report_dataset(name: str, data: Dataset, split: Split, settings: list[str], args: argparse.Namespace) -> dict:
    print(f"\n== {name}: {data.n_users} shoppers, {data.n_items} products, {len(data.events)} events; {split.name}")
    base = TextConfig(device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        chosen, lines, cold_fit, cold_cpu = choose_text(split, base, args.finetune, Path(tmp))
        print(f"text settings chosen on validation ({time.perf_counter() - started:.0f} s):")
        print("\n".join(lines))
        print(f"  chosen: learned_weight={chosen.learned_weight}, finetune={chosen.finetune}")
        clock = CpuClock()
        cpu_started = time.process_time()
        result = job(data, split, settings, chosen, args.signals, Path(tmp), clock)  # a retrain: the cache is warm
        cpu_total = time.process_time() - cpu_started
    t = result.timings
    names = args.signals.split(",")
    fits = {s: t.get(f"fit:{s}:validation", 0.0) + t.get(f"fit:{s}:final", 0.0) for s in names}
    cpu = {s: clock.seconds.get(f"fit:validation:{s}", 0.0) + clock.seconds.get(f"fit:final:{s}", 0.0) for s in names}
    print(f"job on a warm embedding cache (a retrain): {t['total']:.1f} s wall, {cpu_total:.1f} CPU s; fit CPU seconds "
          "(validation + final): " + ", ".join(f"{s} {v:.1f}" for s, v in cpu.items()))
    # A first job encodes every product once (its final fit finds them in the cache): its validation
    # fit costs what the first fit above cost on an empty cache.
    shares = {}
    for label, total, text, cold, final in (
            ("CPU", cpu_total, cpu.get("text", 0.0), cold_cpu, clock.seconds.get("fit:final:text", 0.0)),
            ("wall", t["total"], fits.get("text", 0.0), cold_fit, t.get("fit:text:final", 0.0))):
        first_text = cold + final
        first_total = total - text + first_text
        shares[label] = (text / total if total else 0.0, first_text / first_total if first_total else 0.0)
        print(f"text fit ({label} time) = {100 * shares[label][0]:.1f} % of a retrain ({text:.1f} of {total:.1f} s); "
              f"a first job, every product encoded once ({cold:.1f} s): {100 * shares[label][1]:.1f} % "
              f"({first_text:.1f} of {first_total:.1f} s); goal <= 25 %")
    share, first_share = shares["CPU"]
    m = result.report.metrics
    cold = m.get("cold_start", {})
    pop_cold = cold.get("popularity", {}).get("recall@20", 0.0)
    text_cold = cold.get("text", {}).get("recall@20", 0.0)
    print(f"cold items ({result.report.cold_items}, {result.report.users.get('cold_start', 0)} shoppers): Recall@20 "
          + ", ".join(f"{s} {cold.get(s, {}).get('recall@20', 0.0):.4f}" for s in ("text", "kg", "popularity"))
          + f"; text / popularity {text_cold / pop_cold if pop_cold else float('inf'):.1f}x (goal >= 2x)")
    gains = {}
    for slice_name in ("all", "exclude_seen", "cold_start"):
        by = m.get(slice_name, {})
        if FUSED in by and f"{FUSED}-minus-text" in by:
            gains[slice_name] = by[FUSED]["ndcg@10"] - by[f"{FUSED}-minus-text"]["ndcg@10"]
            print(f"  {slice_name:<13} NDCG@10 fused {by[FUSED]['ndcg@10']:.4f}, fused minus text "
                  f"{by[f'{FUSED}-minus-text']['ndcg@10']:.4f}: marginal gain of text {gains[slice_name]:+.4f}"
                  f"  (best single signal {max((v['ndcg@10'], k) for k, v in by.items() if '-' not in k and k != FUSED)[1]})")
    weights = result.fusion.to_dict().get("weights", {})
    print(f"fusion weights (tuned on validation): {json.dumps(weights)}")
    return {"text_share_retrain": share, "text_share_first_job": first_share, "shares": shares, "fit_cpu_s": cpu,
        "fit_wall_s": fits, "total_cpu_s": cpu_total, "first_encode_cpu_s": cold_cpu, "cold_recall@20": {
        s: cold.get(s, {}).get("recall@20", 0.0) for s in ("text", "kg", "popularity")}, "text_gain": gains,
        "chosen": {"learned_weight": chosen.learned_weight, "finetune": chosen.finetune}, "weights": weights}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="online-retail,movielens")
    parser.add_argument("--signals", default=DEFAULT_SIGNALS)
    parser.add_argument("--finetune", action="store_true", help="also try the fine-tuned encoder on validation")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--smoke", action="store_true", help="20 shoppers of the bundled demo sample")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    out: dict[str, dict] = {}
    if args.smoke:
        data, split, settings = online_retail(DEMO, customers=20)
        out["demo sample"] = report_dataset("demo sample (20 shoppers)", data, split, settings + ["mf.epochs=2"], args)
    else:
        for name in args.datasets.split(","):
            if name == "online-retail":
                from online_retail_to_ep import DEFAULT_SOURCE

                out[name] = report_dataset("Online Retail", *online_retail(Path(DEFAULT_SOURCE)), args)
            elif name == "movielens":
                out[name] = report_dataset("MovieLens latest-small", *movielens(), args)
            else:
                parser.error(f"unknown dataset {name!r}; use online-retail and/or movielens")
    print(f"\nwall time {time.perf_counter() - started:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
