"""Contrastive fine-tuning of a :class:`TextEncoder` on text pairs (in-batch negatives).

Each batch of ``B`` (anchor, positive) pairs gives a ``B×B`` cosine matrix;
the loss is symmetric InfoNCE at ``temperature`` — cross-entropy of each anchor
against all positives and of each positive against all anchors. In-batch
"negatives" that are in fact the same text as the row's anchor or positive are
masked out. AdamW with linear warmup then linear decay; mixed precision on CUDA
(bf16, or fp16 with a gradient scaler). Either the whole model trains, or only
the layers above ``freeze_layers``, or only LoRA adapters on the attention
query/value projections (``lora=True``).

Under ``torchrun --nproc_per_node N`` (see :mod:`mlcore.runtime.distributed`) the model runs
in DistributedDataParallel: every rank draws the same batch of ``batch_size`` pairs and
encodes its own ``batch_size / N`` of them, so the in-batch negatives of a rank are only the
pairs of its own part (a smaller, cheaper contrastive problem than one process with the same
``batch_size``); gradients are averaged and the reported loss is the mean over ranks. Only
rank 0 reports progress; the weights end equal on every rank.
"""
from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from mlcore.runtime import Callback, distributed
from mlcore.text.encoder import TextEncoder, amp_dtype, autocast


@dataclass(frozen=True)
class FinetuneConfig:
    """Fine-tuning settings. ``max_steps`` 0 means "as many as ``epochs`` allow"."""

    epochs: int = 1
    max_steps: int = 0
    batch_size: int = 32
    lr: float = 2e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    temperature: float = 0.05
    grad_clip: float = 1.0
    freeze_layers: int = 0
    lora: bool = False
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    precision: str = "auto"
    seed: int = 0


@dataclass
class FinetuneResult:
    """What a run did: steps taken, loss per step, throughput (pairs/s), wall seconds, device."""

    steps: int
    losses: list[float] = field(default_factory=list)
    samples_per_s: float = 0.0
    seconds: float = 0.0
    device: str = "cpu"


