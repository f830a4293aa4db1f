"""Benchmark: are the A/B test statistics trustworthy? False positives under daily peeking, power, coverage,
the sample-ratio check and CUPED — plus a smaller end-to-end experiment through the real API.

    .venv/bin/python benchmarks/ab_simulation.py            # 1 000 A/A + 300 A/B runs (~3 min) + the API part
    .venv/bin/python benchmarks/ab_simulation.py --smoke    # seconds: 40 + 20 runs, a few dozen API shoppers

Two parts:

1. **Statistics level** (fast, many runs): each run draws shoppers arriving over ``--days`` days, each with a
   click propensity (Beta(2, 18), mean 0.10), 1 + Poisson(0.3) lists, clicks ~ Binomial(lists, propensity ×
   (1 + lift) in B) and a pre-period activity Poisson(20 × propensity). The planned sample is the
   dashboard's power calculation for a 10 % lift of a 10 % rate (``planned_sample_size``), reached on the last
   day. Every day the run is analysed exactly as the results page does — CUPED on the click-through rate
   (lists clicked ÷ lists, the shopper as the unit), the O'Brien–Fleming-type peeking-safe bound
   (``mlcore.experiments``) — and a run is "significant" when any day's interval excludes 0. A/A runs
   (lift 0) give the false-positive rate with daily peeking; A/B runs (true lift +10 %) the power, and
   whether the interval at the stopping day covers the true lift. SRM: one run split 55/45 against a 50/50
   allocation. CUPED: the share of the lift estimate's variance removed, averaged over the A/A runs.
2. **End to end** (``--api-shoppers``): a small trained catalog in the benchmark's own database
   (``var/bench/ab``, see ``bench_db.py``), two fusion configs as variants A/B of a running experiment;
   synthetic shoppers request recommendations through the REST API (``GET …/recommendations``, token auth,
   the real serving path; planned for a +150 % lift, about 100 shoppers per variant), click with probability
   0.10 in A and 0.25 in B (clicks sent to ``POST …/events``
   with the list's request id) and buy without a request id (attributed by the window); the experiment's
   results service reads it all back from the impression log. Prints the observed rates and the verdict.

Goals (α = 0.05): false-positive rate within 3–7 % over ≥ 200 A/A runs with daily peeking; CI coverage
≥ 93 %; the SRM warning fires on 55/45; CUPED reduces variance. The last four lines are the figures.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from mlcore.experiments import compare, cuped, sample_size_per_variant, spending_bounds, srm_check, summarize  # noqa: E402

SEQUENTIAL_INFLATION = 1.04  # as dashboard.services.experiments.lifecycle (importing it needs Django)
BASELINE, MDE, ALPHA = 0.10, 0.10, 0.05


def planned_per_variant(mde: float) -> int:
    return int(np.ceil(sample_size_per_variant(baseline=BASELINE, mde=mde, alpha=ALPHA) * SEQUENTIAL_INFLATION))


def draw(rng: np.random.Generator, n: int, lift: float, share_b: float = 0.5) -> dict[str, np.ndarray]:
    """``n`` shoppers: arm (1 = B), lists, lists clicked, pre-period activity."""
    arm = (rng.random(n) < share_b).astype(int)
    p = rng.beta(2, 18, n)
    lists = 1 + rng.poisson(0.3, n)  # mostly one list each: the per-shopper rate the power calculation plans for
    clicked = rng.binomial(lists, np.minimum(p * (1 + lift * arm), 1.0))
    return {"arm": arm, "lists": lists, "clicked": clicked, "pre": rng.poisson(20 * p)}


def analyse(d: dict[str, np.ndarray], z: float | None, *, use_cuped: bool = True):
    """The results page's comparison of B with A on the click-through rate (CUPED, peeking-safe bound ``z``)."""
    y = d["clicked"].astype(float)
    if use_cuped:
        y, _theta = cuped(y, d["pre"])
    a, b = d["arm"] == 0, d["arm"] == 1
    sa = summarize(y[a], kind="ratio", denominators=d["lists"][a])
    sb = summarize(y[b], kind="ratio", denominators=d["lists"][b])
    return compare(sa, sb, sequential_z=z, kind="ratio")


