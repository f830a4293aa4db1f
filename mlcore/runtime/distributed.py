"""Data-parallel training across processes (``torchrun --nproc_per_node N``), no-ops in one process.

``torchrun`` starts N copies of the program with ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR`` and ``MASTER_PORT`` in their environment; :func:`init_from_env` joins them
into one process group (NCCL on CUDA, else gloo) and pins each process to its GPU. The
trainers then wrap their ``nn.Module`` in :func:`wrap` (DistributedDataParallel, which
averages gradients) and give each rank its part of every step's batch with
:func:`batch_part`, so that N processes take the same optimiser steps as one process
with the same global ``batch_size``. Every helper works unchanged when not distributed.
"""
from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from mlcore.runtime.callback import Callback, NullCallback

T = TypeVar("T", np.ndarray, torch.Tensor)


def is_distributed() -> bool:
    """True inside an initialised process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank (0 when not distributed)."""
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    """The number of processes (1 when not distributed)."""
    return dist.get_world_size() if is_distributed() else 1


def is_main() -> bool:
    """Rank 0: the process that reports progress and writes files."""
    return rank() == 0


def init(
    rank: int, world_size: int, address: str, port: int, *, backend: str | None = None, timeout_s: float = 600.0
) -> bool:
    """Join a process group of ``world_size`` at ``address:port`` as ``rank`` without torchrun
    (a job that starts its own helper processes); ``timeout_s`` bounds a wait for a lost peer."""
    cuda = torch.cuda.is_available() and backend != "gloo"
    if cuda:
        torch.cuda.set_device(rank % torch.cuda.device_count())
    dist.init_process_group(
        backend=backend or ("nccl" if cuda else "gloo"),
        init_method=f"tcp://{address}:{port}",
        rank=rank,
        world_size=world_size,
        timeout=datetime.timedelta(seconds=timeout_s),
    )
    return is_distributed()


def init_from_env(backend: str | None = None) -> bool:
    """Join the process group that ``torchrun``'s environment describes; True when distributed.

    Does nothing when ``WORLD_SIZE`` is absent or 1, or when already initialised. ``backend``
    defaults to ``nccl`` when CUDA is present, else ``gloo``; on CUDA the process's device
    becomes ``cuda:LOCAL_RANK``.
    """
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1 or not dist.is_available():
        return False
    if not dist.is_initialized():
        cuda = torch.cuda.is_available()
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend=backend or ("nccl" if cuda else "gloo"))
    return is_distributed()


def shutdown() -> None:
    """Leave the process group (after a last barrier); a no-op when not distributed."""
    if is_distributed():
        barrier()
        dist.destroy_process_group()


def barrier() -> None:
    """Wait for every rank (a no-op when not distributed)."""
    if is_distributed():
        dist.barrier()


def _reduce(value: float, op: dist.ReduceOp.RedOpType) -> float:
    if not is_distributed():
        return float(value)
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
    tensor = torch.tensor([float(value)], dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=op)
    return float(tensor.item())


def all_reduce_sum(value: float) -> float:
    """The sum of ``value`` over all ranks (``value`` itself when not distributed)."""
    return _reduce(value, dist.ReduceOp.SUM)


def all_reduce_mean(value: float) -> float:
    """The mean of ``value`` over all ranks (``value`` itself when not distributed)."""
    return all_reduce_sum(value) / world_size()


def any_rank(flag: bool) -> bool:
    """True when ``flag`` is true on any rank, so that all ranks take the same branch."""
    return _reduce(1.0 if flag else 0.0, dist.ReduceOp.MAX) > 0.0


def shard(indices: Sequence[int] | np.ndarray, seed: int, epoch: int) -> np.ndarray:
    """This rank's share of a permutation of ``indices`` drawn from ``(seed, epoch)``.

    Every rank draws the same permutation and takes every ``world_size()``-th entry from
    its rank on; the permutation is padded by wrapping around (like ``DistributedSampler``)
    so that every rank gets the same count, ``ceil(len / world_size)``, and no rank waits
    for a step the others never take.
    """
    values = np.asarray(indices)
    order = np.random.default_rng([seed, epoch]).permutation(len(values))
    size = world_size()
    if len(order) and len(order) % size:
        order = np.concatenate([order, np.resize(order, size - len(order) % size)])
    return values[order[rank() :: size]]


def batch_part(batch: T) -> T:
    """This rank's contiguous part of a global ``batch`` (sizes differ by at most one)."""
    size = world_size()
    if size == 1:
        return batch
    n = len(batch)
    start, stop = rank() * n // size, (rank() + 1) * n // size
    return batch[start:stop]


def part_bounds(n: int) -> tuple[int, int]:
    """``(start, stop)`` of this rank's part of a global batch of ``n`` (see :func:`batch_part`)."""
    size = world_size()
    return rank() * n // size, (rank() + 1) * n // size


def wrap(module: nn.Module) -> nn.Module:
    """``module`` in DistributedDataParallel when distributed (rank 0's weights broadcast to all),
    else ``module`` itself."""
    if not is_distributed():
        return module
    from torch.nn.parallel import DistributedDataParallel

    device = next(module.parameters()).device
    ids = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids)


class RankCallback(Callback):
    """Rank 0 reports through ``inner``; the other ranks stay quiet. Cancellation is agreed
    between ranks (any rank asked to stop stops them all), so no rank waits for the others
    in a collective they left; every rank must therefore call :meth:`check` at the same points."""

    def __init__(self, inner: Callback | None) -> None:
        self.inner = inner if inner is not None else NullCallback()

    def progress(self, *, phase: str, done: int, total: int, metrics: dict[str, float] | None = None) -> None:
        if is_main():
            self.inner.progress(phase=phase, done=done, total=total, metrics=metrics)

    def log(self, message: str) -> None:
        if is_main():
            self.inner.log(message)

    def should_stop(self) -> bool:
        return any_rank(self.inner.should_stop())


def rank_callback(callback: Callback | None) -> Callback:
    """``callback`` itself in one process; a :class:`RankCallback` around it when distributed."""
    if not is_distributed():
        return callback if callback is not None else NullCallback()
    return callback if isinstance(callback, RankCallback) else RankCallback(callback)