def finetune(
    encoder: TextEncoder,
    anchors: Sequence[str],
    positives: Sequence[str],
    config: FinetuneConfig = FinetuneConfig(),
    callback: Callback | None = None,
) -> FinetuneResult:
    """Train ``encoder`` in place on aligned ``anchors[i] ↔ positives[i]`` texts.

    Reports ``phase="finetune"`` progress per step with ``loss`` and
    ``samples_per_s``; ``callback.check()`` may raise ``Cancelled`` between
    steps (the encoder is then left partly trained, in eval mode).
    """
    if len(anchors) != len(positives):
        raise ValueError(f"{len(anchors)} anchors but {len(positives)} positives; they must pair up")
    world = distributed.world_size()
    least = 2 * world  # every rank needs a pair and a negative
    if config.batch_size < least:
        raise ValueError(
            "batch_size must be at least 2: the other pairs of a batch are the negatives"
            if world == 1
            else f"batch_size must be at least {least} with {world} processes: each needs 2 pairs"
        )
    callback = distributed.rank_callback(callback)
    if config.lora and "lora" in encoder.adaptation:
        encoder.unmerge_lora()  # go on training the adapters it already has
    elif config.lora:
        encoder.add_lora(r=config.lora_r, alpha=config.lora_alpha, dropout=config.lora_dropout)
    elif "lora" in encoder.adaptation:
        raise ValueError("this encoder carries LoRA adapters: fine-tune it again with lora=True")
    else:
        encoder.freeze_lower_layers(config.freeze_layers)
    n = len(anchors)
    per_epoch = n // config.batch_size if n >= config.batch_size else (1 if n >= least else 0)
    total = per_epoch * config.epochs
    if config.max_steps > 0:
        total = min(total, config.max_steps) if total else 0
    result = FinetuneResult(steps=0, device=str(encoder.device))
    if total == 0:
        callback.log(f"fine-tuning skipped: {n} pairs are too few for batches of {config.batch_size}")
        return result

    ids = _text_ids(anchors, positives)
    params = [p for p in encoder.model.parameters() if p.requires_grad]
    model = distributed.wrap(encoder.model) if world > 1 else None  # after freezing: DDP syncs trainable ones
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    warmup = int(math.ceil(config.warmup_ratio * total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: _lr_factor(step, warmup, total))
    dtype = amp_dtype(encoder.device, config.precision)
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    previous = encoder.precision
    encoder.precision = config.precision
    generator = torch.Generator().manual_seed(config.seed)
    started = time.perf_counter()
    seen = 0
    encoder.model.train()
    try:
        while result.steps < total:
            order = torch.randperm(n, generator=generator).numpy()
            for start in range(0, max(n - 1, 1), config.batch_size):
                idx = order[start : start + config.batch_size]
                if len(idx) < least or result.steps >= total:
                    break
                callback.check()
                if model is None:
                    loss = _step(encoder, anchors, positives, ids, idx, config, optimizer, scaler, params)
                else:
                    part = distributed.batch_part(idx)
                    loss = _step(encoder, anchors, positives, ids, part, config, optimizer, scaler, params, model)
                    loss = distributed.all_reduce_mean(loss)
                scheduler.step()
                result.steps += 1
                seen += len(idx)
                result.losses.append(loss)
                rate = seen / max(time.perf_counter() - started, 1e-9)
                callback.progress(
                    phase="finetune", done=result.steps, total=total, metrics={"loss": loss, "samples_per_s": rate}
                )
    finally:
        encoder.model.eval()
        encoder.precision = previous
        result.seconds = time.perf_counter() - started
        result.samples_per_s = seen / max(result.seconds, 1e-9)
    return result


def _step(
    encoder: TextEncoder,
    anchors: Sequence[str],
    positives: Sequence[str],
    ids: np.ndarray,
    idx: np.ndarray,
    config: FinetuneConfig,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    params: list[torch.nn.Parameter],
    model: torch.nn.Module | None = None,
) -> float:
    optimizer.zero_grad(set_to_none=True)
    with autocast(encoder.device, config.precision):
        if model is None:
            a = encoder.forward(encoder.tokenize([anchors[i] for i in idx]))
            p = encoder.forward(encoder.tokenize([positives[i] for i in idx]))
        else:  # one DDP forward per backward: anchors and positives in one batch
            both = encoder.forward(encoder.tokenize([anchors[i] for i in idx] + [positives[i] for i in idx]), model)
            a, p = both[: len(idx)], both[len(idx) :]
    loss = info_nce(a, p, torch.as_tensor(ids[idx], device=encoder.device), config.temperature)
    scaler.scale(loss).backward()
    if config.grad_clip > 0:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
    scaler.step(optimizer)
    scaler.update()
    return float(loss.detach())


def info_nce(a: torch.Tensor, p: torch.Tensor, ids: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE of unit vectors ``a, p`` (B, d); ``ids`` (B, 2) text ids of each pair.

    Off-diagonal cells whose column holds the same text as the row's anchor or
    positive are not negatives and are masked out.
    """
    logits = (a.float() @ p.float().T) / temperature
    left, right = ids[:, 0], ids[:, 1]
    same = (left[:, None] == left[None, :]) | (right[:, None] == right[None, :]) | (left[:, None] == right[None, :])
    same.fill_diagonal_(False)
    target = torch.arange(len(a), device=a.device)
    forward = torch.nn.functional.cross_entropy(logits.masked_fill(same, float("-inf")), target)
    backward = torch.nn.functional.cross_entropy(logits.T.masked_fill(same.T, float("-inf")), target)
    return (forward + backward) / 2


def _text_ids(anchors: Sequence[str], positives: Sequence[str]) -> np.ndarray:
    lookup: dict[str, int] = {}
    ids = np.empty((len(anchors), 2), dtype=np.int64)
    for i, (a, p) in enumerate(zip(anchors, positives, strict=True)):
        ids[i, 0] = lookup.setdefault(a, len(lookup))
        ids[i, 1] = lookup.setdefault(p, len(lookup))
    return ids


def _lr_factor(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total - step) / max(total - warmup, 1))
