"""Data-parallel training: two CPU processes (gloo) train ``mf`` and fine-tune ``text`` like one.

``mf`` splits every global batch between the ranks and DDP averages their gradients, so two
processes take the same optimiser steps as one: factors agree to float rounding (tolerance
1e-4) and the metrics match (1e-6). ``text`` keeps in-batch negatives local to each rank, so
it is not the same problem: the ranks end identical and move the encoder the same way.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
import torch.multiprocessing as mp

from mlcore.data import Dataset
from mlcore.recommenders.mf import MF, MFConfig
from mlcore.runtime import distributed

ROOT = Path(__file__).resolve().parents[3]
MF_CONFIG = MFConfig(factors=8, epochs=8, batch_size=16, lr=0.05, device="cpu", half_life_days=None, eval_every=4)
TEXTS = [
    ("Blue ceramic mug", "Red ceramic mug"),
    ("Ceramic teapot", "Porcelain tea cup"),
    ("Steel garden spade", "Garden rake"),
    ("Pruning shears", "Garden hose"),
    ("Wool winter scarf", "Knitted wool hat"),
    ("Leather wallet", "Leather belt"),
    ("Paper notebook", "Ballpoint pen"),
    ("Cotton t-shirt", "Denim jeans"),
]


def synthetic_events(n_users: int = 61, n_items: int = 24, seed: int = 0) -> pd.DataFrame:
    """Shoppers of three taste groups, 6-10 purchases each from their group's 8 items, one a day."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        group = u % 3
        items = rng.choice(np.arange(group * 8, group * 8 + 8), size=int(rng.integers(6, 11)))
        for day, item in enumerate(items):
            rows.append((f"u{u}", f"i{item}", pd.Timestamp("2024-01-01") + pd.Timedelta(days=day, hours=u % 24)))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])


