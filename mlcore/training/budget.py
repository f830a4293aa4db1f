"""The memory budget of a training job: refuse, before anything is fitted, a job that would not fit.

A job holds at once: the Python runtime with numpy, pandas and torch (``base_mb``); the events
and their split copies (``event_bytes`` each); every fitted signal's model (its
:class:`~mlcore.recommenders.cost.Cost` ``model_bytes``) plus the largest fit transient; and
the user×item score blocks of tuning and evaluation (``score_mb``, which the runner respects by
scoring fewer users at once on large catalogues). :func:`check_job` compares the sum with the
budget and, when it is over, names the signal to drop or the setting to change.

>>> from mlcore.recommenders.cost import Workload
>>> small = Workload(n_users=1_000, n_items=500, n_interactions=20_000)
>>> estimate_job([("popularity", None)], small, budget_bytes=8 << 30).fits
True
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import psutil

from mlcore.data import Dataset
from mlcore.recommenders import get
from mlcore.recommenders.cost import MB, Cost, Workload

BUDGET_SETTING = "TRAINING_MEMORY_BUDGET_MB"


@dataclass(frozen=True)
class BudgetConfig:
    """``base_mb``: the runtime before any data (Python, numpy, pandas, torch; measured 450 MB).
    ``event_bytes``: one event in the Dataset frame with its split copies (string ids: measured
    about 500 bytes). ``score_mb``: score blocks held at once by tuning and evaluation.
    ``available_share``: the default budget's share of the memory available now.
    """

    base_mb: int = 450
    event_bytes: int = 500
    score_mb: int = 1500
    available_share: float = 0.8


@dataclass(frozen=True)
class JobEstimate:
    """Per-signal costs and the job's estimated peak (bytes) against ``budget_bytes``."""

    signals: dict[str, Cost]
    base_bytes: int
    data_bytes: int
    score_bytes: int
    budget_bytes: int

    @property
    def peak_bytes(self) -> int:
        kept = sum(c.model_bytes for c in self.signals.values())
        transient = max((c.peak_bytes - c.model_bytes for c in self.signals.values()), default=0)
        return self.base_bytes + self.data_bytes + kept + max(transient, self.score_bytes)

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.signals.values())

    @property
    def fits(self) -> bool:
        return self.peak_bytes <= self.budget_bytes

    def table(self) -> str:
        """One line per signal, then the job's total, in MB and seconds."""
        lines = [f"{name:<12} {cost.describe()}" for name, cost in self.signals.items()]
        lines.append(
            f"{'job':<12} peak about {self.peak_bytes / MB:,.0f} MB of a {self.budget_bytes / MB:,.0f} MB budget "
            f"(runtime {self.base_bytes / MB:,.0f}, data {self.data_bytes / MB:,.0f}, scores {self.score_bytes / MB:,.0f})"
        )
        return "\n".join(lines)


class OverBudget(ValueError):
    """The job would exceed the memory budget; the message names the signal and the fix."""

    def __init__(self, message: str, estimate: JobEstimate) -> None:
        super().__init__(message)
        self.estimate = estimate


def default_budget_bytes(config: BudgetConfig = BudgetConfig()) -> int:
    """``available_share`` of the memory available on this machine now (psutil)."""
    return int(psutil.virtual_memory().available * config.available_share)


def estimate_job(
    signals: Sequence[tuple[str, Any]],
    workload: Workload,
    *,
    budget_bytes: int | None = None,
    config: BudgetConfig = BudgetConfig(),
) -> JobEstimate:
    """The costs of fitting ``signals`` ((registered name, config or None) pairs) on ``workload``."""
    costs = {name: get(name).cost(workload, cfg) for name, cfg in signals}
    n, s = workload.n_items, max(1, len(costs))
    evaluation = 4 * n * (3 * s + 2) * min(workload.n_users, scoring_batch_users(n, s, 1024, config.score_mb))
    tuning = 8 * n * s * min(workload.n_users, tuning_users(n, s, 3000, config.score_mb))
    return JobEstimate(
        signals=costs,
        base_bytes=config.base_mb * MB,
        data_bytes=config.event_bytes * workload.events,
        score_bytes=2 * max(evaluation, tuning),  # normalised, fused and top-k copies: measured about twice
        budget_bytes=budget_bytes if budget_bytes else default_budget_bytes(config),
    )


