"""The memory check of a training job: at launch, before the snapshot is even written, and again
on the worker right before fitting.

At launch the catalog's counts (shoppers, products, events) feed each signal's cost model
(:mod:`mlcore.training.budget`); events stand in for distinct (shopper, product) pairs, which
only errs on the safe side. The budget is ``settings.TRAINING_MEMORY_BUDGET_MB``, or 80 % of
the memory available now when that is 0. The worker checks again with the snapshot's cleaned
dataset and its own available memory (another machine, other jobs running, a catalog grown
while the job was queued), so a job that no longer fits fails in seconds with the same message
instead of being killed out of memory half-way.
"""
from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from dashboard.models import Catalog
from dashboard.services.training_snapshot import TrainingInputError
from mlcore.data import Dataset
from mlcore.recommenders.cost import MB, Workload
from mlcore.training.budget import JobEstimate, OverBudget, check_dataset, check_job
from mlcore.training.runner import SignalSpec


def catalog_workload(*, catalog: Catalog) -> Workload:
    """The sizes a job on ``catalog`` would train on, from three counts."""
    events = catalog.events.count()
    return Workload(n_users=catalog.shoppers.count(), n_items=catalog.products.count(),
                    n_interactions=events, n_events=events)


def training_budget_check(*, catalog: Catalog, signals: Sequence[SignalSpec]) -> JobEstimate:
    """The job's estimate; :class:`TrainingInputError` naming the signal to drop when it would not fit."""
    budget_mb = int(settings.TRAINING_MEMORY_BUDGET_MB)
    try:
        return check_job([(s.name, s.config) for s in signals], catalog_workload(catalog=catalog),
                         budget_bytes=budget_mb * MB if budget_mb > 0 else None)
    except OverBudget as exc:
        raise TrainingInputError(str(exc)) from None


def training_budget_recheck(*, data: Dataset, signals: Sequence[SignalSpec]) -> JobEstimate:
    """The worker's check right before fitting: ``data`` (the cleaned snapshot) against this
    process's budget; :class:`TrainingInputError` with the launch check's message when over."""
    try:
        return check_dataset(signals, data, budget_mb=int(settings.TRAINING_MEMORY_BUDGET_MB))
    except OverBudget as exc:
        raise TrainingInputError(str(exc)) from None