def synthetic_dataset() -> Dataset:
    return Dataset.from_frames(synthetic_events())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(local_rank: int, world: int, port: int, out: str, task: str) -> None:
    """One torchrun-like process: the environment torchrun would set, then the task."""
    torch.set_num_threads(1)
    os.environ.update(RANK=str(local_rank), LOCAL_RANK=str(local_rank), WORLD_SIZE=str(world),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    assert distributed.init_from_env()
    try:
        result = _mf_task() if task == "mf" else _text_task()
        result["shard"] = distributed.shard(np.arange(7), seed=3, epoch=1)
        result["mean"] = np.array([distributed.all_reduce_mean(float(distributed.rank()))])
        np.savez(Path(out) / f"{task}-rank{distributed.rank()}.npz", **result)
    finally:
        distributed.shutdown()


def _mf_task(config: MFConfig = MF_CONFIG) -> dict[str, Any]:
    model = MF(config).fit(synthetic_dataset())
    return {"user": model.user_factors, "item": model.item_factors, "loss": np.array([h["loss"] for h in model.history_])}


def _text_task() -> dict[str, Any]:
    from mlcore.text import FinetuneConfig, TextEncoder, finetune

    torch.manual_seed(0)
    encoder = TextEncoder.load(device="cpu")
    for module in encoder.model.modules():  # no dropout: the runs differ only by their negatives
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    anchors, positives = [a for a, _ in TEXTS], [p for _, p in TEXTS]
    config = FinetuneConfig(epochs=2, max_steps=2, batch_size=8, lr=5e-4, freeze_layers=5, seed=0)
    result = finetune(encoder, anchors, positives, config)
    return {"embeddings": encoder.encode(anchors + positives), "loss": np.array(result.losses)}


def run_two_processes(tmp_path: Path, task: str) -> list[dict[str, np.ndarray]]:
    mp.spawn(_worker, args=(2, free_port(), str(tmp_path), task), nprocs=2, join=True)
    return [dict(np.load(tmp_path / f"{task}-rank{r}.npz")) for r in range(2)]


def test_the_helpers_are_no_ops_in_one_process():
    assert not distributed.is_distributed()
    assert (distributed.rank(), distributed.world_size(), distributed.is_main()) == (0, 1, True)
    assert not distributed.init_from_env()  # no WORLD_SIZE in the test environment
    assert sorted(distributed.shard(np.arange(7), seed=3, epoch=1)) == list(range(7))
    assert distributed.all_reduce_mean(2.5) == 2.5
    batch = np.arange(5)
    assert distributed.batch_part(batch) is batch
    assert distributed.wrap(torch.nn.Linear(2, 2)).__class__ is torch.nn.Linear


def test_two_processes_train_mf_to_the_factors_and_metrics_of_one(tmp_path):
    ranks = run_two_processes(tmp_path, "mf")
    single = _mf_task()
    # DDP keeps the ranks in sync: identical factors everywhere
    np.testing.assert_array_equal(ranks[0]["user"], ranks[1]["user"])
    np.testing.assert_array_equal(ranks[0]["item"], ranks[1]["item"])
    # the same steps as one process with the same global batch, up to float rounding
    np.testing.assert_allclose(ranks[0]["user"], single["user"], atol=1e-4)
    np.testing.assert_allclose(ranks[0]["item"], single["item"], atol=1e-4)
    np.testing.assert_allclose(ranks[0]["loss"], single["loss"], rtol=1e-4)
    assert single["loss"][-1] < single["loss"][0]
    # each rank got its own half of the padded permutation; the mean of ranks 0 and 1 is 0.5
    shards = [set(r["shard"].tolist()) for r in ranks]
    assert shards[0] | shards[1] == set(range(7)) and len(ranks[0]["shard"]) == len(ranks[1]["shard"]) == 4
    assert ranks[0]["mean"][0] == ranks[1]["mean"][0] == 0.5


def test_two_processes_fine_tune_the_text_encoder_alike(tmp_path):
    ranks = run_two_processes(tmp_path, "text")
    np.testing.assert_allclose(ranks[0]["embeddings"], ranks[1]["embeddings"], atol=1e-6)
    np.testing.assert_array_equal(ranks[0]["loss"], ranks[1]["loss"])  # the mean over ranks, everywhere
    assert len(ranks[0]["loss"]) == 2 and np.isfinite(ranks[0]["loss"]).all()

    from mlcore.text import TextEncoder

    texts = [a for a, _ in TEXTS] + [p for _, p in TEXTS]
    before = TextEncoder.load(device="cpu").encode(texts)
    single = _text_task()["embeddings"]
    moved = np.abs(single - before).max()
    assert moved > 1e-3  # the fine-tune changed the encoder
    # local negatives (4 pairs a rank instead of 8) change the steps a little, not their direction
    ddp_step, one_step = (ranks[0]["embeddings"] - before).ravel(), (single - before).ravel()
    cosine = ddp_step @ one_step / (np.linalg.norm(ddp_step) * np.linalg.norm(one_step))
    print(f"text: largest change {moved:.4f}, cosine of the changes {cosine:.3f}")
    assert cosine > 0.6


@pytest.mark.parametrize("signals", ["mf"])
def test_torchrun_trains_the_same_bundle_as_one_process(tmp_path, signals):
    events = tmp_path / "events.csv"
    synthetic_events().to_csv(events, index=False)
    settings = [f"--set=mf.{k}={json.dumps(v)}" for k, v in
                {"factors": 8, "epochs": 6, "batch_size": 16, "device": "cpu", "half_life_days": None}.items()]
    common = ["train", "--events", str(events), "--split", "leave-last-out", "--recommenders", signals, "--quiet", *settings]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    run = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "mlcore"]
    subprocess.run([*run, *common, "--out", str(tmp_path / "ddp"), "--json", str(tmp_path / "ddp.json")],
                   check=True, cwd=ROOT, env=env, capture_output=True, timeout=120)
    subprocess.run([sys.executable, "-m", "mlcore", *common, "--out", str(tmp_path / "one"), "--json",
                    str(tmp_path / "one.json")], check=True, cwd=ROOT, env=env, capture_output=True, timeout=120)
    ddp, one = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("ddp", "one"))
    for name in ("ndcg@10", "recall@10"):
        assert ddp["signals"]["mf"]["all"][name] == pytest.approx(one["signals"]["mf"]["all"][name], abs=1e-6)
    assert one["signals"]["mf"]["all"]["ndcg@10"] > 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert "ddp" in written and "one" in written
