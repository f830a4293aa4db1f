"""Matrix factorisation in torch: iALS-style weighted squared loss (default) or BPR.

iALS loss (Hu, Koren & Volinsky 2008; Rendle et al. 2022), trained by minibatches of users:

    L = Σ_(u,i) observed c_ui (1 - ŷ_ui)² + α₀ Σ_(u,i) all ŷ_ui² + λ (‖U‖² + ‖V‖²),  ŷ_ui = u·v_i

The all-pairs term is computed exactly through the item Gramian, Σ_u uᵀ(VᵀV)u, so a batch
costs O(batch nnz · d + n_items · d²) and never enumerates the unobserved pairs.
BPR (Rendle et al. 2009) samples one random negative per observed pair instead.
Runs on CUDA when present, with bf16 autocast there; CPU runs in float32.
Under ``torchrun --nproc_per_node N`` (see :mod:`mlcore.runtime.distributed`) the loss runs in
DistributedDataParallel, each process taking its part of every batch; the factors stay equal on all ranks.
"""
from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Self

import numpy as np
import torch
from torch import nn

from mlcore.data import Dataset
from mlcore.recommenders._sparse import item_columns
from mlcore.recommenders.base import Recommender, register
from mlcore.recommenders.cost import MB, Cost, Workload
from mlcore.runtime import Callback, distributed, pick_device

SAMPLES_PER_S = 1.2e5  # observed pairs per second of one iALS epoch on 2 shared CPU cores (benchmarks/scale.py, 1k–10k products)


@dataclass(frozen=True)
class MFConfig:
    """Matrix factorisation settings (defaults: the best of a small grid on Online Retail's
    2011-11-01 temporal split, NDCG@10 0.30 against 0.28 for the implicit library's ALS).

    - ``factors``: embedding size d. ``loss``: ``"ials"`` or ``"bpr"``.
    - ``epochs``: passes over the shoppers (ials) or observed pairs (bpr).
    - ``batch_size``: shoppers per step (ials) or (user, item, negative) triples per step (bpr).
    - ``lr``: Adam's initial learning rate, cosine-annealed to 0 over ``epochs``.
    - ``l2``: λ, the L2 penalty on the factors.
    - ``unobserved_weight``: α₀, how strongly non-interactions pull scores to 0 (ials).
    - ``confidence``: c_ui = 1 + confidence · log1p(summed event weight) (ials; 0 = all equal).
    - ``half_life_days``: optional recency decay of the interactions.
    - ``patience``: with a ``validation`` function given to :meth:`MF.fit`, stop after this many
      evaluations without improvement and keep the best factors (0 = never stop early).
    - ``eval_every``: epochs between validation calls. ``seed``: makes runs repeatable.
    - ``device``: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda[:N]"``.
    - ``mixed_precision``: bf16 autocast on CUDA (ignored on CPU).
    - ``cpu_threads``: torch intra-op threads while fitting on CPU, restored afterwards
      (0 = leave torch's setting). The ops are small, so extra threads gain little and
      cost ten times over when the cores are shared with other work.
    """

    factors: int = 64
    loss: Literal["ials", "bpr"] = "ials"
    epochs: int = 30
    batch_size: int = 256
    lr: float = 0.05
    l2: float = 0.1
    unobserved_weight: float = 1.0
    confidence: float = 2.0
    half_life_days: float | None = 30.0
    patience: int = 0
    eval_every: int = 5
    seed: int = 0
    device: str = "auto"
    mixed_precision: bool = True
    cpu_threads: int = 1


class MatrixFactorization(nn.Module):
    """User and item embeddings; ``forward(users, items)`` gives the pairwise dot products."""

    def __init__(self, n_users: int, n_items: int, factors: int, generator: torch.Generator) -> None:
        super().__init__()
        scale = 0.1 / math.sqrt(factors)
        self.user = nn.Parameter(torch.randn(n_users, factors, generator=generator) * scale)
        self.item = nn.Parameter(torch.randn(n_items, factors, generator=generator) * scale)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return (self.user[users] * self.item[items]).sum(-1)


_Autocast = contextlib.AbstractContextManager[object]


class _IALSObjective(nn.Module):
    """One iALS minibatch loss; a module so that DistributedDataParallel can wrap it.

    ``forward(u, i, c, batch_users, divisor)``: observed pairs (nnz,) of ``batch_users`` (b,),
    summed and divided by ``divisor`` (the global batch size / world size). The items' L2 term
    is charged in proportion to the batch's share of the ``n_users`` shoppers.
    """

    def __init__(
        self, model: MatrixFactorization, unobserved_weight: float, l2: float, n_users: int, amp: _Autocast
    ) -> None:
        super().__init__()
        self.mf, self.unobserved_weight, self.l2, self.n_users, self.amp = model, unobserved_weight, l2, n_users, amp

    def forward(
        self, u: torch.Tensor, i: torch.Tensor, c: torch.Tensor, batch_users: torch.Tensor, divisor: float
    ) -> torch.Tensor:
        model, w = self.mf, self.unobserved_weight
        with self.amp:
            pred = model(u, i).float()
            user_vecs = model.user[batch_users]
            gram = model.item.T @ model.item
            all_pairs = ((user_vecs @ gram.float()) * user_vecs).sum()
        observed = (c * (1.0 - pred) ** 2).sum() - w * (pred**2).sum()
        share = len(batch_users) / self.n_users
        penalty = self.l2 * (user_vecs.float().pow(2).sum() + share * model.item.pow(2).sum())
        return (observed + w * all_pairs.float() + penalty) / divisor