def run_once(rng: np.random.Generator, *, lift: float, days: int, per_day: int, bounds: np.ndarray) -> tuple:
    """One experiment peeked daily: (significant on some day, the stopping day's comparison, variance ratio)."""
    data = draw(rng, per_day * days, lift)  # shoppers in order of arrival: day d's are the slice [d·per_day, …)
    last = None
    for d in range(days):
        so_far = {k: v[:(d + 1) * per_day] for k, v in data.items()}
        last = analyse(so_far, float(bounds[d]))
        if last.significant:
            break
    plain = analyse(data, None, use_cuped=False)
    adjusted = analyse(data, None)
    width = lambda c: (c.lift_high - c.lift_low) ** 2  # noqa: E731 - variance ∝ squared interval width
    return bool(last.significant), last, width(adjusted) / width(plain)


def statistics_level(*, aa_runs: int, ab_runs: int, days: int, mde: float, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    per_variant = planned_per_variant(mde)
    per_day = int(np.ceil(2 * per_variant / days))
    fractions = np.arange(1, days + 1) * per_day / (2 * per_variant)
    bounds = spending_bounds(np.minimum(fractions, 1.0), ALPHA)
    print(f"planned: {per_variant} shoppers per variant ({mde:.0%} lift of a {BASELINE:.0%} rate), {days} daily looks, "
          f"bounds z = {', '.join(f'{b:.2f}' for b in bounds)}")
    t0 = time.perf_counter()
    aa = [run_once(rng, lift=0.0, days=days, per_day=per_day, bounds=bounds) for _ in range(aa_runs)]
    naive = [run_once(rng, lift=0.0, days=days, per_day=per_day, bounds=np.full(days, 1.96))[0]
             for _ in range(min(aa_runs, 100))]  # the fixed-horizon 1.96 every day: what naive peeking does
    naive_fp = float(np.mean(naive))
    ab = [run_once(rng, lift=mde, days=days, per_day=per_day, bounds=bounds) for _ in range(ab_runs)]
    print(f"simulated {aa_runs} A/A + {ab_runs} A/B runs in {time.perf_counter() - t0:.1f} s; "
          f"naive 1.96 with daily peeking: {naive_fp:.3f} false positives")
    srm = draw(rng, 10_000, 0.0, share_b=0.45)
    _, srm_p, srm_warn = srm_check([int((srm["arm"] == 0).sum()), int((srm["arm"] == 1).sum())], [50, 50])
    print(f"55/45 split of 10 000 shoppers: chi-square p = {srm_p:.2g}")
    return {"fpr": float(np.mean([s for s, _, _ in aa])), "aa": aa_runs,
            "power": float(np.mean([s and c.lift > 0 for s, c, _ in ab])),
            "coverage": float(np.mean([c.seq_low <= mde <= c.seq_high for _, c, _ in ab])),
            "srm": srm_warn, "cuped": float(1 - np.mean([v for _, _, v in aa]))}


def end_to_end(*, shoppers: int, seed: int) -> None:
    """Synthetic shoppers through the real API and the experiment's results service (see the module doc)."""
    import tempfile

    from bench_db import setup_django

    setup_django("ab")
    import json

    from django.conf import settings
    from rest_framework.test import APIClient

    from dashboard.models import Catalog, Scope, TokenKind
    from dashboard.services import serving
    from dashboard.services.api_tokens import api_token_create
    from dashboard.services.experiments import VariantSpec, experiment_create, experiment_results, experiment_start
    from dashboard.services.fusion import fusion_config_create
    from tests.dashboard.fusion_data import build_bundle, mirror

    settings.API_IMPRESSION_FLUSH_S = 0  # write each impression in the request (one process here)
    Catalog.objects.filter(slug="ab-sim").delete()
    catalog = Catalog.objects.create(name="A/B simulation", slug="ab-sim")
    serving.clear_cache()
    mirror(catalog, build_bundle(Path(tempfile.mkdtemp(prefix="ab-sim-")) / "bundle"))
    a = fusion_config_create(catalog=catalog, name="A", weights={"popularity": 0.2, "item_knn": 1.0, "ease": 1.0})
    b = fusion_config_create(catalog=catalog, name="B", weights={"popularity": 1.0, "item_knn": 0.0, "ease": 0.0})
    exp = experiment_start(experiment=experiment_create(
        catalog=catalog, name="Popular vs personal", baseline=0.1, mde=1.5, guardrails=["conversion"],
        variants=[VariantSpec("A", 50, is_control=True, fusion_config=a), VariantSpec("B", 50, fusion_config=b)],
        by=None), by=None)
    _token, key = api_token_create(name="ab", kind=TokenKind.SECRET, scopes=[Scope.RECOMMENDATIONS_READ, Scope.EVENTS_WRITE],
                                   catalogs=[catalog], throttle_per_minute=10_000_000)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    rng = np.random.default_rng(seed)
    truth = {"A": 0.10, "B": 0.25}
    base = f"/api/v1/catalogs/{catalog.slug}"
    t0 = time.perf_counter()
    served = {"A": 0, "B": 0}
    for i in range(shoppers):
        shopper = f"U{i:03d}" if i < 8 else f"sim-{i}"  # the first eight are known to the model
        events = []
        for _list in range(2):
            body = client.get(f"{base}/recommendations?shopper={shopper}&n=5&surface=home").json()
            name = body["variant"].split(":")[1]
            served[name] += 1
            if rng.random() < truth[name]:
                events.append({"type": "click", "shopper_id": shopper, "product_id": body["items"][0]["item_id"],
                               "request_id": body["request_id"]})
                if rng.random() < 0.3:  # a purchase sent without the request id: attributed by the window
                    events.append({"type": "purchase", "shopper_id": shopper,
                                   "product_id": body["items"][0]["item_id"], "quantity": 1, "value": 9.5})
        if events:
            r = client.post(f"{base}/events", data=json.dumps({"events": events}), content_type="application/json")
            assert r.status_code == 202, r.content
    elapsed = time.perf_counter() - t0
    results = experiment_results(experiment=exp)
    print(f"end to end: {shoppers} shoppers, {sum(served.values())} lists through the API in {elapsed:.1f} s "
          f"(true CTR A {truth['A']:.2f}, B {truth['B']:.2f})")
    for r in results.variants:
        m = r.metrics
        print(f"  {r.variant.name}: {r.shoppers} shoppers, {r.lists} lists, CTR {m['ctr'].value:.3f} "
              f"[{m['ctr'].low:.3f}, {m['ctr'].high:.3f}], conversion {m['conversion'].value:.3f}, "
              f"revenue/shopper {m['revenue'].value:.2f}")
    print(f"  verdict: {results.verdict}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="Seconds: few runs, a large effect, few API shoppers.")
    parser.add_argument("--aa-runs", type=int, default=1000)
    parser.add_argument("--ab-runs", type=int, default=300)
    parser.add_argument("--days", type=int, default=14, help="Daily looks per experiment.")
    parser.add_argument("--api-shoppers", type=int, default=200, help="Shoppers of the end-to-end part (0: skip).")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    mde = MDE
    if args.smoke:
        args.aa_runs, args.ab_runs, args.days, args.api_shoppers, mde = 40, 20, 7, 20, 0.5
    if args.api_shoppers:
        end_to_end(shoppers=args.api_shoppers, seed=args.seed)
    figures = statistics_level(aa_runs=args.aa_runs, ab_runs=args.ab_runs, days=args.days, mde=mde, seed=args.seed)
    print(f"false positive rate {figures['fpr']:.3f} over {figures['aa']} A/A experiments (peeking daily)")
    print(f"power {figures['power']:.3f} at true lift +{mde:.0%} CTR; CI covers the true lift in "
          f"{figures['coverage']:.3f} of runs")
    print(f"srm warning on a 55/45 split: {'yes' if figures['srm'] else 'no'}")
    print(f"cuped variance reduction {figures['cuped'] * 100:.1f} %")


if __name__ == "__main__":
    main()
