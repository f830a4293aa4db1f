"""``sequential``: what a shopper takes next, from the order of their recent items (SASRec-style).

A small causal transformer (:class:`~mlcore.recommenders.sequential_model.SASRec`) reads the newest
``max_len`` items of each shopper's history, oldest first, and is trained to predict every next item
with full softmax cross-entropy over the catalogue. Item vectors start from the catalogue's text
embeddings (MiniLM over title, brand, category, description), projected to ``dim`` by their principal
components, so products nobody bought yet still have a representation.

Scoring the training snapshot is one dot product: the hidden state after a shopper's last item
(``user_states``, (n_users, dim)) against the item table. At request time :meth:`score_sequences`
runs the network on a live session instead (a guest's recent items, or a known shopper's latest
clicks), so the next page follows the last click without retraining; :meth:`because` names the
recent item a recommendation owes most to ("because you just viewed X").

Runs on CUDA with bf16 autocast when present, on CPU otherwise; under ``torchrun`` each process takes
its part of every batch and DistributedDataParallel averages the gradients (see :mod:`mlcore.runtime.distributed`).
:meth:`fit` with ``init_from`` warm-starts from a fitted model of the same catalogue (an incremental refresh).

Artifacts: ``meta.json``, ``users.json``/``items.json`` and ``model.safetensors`` (the network,
the merged item table, the text projection, ``user_states`` and each shopper's newest ``max_len`` items).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np
import torch

from mlcore.data import Dataset
from mlcore.recommenders._sparse import item_columns
from mlcore.recommenders.base import Recommender, register
from mlcore.recommenders.cost import MB, Cost, Workload
from mlcore.recommenders.mf import _autocast
from mlcore.recommenders.sequential_model import NextItemLoss, SASRec, last_window, training_windows, user_sequences
from mlcore.runtime import Callback, distributed, pick_device

WEIGHTS_FILE = "model.safetensors"
CPU_FLOPS = 2e9  # float32 FLOP/s of a fit on 2 shared CPU cores (Online Retail, dim 64: 673 targets/s = 1.4e9 under heavy load)
TEXTS_PER_S = 25.0  # product texts MiniLM encodes per second on 2 CPU cores (as for the text signal)


@dataclass(frozen=True)
class SequentialConfig:
    """Settings of the ``sequential`` signal.

    - ``dim``, ``layers``, ``heads``: the transformer's width, depth and attention heads.
    - ``max_len``: the newest items read per shopper; ``windows_per_user``: training stretches of
      ``max_len + 1`` items taken per shopper, newest first (0: the whole history).
    - ``epochs``, ``batch_size`` (windows per step), ``lr`` (AdamW, linear warm-up then cosine to 0),
      ``weight_decay``, ``dropout``.
    - ``text_init``: start item vectors from the catalogue's text embeddings (``text_model``: a model
      folder, empty for the bundled MiniLM; ``text_fields``; ``cache_dir``: an embedding cache shared
      with the ``text`` signal, see :class:`~mlcore.text.EmbeddingCache`).
    - ``patience``/``eval_every``: with a ``validation`` function given to :meth:`Sequential.fit`, stop
      after that many evaluations without gain and keep the best weights.
    - ``device``, ``mixed_precision`` (bf16 autocast on CUDA), ``cpu_threads`` (torch's threads while fitting on CPU, restored after; 0: leave torch's — the ops are small, one thread is fastest on shared cores), ``seed``.
    """

    dim: int = 64
    layers: int = 2
    heads: int = 2
    max_len: int = 50
    windows_per_user: int = 4
    epochs: int = 20
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 0.01
    dropout: float = 0.2
    text_init: bool = True
    text_model: str = ""
    text_fields: str = "title,brand,category,description"
    cache_dir: str = ""
    patience: int = 0
    eval_every: int = 5
    device: str = "auto"
    mixed_precision: bool = True
    cpu_threads: int = 1
    seed: int = 0


@register
class Sequential(Recommender):
    """score[u, i] = hidden state after u's last item · item i's vector; unknown shoppers get zeros."""

    name = "sequential"
    Config = SequentialConfig
    arrays_file = WEIGHTS_FILE  # the network's weights as safetensors (no pickle, no .npz)
    config: SequentialConfig

    def __init__(self, config: SequentialConfig | None = None) -> None:
        super().__init__(config)
        self.net: SASRec | None = None
        self.item_table = np.zeros((0, 0), dtype=np.float32)  # (n_items + 1, dim); row 0 padding
        self.text_proj = np.zeros((0, 0), dtype=np.float32)  # (text_dim, dim); empty without text
        self.user_states = np.zeros((0, 0), dtype=np.float32)  # (n_users, dim)
        # each shopper's newest ``max_len`` training items (columns, oldest first): rows of a ragged array
        self.history_indptr = np.zeros(1, dtype=np.int64)
        self.history_items = np.zeros(0, dtype=np.int64)
        self._state: dict[str, torch.Tensor] = {}  # the network's other weights (blocks, positions, norm)
        self.history_: list[dict[str, float]] = []

    # -- training ------------------------------------------------------------------
    def fit(self, data: Dataset, callback: Callback | None = None, *,
            item_embeddings: np.ndarray | None = None, init_from: Sequential | None = None,
            validation: Callable[[Sequential], float] | None = None) -> Self:
        """Train on ``data``. ``item_embeddings`` (n_items, text_dim): text vectors to start from
        (default: encoded here when ``text_init``). ``init_from``: a fitted model over the same items
        whose weights this fit continues from. ``validation(model)`` (higher is better) drives early
        stopping with ``patience``."""
        cfg = self.config
        device = pick_device(cfg.device)
        threads = torch.get_num_threads()
        if cfg.cpu_threads and device.type == "cpu":
            torch.set_num_threads(cfg.cpu_threads)
        try:
            return self._fit(data, distributed.rank_callback(callback), device, item_embeddings, init_from, validation)
        finally:
            torch.set_num_threads(threads)

    def _fit(self, data: Dataset, cb: Callback, device: torch.device, text: np.ndarray | None,
             init_from: Sequential | None, validation: Callable[[Sequential], float] | None) -> Self:
        self._bind(data)
        cfg = self.config
        if init_from is not None and init_from.items != data.items:
            raise ValueError("sequential: init_from was trained on another item map; retrain from scratch")
        if text is None and cfg.text_init and init_from is None:
            text = self._encode_texts(data, cb)
        if text is not None and len(text) != data.n_items:
            raise ValueError(f"sequential: item_embeddings has {len(text)} rows, the catalogue {data.n_items} items")
        generator = torch.Generator().manual_seed(cfg.seed)
        torch.manual_seed(cfg.seed)
        if init_from is not None:  # the merged item table becomes the free part; the projection is kept
            net = init_from._network(train=True, dropout=cfg.dropout).to(device)
        else:
            net = SASRec(data.n_items, cfg.dim, cfg.max_len, cfg.layers, cfg.heads, cfg.dropout, text, generator).to(device)
        weights = self._weights(data)
        sequences = user_sequences(data.user_index[weights], data.item_index[weights], data.n_users)
        inputs, targets = training_windows(sequences, cfg.max_len, cfg.windows_per_user)
        per_window = (targets > 0).sum(axis=1)
        n_targets = int(per_window.sum())
        cb.log(f"sequential: {len(inputs)} windows, {n_targets} next-item targets, {data.n_items} items, on {device}")
        amp = _autocast(device, cfg.mixed_precision)
        objective = distributed.wrap(NextItemLoss(net, amp))
        decay = [p for n, p in net.named_parameters() if p.ndim >= 2 and n != "pos"]
        other = [p for n, p in net.named_parameters() if not (p.ndim >= 2 and n != "pos")]
        optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                       {"params": other, "weight_decay": 0.0}], lr=cfg.lr)
        steps_per_epoch = max(1, math.ceil(len(inputs) / cfg.batch_size))
        total_steps = max(1, cfg.epochs * steps_per_epoch)
        warmup = min(100, total_steps // 10) if init_from is None else 0
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: (s + 1) / warmup if s < warmup else 0.5 * (1 + math.cos(math.pi * (s - warmup) / max(1, total_steps - warmup))))
        x_all = torch.as_tensor(inputs, device=device)
        y_all = torch.as_tensor(targets, device=device)
        world = distributed.world_size()
        best, best_epoch, waited, best_state = -math.inf, 0, 0, None
        self.history_ = []
        for epoch in range(1, cfg.epochs + 1):
            cb.check()
            started = time.perf_counter()
            net.train()
            order = torch.randperm(len(inputs), generator=generator)  # the same on every rank (same seed)
            total: torch.Tensor | float = 0.0
            for start in range(0, len(inputs), cfg.batch_size):
                batch = order[start : start + cfg.batch_size]
                lo, hi = distributed.part_bounds(len(batch))
                part = batch[lo:hi].to(device)
                # the whole batch's target count, so that DDP's gradient average is the batch mean's gradient
                divisor = float(per_window[batch.numpy()].sum()) / world
                loss = objective(x_all[part], y_all[part], divisor)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
                optimizer.step()
                schedule.step()
                total = total + loss.detach() * divisor
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            seconds = time.perf_counter() - started
            metrics = {"loss": distributed.all_reduce_sum(float(total)) / max(n_targets, 1), "epoch_s": seconds,
                       "targets_per_s": n_targets / max(seconds, 1e-9)}
            if validation is not None and (epoch % cfg.eval_every == 0 or epoch == cfg.epochs):
                self._export(net, sequences)
                metrics["validation"] = value = float(validation(self))
                if value > best:
                    best, best_epoch, waited = value, epoch, 0
                    best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
                else:
                    waited += 1
            self.history_.append({"epoch": float(epoch), **metrics})
            cb.progress(phase="sequential", done=epoch, total=cfg.epochs, metrics=metrics)
            if cfg.patience and waited >= cfg.patience:
                cb.log(f"sequential: early stop at epoch {epoch}, best validation {best:.4f} at epoch {best_epoch}")
                break
        if best_state is not None:
            net.load_state_dict(best_state)
        self._export(net, sequences)
        if init_from is not None:
            self.text_proj = init_from.text_proj
        return self

    def _weights(self, data: Dataset) -> np.ndarray:
        """(n_events,) bool: the events that count (their type has a positive weight)."""
        w = data.events["type"].map(dict(data.event_weights)).fillna(0.0).to_numpy(dtype=np.float64)
        return (w > 0) & (data.user_index >= 0) & (data.item_index >= 0)

    def _encode_texts(self, data: Dataset, cb: Callback) -> np.ndarray:
        from mlcore.text import EmbeddingCache, ProductTextConfig, TextEncoder, product_texts

        cfg = self.config
        encoder = TextEncoder.load(cfg.text_model or None, device=cfg.device)
        texts = product_texts(data.products, ProductTextConfig(fields=cfg.text_fields))
        if cfg.cache_dir:
            return EmbeddingCache(cfg.cache_dir).encode(encoder, texts, 64, cb, phase="sequential: encode products")
        return encoder.encode(texts, 64, cb, phase="sequential: encode products")

    def _export(self, net: SASRec, sequences: list[np.ndarray]) -> None:
        """Keep the merged item table, the projection and every shopper's state as numpy arrays."""
        net.eval()
        with torch.no_grad():
            self.item_table = net.table().float().cpu().numpy()
            self.text_proj = net.proj.detach().float().cpu().numpy()
            self._state = {k: v.detach().float().cpu() for k, v in net.state_dict().items() if k not in ("free", "proj")}
            self.net = None
            newest = [s[-self.config.max_len :] for s in sequences]
            self.history_indptr = np.concatenate([[0], np.cumsum([len(s) for s in newest])]).astype(np.int64)
            self.history_items = np.concatenate([*newest, np.zeros(0, dtype=np.int64)]).astype(np.int64)
            self.user_states = self.score_states(sequences)

    # -- the network at serving time ---------------------------------------------
    def _network(self, train: bool = False, dropout: float = 0.0) -> SASRec:
        """The network with the merged item table as its free part (no text buffer needed)."""
        if self.net is not None and not train:
            return self.net
        cfg = self.config
        net = SASRec(len(self.item_table) - 1, cfg.dim, cfg.max_len, cfg.layers, cfg.heads,
                     dropout if train else 0.0, None, torch.Generator().manual_seed(cfg.seed))
        state = {**self._state, "free": torch.as_tensor(self.item_table), "proj": torch.zeros(0, cfg.dim)}
        net.load_state_dict(state)
        if not train:
            net.eval()
            self.net = net
        return net

    def score_states(self, sequences: Sequence[np.ndarray], batch: int = 256) -> np.ndarray:
        """(len(sequences), dim) float32: the hidden state after each sequence's newest item
        (item columns, oldest first; unknown columns < 0 are dropped); zeros for empty ones."""
        cfg = self.config
        out = np.zeros((len(sequences), cfg.dim), dtype=np.float32)
        cleaned = [np.asarray(s, dtype=np.int64) for s in sequences]
        cleaned = [s[(s >= 0) & (s < len(self.item_table) - 1)] for s in cleaned]
        live = [i for i, s in enumerate(cleaned) if len(s)]
        if not live:
            return out
        net = self._network()
        table = torch.as_tensor(self.item_table)
        with torch.no_grad():
            for start in range(0, len(live), batch):
                rows = live[start : start + batch]
                seq = torch.as_tensor(np.stack([last_window(cleaned[i], cfg.max_len) for i in rows]))
                out[rows] = net(seq, table)[:, -1].numpy()
        return out

    def score_sequences(self, sequences: Sequence[np.ndarray], items: np.ndarray | None = None) -> np.ndarray:
        """Scores (len(sequences), n_items or len(items)) float32 for live sessions: each a sequence of
        item columns, oldest first (a guest's recent items, or a shopper's training history plus their
        latest clicks). An empty sequence scores zeros."""
        states = self.score_states(sequences)
        cols = item_columns(self.n_items, items)
        table = self.item_table[1:] if cols is None else self.item_table[1:][cols]
        return np.ascontiguousarray(states @ table.T, dtype=np.float32)

    def user_history(self, user: int) -> np.ndarray:
        """The newest ``max_len`` training items of shopper row ``user`` (columns, oldest first; empty if unknown)."""
        if not 0 <= user < len(self.history_indptr) - 1:
            return np.zeros(0, dtype=np.int64)
        return self.history_items[self.history_indptr[user] : self.history_indptr[user + 1]]

    def because(self, sequence: Sequence[int], item: int, window: int = 5) -> int:
        """The item column among the newest ``window`` of ``sequence`` most like ``item`` (the dot
        product of their vectors), for "because you just viewed X"; -1 for an empty sequence."""
        seq = [int(c) for c in sequence if 0 <= int(c) < self.n_items][-window:]
        if not seq:
            return -1
        sims = self.item_table[np.asarray(seq) + 1] @ self.item_table[int(item) + 1]
        return seq[int(np.argmax(sims))]

    def text_vector(self, embedding: np.ndarray) -> np.ndarray:
        """(dim,) the vector of a product known only by its text embedding (text_dim,), e.g. one created
        after training: its projection (zeros when trained without text)."""
        e = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if not self.text_proj.size or len(e) != self.text_proj.shape[0]:
            return np.zeros(self.config.dim, dtype=np.float32)
        return e @ self.text_proj

    # -- scoring -------------------------------------------------------------------
    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64).reshape(-1)
        known = (users >= 0) & (users < len(self.user_states))
        states = np.zeros((len(users), self.user_states.shape[1] if self.user_states.size else self.config.dim),
                          dtype=np.float32)
        states[known] = self.user_states[users[known]]
        cols = item_columns(self.n_items, items)
        table = self.item_table[1:] if cols is None else self.item_table[1:][cols]
        return np.ascontiguousarray(states @ table.T, dtype=np.float32)

    @classmethod
    def cost(cls, workload: Workload, config: SequentialConfig | None = None) -> Cost:
        cfg = config if config is not None else SequentialConfig()
        users = max(1, workload.n_users)
        per_user = min(workload.events / users, cfg.max_len * (cfg.windows_per_user or 10**9))
        targets = users * per_user
        # per target and epoch: logits over the catalogue and the blocks, ×3 for the backward pass
        flops = 6 * targets * cfg.dim * (workload.n_items + 12 * cfg.layers * cfg.dim + 2 * cfg.max_len)
        params = 4 * cfg.dim * (workload.n_items + 12 * cfg.layers * cfg.dim)
        logits = 12 * cfg.batch_size * cfg.max_len * workload.n_items  # float32 logits, their grad, softmax
        text = 4 * 384 * workload.n_items * 2 if cfg.text_init else 0
        return Cost(
            peak_bytes=120 * MB + (350 * MB if cfg.text_init else 0) + workload.matrix_bytes + 4 * params + logits + text
            + 16 * int(targets),
            model_bytes=params + 4 * cfg.dim * workload.n_users,
            seconds=cfg.epochs * flops / CPU_FLOPS + (workload.n_items / TEXTS_PER_S if cfg.text_init else 0.0),
            note="lower sequential.epochs or sequential.windows_per_user, or set sequential.cache_dir",
        )

    # -- artifacts -----------------------------------------------------------------
    def _save_arrays(self) -> dict[str, np.ndarray]:
        arrays = {f"net.{k}": v.numpy() for k, v in self._state.items()}
        return {**arrays, "item_table": self.item_table, "text_proj": self.text_proj,
                "user_states": self.user_states, "history_indptr": self.history_indptr,
                "history_items": self.history_items}

    def _load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self._state = {k[4:]: torch.as_tensor(np.array(v)) for k, v in arrays.items() if k.startswith("net.")}
        self.item_table = np.asarray(arrays["item_table"], dtype=np.float32)
        self.text_proj = np.asarray(arrays["text_proj"], dtype=np.float32)
        self.user_states = np.asarray(arrays["user_states"], dtype=np.float32)
        self.history_indptr = np.asarray(arrays["history_indptr"], dtype=np.int64)
        self.history_items = np.asarray(arrays["history_items"], dtype=np.int64)
        self.net = None


__all__ = ["Sequential", "SequentialConfig"]