class _BPRObjective(nn.Module):
    """One BPR minibatch loss over (user, positive, negative) triples (b,), divided by ``divisor``."""

    def __init__(self, model: MatrixFactorization, l2: float, amp: _Autocast) -> None:
        super().__init__()
        self.mf, self.l2, self.amp = model, l2, amp

    def forward(self, u: torch.Tensor, i: torch.Tensor, j: torch.Tensor, divisor: float) -> torch.Tensor:
        model = self.mf
        with self.amp:
            margin = (model(u, i) - model(u, j)).float()
        vecs = (model.user[u], model.item[i], model.item[j])
        penalty = self.l2 * sum(v.pow(2).sum() for v in vecs) / divisor
        if divisor == len(u):  # one process: the mean, exactly as before
            return -torch.nn.functional.logsigmoid(margin).mean() + penalty
        return -torch.nn.functional.logsigmoid(margin).sum() / divisor + penalty


@register
class MF(Recommender):
    """score[u, i] = user_factors[u] · item_factors[i]; unknown shoppers get zeros."""

    name = "mf"
    Config = MFConfig
    config: MFConfig
    user_factors: np.ndarray  # (n_users, factors) float32
    item_factors: np.ndarray  # (n_items, factors) float32

    def fit(
        self,
        data: Dataset,
        callback: Callback | None = None,
        *,
        validation: Callable[[MF], float] | None = None,
    ) -> Self:
        """Train; ``validation(model)`` (higher is better, e.g. NDCG@10) drives early stopping."""
        threads = torch.get_num_threads()
        if self.config.cpu_threads and pick_device(self.config.device).type == "cpu":
            torch.set_num_threads(self.config.cpu_threads)
        try:
            return self._fit(data, distributed.rank_callback(callback), validation)
        finally:
            torch.set_num_threads(threads)

    def _fit(self, data: Dataset, cb: Callback, validation: Callable[[MF], float] | None) -> Self:
        self._bind(data)
        cfg = self.config
        device = pick_device(cfg.device)
        generator = torch.Generator().manual_seed(cfg.seed)
        x = data.matrix(half_life_days=cfg.half_life_days).tocoo()
        rows = torch.as_tensor(x.row, dtype=torch.int64, device=device)
        cols = torch.as_tensor(x.col, dtype=torch.int64, device=device)
        conf = torch.as_tensor(1.0 + cfg.confidence * np.log1p(x.data), dtype=torch.float32, device=device)
        # Shoppers without interactions only ever see the regulariser: serve them zeros, not noise.
        self._untrained = np.bincount(x.row, minlength=data.n_users) == 0
        model = MatrixFactorization(data.n_users, data.n_items, cfg.factors, generator).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        # Cosine annealing: large steps early, a settled minimum at the end (Adam alone oscillates).
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(cfg.epochs, 1))
        if cfg.loss not in ("ials", "bpr"):
            raise ValueError(f"mf loss must be 'ials' or 'bpr', not {cfg.loss!r}")
        step = self._ials_epoch if cfg.loss == "ials" else self._bpr_epoch
        amp = _autocast(device, cfg.mixed_precision)
        # one process: the objective itself; under torchrun: wrapped in DDP (gradients averaged)
        objective = distributed.wrap(
            _IALSObjective(model, cfg.unobserved_weight, cfg.l2, data.n_users, amp)
            if cfg.loss == "ials"
            else _BPRObjective(model, cfg.l2, amp)
        )
        best, best_epoch, waited = -math.inf, 0, 0
        self.history_: list[dict[str, float]] = []
        for epoch in range(1, cfg.epochs + 1):
            cb.check()
            started = time.perf_counter()
            loss, samples = step(model, objective, optimizer, rows, cols, conf, generator, amp)
            schedule.step()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            metrics = {"loss": loss, "samples_per_s": samples / max(time.perf_counter() - started, 1e-9)}
            if validation is not None and (epoch % cfg.eval_every == 0 or epoch == cfg.epochs):
                self._export(model)
                metrics["validation"] = value = float(validation(self))
                if value > best:
                    best, best_epoch, waited = value, epoch, 0
                    best_factors = (self.user_factors.copy(), self.item_factors.copy())
                else:
                    waited += 1
            self.history_.append({"epoch": float(epoch), **metrics})
            cb.progress(phase="mf", done=epoch, total=cfg.epochs, metrics=metrics)
            if cfg.patience and waited >= cfg.patience:
                cb.log(f"mf: early stop at epoch {epoch}, best validation {best:.4f} at epoch {best_epoch}")
                break
        if validation is not None and best_epoch:
            self.user_factors, self.item_factors = best_factors
        else:
            self._export(model)
        return self

    # -- one epoch of each loss --------------------------------------------------------
    # Under torchrun every rank draws the same permutation (same seed) and computes the loss of
    # its contiguous part of each global batch, scaled so that DDP's gradient average equals
    # the gradient of the whole batch: N processes take the steps one process would take.
    def _ials_epoch(self, model, objective, optimizer, rows, cols, conf, generator, amp):  # type: ignore[no-untyped-def]
        cfg, n_users = self.config, model.user.shape[0]
        device = rows.device
        perm = torch.randperm(n_users, generator=generator).to(device)
        position = torch.empty_like(perm)
        position[perm] = torch.arange(n_users, device=device)
        nnz_position = position[rows]
        order = torch.argsort(nnz_position)
        starts = list(range(0, n_users, cfg.batch_size))
        parts = [(k + a, k + b) for k in starts for a, b in [distributed.part_bounds(min(cfg.batch_size, n_users - k))]]
        edges = torch.tensor([lo for lo, _ in parts] + [hi for _, hi in parts], device=device)
        bounds = torch.searchsorted(nnz_position[order], edges).tolist()
        world = distributed.world_size()
        total: torch.Tensor | float = 0.0
        for k, (lo, hi) in enumerate(parts):
            batch_users = perm[lo:hi]
            picked = order[bounds[k] : bounds[len(parts) + k]]
            divisor = min(cfg.batch_size, n_users - starts[k]) / world
            loss = objective(rows[picked], cols[picked], conf[picked], batch_users, divisor)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total = total + loss.detach() * divisor  # stays on the device: no sync per step
        return distributed.all_reduce_sum(float(total)) / n_users, len(rows)

    def _bpr_epoch(self, model, objective, optimizer, rows, cols, conf, generator, amp):  # type: ignore[no-untyped-def]
        cfg, n_items = self.config, model.item.shape[0]
        device = rows.device
        perm = torch.randperm(len(rows), generator=generator).to(device)
        negatives = torch.randint(0, n_items, (len(rows),), generator=generator).to(device)
        world = distributed.world_size()
        total: torch.Tensor | float = 0.0
        for start in range(0, len(rows), cfg.batch_size):
            lo, hi = distributed.part_bounds(len(perm[start : start + cfg.batch_size]))
            picked = perm[start + lo : start + hi]
            divisor = len(perm[start : start + cfg.batch_size]) / world
            loss = objective(rows[picked], cols[picked], negatives[start + lo : start + hi], divisor)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total = total + loss.detach() * divisor
        return distributed.all_reduce_sum(float(total)) / max(len(rows), 1), len(rows)

    def _export(self, model: MatrixFactorization) -> None:
        self.user_factors = model.user.detach().float().cpu().numpy().astype(np.float32)
        self.user_factors[self._untrained] = 0.0
        self.item_factors = model.item.detach().float().cpu().numpy().astype(np.float32)

    @classmethod
    def cost(cls, workload: Workload, config: MFConfig | None = None) -> Cost:
        cfg = config if config is not None else MFConfig()
        factors = 4 * cfg.factors * (workload.n_users + workload.n_items)
        # torch's runtime, the (row, col, confidence) tensors and the factors with grads and Adam moments
        return Cost(
            peak_bytes=80 * MB + workload.matrix_bytes + 20 * workload.n_interactions + 4 * factors,
            model_bytes=factors,
            seconds=cfg.epochs * workload.n_interactions / SAMPLES_PER_S,
            note="lower mf.factors",
        )

    # -- scoring and artifacts -----------------------------------------------------------
    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64).reshape(-1)
        known = (users >= 0) & (users < len(self.user_factors))
        vecs = np.zeros((len(users), self.user_factors.shape[1]), dtype=np.float32)
        vecs[known] = self.user_factors[users[known]]
        cols = item_columns(self.n_items, items)
        item_vecs = self.item_factors if cols is None else self.item_factors[cols]
        return np.ascontiguousarray(vecs @ item_vecs.T, dtype=np.float32)

    def _save_arrays(self) -> dict[str, np.ndarray]:
        return {"user_factors": self.user_factors, "item_factors": self.item_factors}

    def _load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.user_factors = arrays["user_factors"].astype(np.float32)
        self.item_factors = arrays["item_factors"].astype(np.float32)


def _autocast(device: torch.device, enabled: bool) -> _Autocast:
    """bf16 autocast for the matrix products on CUDA; a no-op on CPU, when disabled, or on GPUs
    without bf16 (fp16 would need loss scaling for no real gain at these sizes)."""
    if not enabled or device.type != "cuda" or not torch.cuda.is_bf16_supported():
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