def check_job(
    signals: Sequence[tuple[str, Any]],
    workload: Workload,
    *,
    budget_bytes: int | None = None,
    config: BudgetConfig = BudgetConfig(),
) -> JobEstimate:
    """:func:`estimate_job`, raising :class:`OverBudget` when the peak exceeds the budget.

    The message names the costliest signal, what to change in its settings, and the setting
    that raises the budget (``TRAINING_MEMORY_BUDGET_MB``; ``--memory-budget-mb`` in the CLI).
    """
    estimate = estimate_job(signals, workload, budget_bytes=budget_bytes, config=config)
    if estimate.fits:
        return estimate
    name, worst = max(estimate.signals.items(), key=lambda item: item[1].peak_bytes)
    others = [s for s in estimate.signals if s != name]
    without = estimate_job([(s, c) for s, c in signals if s != name], workload, budget_bytes=estimate.budget_bytes,
                           config=config) if others else None
    fix = f"drop {name!r}" + (" (the rest fits)" if without is not None and without.fits else "")
    if worst.note:
        fix += f", or {worst.note}"
    raise OverBudget(
        f"this job needs about {estimate.peak_bytes / MB:,.0f} MB but the memory budget is "
        f"{estimate.budget_bytes / MB:,.0f} MB ({workload.n_items:,} items, {workload.n_users:,} shoppers, "
        f"{workload.events:,} events). The costliest signal is {name!r} ({worst.describe()}): {fix}; "
        f"or raise {BUDGET_SETTING}.\n{estimate.table()}",
        estimate,
    )


class Signal(Protocol):
    """A signal to fit: a registered name and its config (a :class:`~mlcore.training.runner.SignalSpec`)."""

    @property
    def name(self) -> str: ...

    @property
    def config(self) -> Any: ...


def check_dataset(signals: Sequence[Signal], data: Dataset, *, budget_mb: int = 0,
                  config: BudgetConfig = BudgetConfig()) -> JobEstimate:
    """:func:`check_job` for ``signals`` on a loaded dataset (the CLI's check before it trains);
    ``budget_mb`` 0 takes :func:`default_budget_bytes`. Item pairs are measured on a sample."""
    workload = Workload.of(data.matrix(), n_events=len(data.events))
    return check_job([(s.name, s.config) for s in signals], workload,
                     budget_bytes=budget_mb * MB if budget_mb > 0 else None, config=config)


def scoring_batch_users(n_items: int, n_signals: int, batch_users: int, score_mb: int = BudgetConfig.score_mb) -> int:
    """Users scored at once by evaluation so that its blocks stay within ``score_mb``: each signal's
    raw and normalised scores and one fused block per fusion and ablation, 4 bytes a cell."""
    copies = 3 * n_signals + 2
    return max(1, min(batch_users, score_mb * MB // (4 * max(1, n_items) * copies)))


def tuning_users(n_items: int, n_signals: int, max_users: int, score_mb: int = BudgetConfig.score_mb) -> int:
    """Validation users scored for tuning so that raw and normalised scores stay within ``score_mb``."""
    return max(1, min(max_users, score_mb * MB // (8 * max(1, n_items) * max(1, n_signals))))


__all__ = [
    "BUDGET_SETTING",
    "BudgetConfig",
    "JobEstimate",
    "OverBudget",
    "Signal",
    "check_dataset",
    "check_job",
    "default_budget_bytes",
    "estimate_job",
    "scoring_batch_users",
    "tuning_users",
]
