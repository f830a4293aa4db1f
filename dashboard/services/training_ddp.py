"""Training jobs on several processes: DistributedDataParallel for ``mf`` and ``text``.

A job whose params hold ``"processes": N`` (N > 1) trains as N ranks of one process group
(gloo on the cpu queue, NCCL on the gpu queue: one GPU per process). The worker's own
process is rank 0: it reports progress, honours cancellation, writes the bundle and registers
the version exactly as a one-process job does. Ranks 1..N-1 are helper processes
(:func:`follow`, started with ``python -c``) that read the same snapshot, clean and
split it the same way and run the same training, so that ``mf`` and ``text`` take their DDP
steps together; the other signals are computed on every rank alike. Helpers never touch the
database or the artifact folders (their stderr goes to ``rank-<r>.log`` in the job folder).
A helper that dies leaves rank 0 waiting in a collective for at most ``timeout_s``.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from django.conf import settings

from dashboard.models import JobQueue, TrainingJob
from dashboard.services.training_snapshot import TrainingInputError, parse_params, snapshot_read
from mlcore.data import Dataset, Split, clean_dataset
from mlcore.runtime import Callback, distributed
from mlcore.training.runner import RunConfig, RunResult, run

MAX_PROCESSES = 16
SPEC_FILE = "ddp.json"
FOLLOW = ("import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'recsite.settings'); "
          "django.setup(); from dashboard.services.training_ddp import follow; follow(sys.argv[1], int(sys.argv[2]))")


def processes_param(params: Mapping[str, Any], queue: str = JobQueue.CPU) -> int:
    """The job's ``processes`` (default 1), checked: a whole number from 1 to 16, and on the
    gpu queue no more than the GPUs here."""
    raw = params.get("processes", 1)
    try:
        n = int(raw)
        if n != float(raw):
            raise ValueError
    except (TypeError, ValueError):
        raise TrainingInputError(f"processes={raw!r} is not a whole number; use 1 (one process) to 16") from None
    if not 1 <= n <= MAX_PROCESSES:
        raise TrainingInputError(f"processes={n} is out of range; use 1 (one process) to {MAX_PROCESSES}")
    if n > 1 and queue == JobQueue.GPU and torch.cuda.is_available() and n > torch.cuda.device_count():
        raise TrainingInputError(f"processes={n} on the gpu queue needs {n} GPUs; this machine has "
                                 f"{torch.cuda.device_count()}")
    return n


def job_inputs(*, params: Mapping[str, Any], queue: str, folder: Path) -> tuple[Dataset, Split, RunConfig]:
    """What every helper rank trains on, built the way :func:`training_job_run` builds it."""
    from dashboard.services.training import _signals_for

    checked = parse_params({**params, "configs": {}})
    config = RunConfig(signals=_signals_for(TrainingJob(params=dict(params), queue=queue)), ks=checked.ks)
    events, products = snapshot_read(folder)
    data, _ = clean_dataset(Dataset.from_frames(events, products, event_weights=checked.event_weights))
    return data, checked.split.make(data), config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_job(
    *, job: TrainingJob, folder: Path, data: Dataset, split: Split, config: RunConfig, callback: Callback,
    timeout_s: float = 600.0,
) -> RunResult:
    """:func:`mlcore.training.runner.run` on ``job.params["processes"]`` processes (this one is rank 0)."""
    n = processes_param(job.params, job.queue)
    if n == 1:
        return run(data, split, config, callback=callback)
    backend = "nccl" if job.queue == JobQueue.GPU and torch.cuda.is_available() else "gloo"
    port = _free_port()
    spec = folder / SPEC_FILE
    spec.write_text(json.dumps({"params": job.params, "queue": job.queue, "folder": str(folder),
                                "world_size": n, "port": port, "backend": backend, "timeout_s": timeout_s}))
    callback.log(f"{n} processes ({backend}): DistributedDataParallel for mf and text")
    helpers = []
    try:
        for r in range(1, n):
            with open(folder / f"rank-{r}.log", "w") as log:
                helpers.append(subprocess.Popen(
                    [sys.executable, "-c", FOLLOW, str(spec), str(r)],
                    cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT,
                    env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")},
                ))
        distributed.init(0, n, "127.0.0.1", port, backend=backend, timeout_s=timeout_s)
        result = run(data, split, config, callback=callback)
        distributed.shutdown()
        for r, helper in enumerate(helpers, start=1):
            if helper.wait(timeout=60) != 0:
                raise RuntimeError(f"helper process {r} failed: {_tail(folder / f'rank-{r}.log')}")
        return result
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
        for helper in helpers:
            if helper.poll() is None:
                helper.kill()
                helper.wait()


def _tail(path: Path, chars: int = 2000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


def follow(spec_path: str, rank: int) -> None:
    """A helper rank: join the group, train like rank 0, write nothing."""
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    spec = json.loads(Path(spec_path).read_text())
    data, split, config = job_inputs(params=spec["params"], queue=spec["queue"], folder=Path(spec["folder"]))
    distributed.init(rank, spec["world_size"], "127.0.0.1", spec["port"], backend=spec["backend"],
                     timeout_s=spec["timeout_s"])
    try:
        run(data, split, config)
    finally:
        distributed.shutdown()

