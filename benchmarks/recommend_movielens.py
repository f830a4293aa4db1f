"""Benchmark: learned and weighted fusion on MovieLens latest-small, per slice, two splits, against every signal and ALS.

    .venv/bin/python benchmarks/recommend_movielens.py [--signals ...] [--json OUT] [--smoke]

Data: ``../shared/data/movielens-latest-small`` converted by ``movielens_to_ep.py`` (every rating is
an implicit interaction; titles, genres and the users' tags feed the text and graph signals). The CF
signals' time decay is turned off (``half_life_days=null``: 22 years of ratings, not a shop's months).

Two splits, one table each, in one run: ``random:0.8:0.1:0.1`` (each shopper's ratings shuffled 8:1:1,
seeded) and ``leave-last-out`` (each shopper's last rating is test, the one before validation). Per split:
signals fitted on train; weighted-fusion weights tuned on validation; the learned fusion (LightGBM
lambdarank over every signal's candidates) trained on 60 % of the validation shoppers and early-stopped,
with its per-slice routes chosen, on the other 40 %; then everything refitted on train + validation and
evaluated once on test (nothing is chosen on test). Slices as in ``recommend_online_retail.py``; a rated
movie is not rated again, so ``exclude_seen`` (not-yet-seen items) is the headline. Peer: ``implicit`` ALS
picked on validation. ``--smoke``: 150 shoppers, their 300 most rated movies, three cheap
signals, seconds.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from movielens_to_ep import DEFAULT_SOURCE, convert  # noqa: E402
from recommend_online_retail import PEER, fit_peer, report, sample_users  # noqa: E402

from mlcore.cli import StderrCallback, parse_signals  # noqa: E402
from mlcore.data import Dataset, SplitSpec  # noqa: E402
from mlcore.evaluation import TuneConfig  # noqa: E402
from mlcore.fusion import hashed_text_vectors  # noqa: E402
from mlcore.training.runner import RunConfig, run  # noqa: E402

SPLITS = ("random:0.8:0.1:0.1", "leave-last-out")
SIGNALS = "popularity,item_knn,ease,mf,text,kg"
SETTINGS = ["popularity.half_life_days=null", "item_knn.half_life_days=null", "ease.half_life_days=null",
            "mf.half_life_days=null", "text.cache_dir=var/embedding-cache"]  # each movie's text encoded once
SMOKE_SIGNALS = "popularity,item_knn,kg"
SMOKE_USERS = 150
SMOKE_ITEMS = 300
GOAL_NEW = 1.05


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default=str(DEFAULT_SOURCE))
    parser.add_argument("--signals", help=f"default: {SIGNALS} ({SMOKE_SIGNALS} with --smoke)")
    parser.add_argument("--set", action="append", metavar="SIGNAL.FIELD=VALUE", help=f"default: {SETTINGS}")
    parser.add_argument("--normalization", default="auto", help="auto: tuned on validation among rank/zscore/minmax")
    parser.add_argument("--splits", default=",".join(SPLITS), help=f"comma-separated (default {','.join(SPLITS)})")
    parser.add_argument("--json", help="write the full report here")
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_USERS} shoppers, cheap signals: seconds")
    args = parser.parse_args()
    started = time.perf_counter()
    cb = StderrCallback(quiet=args.smoke)
    names = args.signals or (SMOKE_SIGNALS if args.smoke else SIGNALS)
    events, products = convert(Path(args.source))
    data = Dataset.from_frames(events, products)
    if args.smoke:
        data = sample_users(data, SMOKE_USERS, SMOKE_ITEMS)
    cb.log(f"loaded {len(data.events)} ratings, {data.n_users} users, {data.n_items} movies")
    chosen = names.split(",")
    settings = [s for s in (args.set or SETTINGS) if s.split(".")[0] in chosen]
    vectors = hashed_text_vectors((data.products["title"] + " " + data.products["genres"]).tolist())
    out: dict[str, Any] = {}
    for spec in [s.strip() for s in args.splits.split(",") if s.strip()]:
        t0 = time.perf_counter()
        split = SplitSpec.parse(spec, seed=0).make(data)
        cb.log(f"split {split.name}: {split.describe()}")
        als, t_als = fit_peer(split, cb, smoke=args.smoke)
        config = RunConfig(signals=parse_signals(names, settings), normalization=cast(Any, args.normalization),
                           tune_config=TuneConfig(seed=0), tune_target="exclude_seen", ablation=not args.smoke)
        result = run(data, split, config, callback=cb, peers={PEER: als}, item_vectors=vectors)
        result.timings[f"fit:{PEER}:final"] = t_als
        text, figures = report(result, f"MovieLens latest-small, split {split.name}", GOAL_NEW)
        print(text)
        print(f"split wall time {time.perf_counter() - t0:.0f}s (ALS {t_als:.0f}s, run {result.timings['total']:.0f}s)\n")
        out[split.name] = {**result.to_dict(), "goals": figures}
    print(f"wall time {time.perf_counter() - started:.0f}s")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
