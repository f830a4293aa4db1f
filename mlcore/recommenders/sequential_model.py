"""The network and the training windows behind the ``sequential`` signal (SASRec-style).

:class:`SASRec` (Kang & McAuley 2018) reads a shopper's item sequence, oldest first, through
pre-norm causal self-attention blocks; the hidden state at position t predicts the item at
t + 1 by a dot product with the item table (tied input/output embeddings), trained here with
full softmax cross-entropy over the catalogue (as in the published reruns that found it far
ahead of the original binary loss). Item index 0 is padding; catalogue column ``c`` is row
``c + 1`` of the table.

An item's vector is ``free[i] + text[i] · W``: a per-item free part and a learned projection
``W`` (text_dim × dim) of the catalogue's frozen text embeddings, started from their principal
components. A product nobody bought yet still has the ``text · W`` part, so it is ranked
among its lookalikes rather than at random.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

PAD = 0


class Block(nn.Module):
    """One pre-norm transformer block: causal multi-head self-attention, then a GELU feed-forward."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"sequential.dim ({dim}) must be a multiple of sequential.heads ({heads})")
        self.heads, self.dropout = heads, dropout
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.out = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.ff = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(2 * dim, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        """``x`` (B, L, dim); ``allowed`` (B, 1, L, L) bool, True where a query may attend to a key."""
        b, length, dim = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, length, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed,
                                                  dropout_p=self.dropout if self.training else 0.0)
        x = x + self.drop(self.out(attended.transpose(1, 2).reshape(b, length, dim)))
        return x + self.drop(self.ff(self.norm2(x)))


class SASRec(nn.Module):
    """Causal self-attention over item sequences; ``forward(seq)`` → hidden states (B, L, dim).

    ``n_items``: catalogue size (the table has one more row, the padding). ``text``: optional
    (n_items, text_dim) float32 frozen text embeddings; without it items have only free vectors.
    """

    text: torch.Tensor  # (n_items + 1, text_dim) buffer, not saved with the state

    def __init__(self, n_items: int, dim: int, max_len: int, layers: int, heads: int, dropout: float,
                 text: np.ndarray | None, generator: torch.Generator, scale: float = 0.1) -> None:
        super().__init__()
        self.max_len = max_len
        if text is not None and len(text):
            t = torch.as_tensor(np.asarray(text, dtype=np.float32))
            t = torch.cat([torch.zeros(1, t.shape[1]), t - t.mean(0, keepdim=True)])
            self.register_buffer("text", t, persistent=False)
            self.proj = nn.Parameter(_pca(t[1:], dim, scale))
            self.free = nn.Parameter(torch.zeros(n_items + 1, dim))
        else:
            self.register_buffer("text", torch.zeros(n_items + 1, 0), persistent=False)
            self.proj = nn.Parameter(torch.zeros(0, dim))
            self.free = nn.Parameter(torch.randn(n_items + 1, dim, generator=generator) * scale)
        self.pos = nn.Parameter(torch.randn(max_len, dim, generator=generator) * scale)
        self.blocks = nn.ModuleList(Block(dim, heads, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)

    def table(self) -> torch.Tensor:
        """The item table (n_items + 1, dim); row 0 (padding) is zero."""
        table = self.free + self.text @ self.proj  # without text: (n + 1, 0) @ (0, dim), zeros (and every parameter used, as DDP wants)
        return table * (torch.arange(len(table), device=table.device) > 0).unsqueeze(1).to(table.dtype)

    def forward(self, seq: torch.Tensor, table: torch.Tensor | None = None) -> torch.Tensor:
        """``seq`` (B, L) int64 table rows, left-padded with 0 → hidden states (B, L, dim)."""
        table = self.table() if table is None else table
        length = seq.shape[1]
        x = self.drop(table[seq] + self.pos[-length:])
        pad = seq == PAD
        causal = torch.ones(length, length, dtype=torch.bool, device=seq.device).tril()
        eye = torch.eye(length, dtype=torch.bool, device=seq.device)
        # a query sees the real items up to itself; a padded query sees only itself (no empty rows, no NaN)
        allowed = (causal & ~pad[:, None, :]) | eye
        for block in self.blocks:
            x = block(x, allowed[:, None])
        return self.norm(x)


class NextItemLoss(nn.Module):
    """Summed next-item cross-entropy of a batch over the whole catalogue, divided by ``divisor``;
    a module so that DistributedDataParallel can wrap it."""

    def __init__(self, model: SASRec, amp: Any) -> None:
        super().__init__()
        self.model, self.amp = model, amp

    def forward(self, seq: torch.Tensor, target: torch.Tensor, divisor: float) -> torch.Tensor:
        with self.amp:
            table = self.model.table()
            hidden = self.model(seq, table)
            keep = target > 0
            logits = (hidden[keep] @ table[1:].T).float()
        return F.cross_entropy(logits, target[keep] - 1, reduction="sum") / divisor


def _pca(text: torch.Tensor, dim: int, scale: float) -> torch.Tensor:
    """(text_dim, dim): the top principal directions of ``text`` (centred), scaled so that the
    projected rows have a per-coordinate spread of about ``scale``; zero-padded past the rank."""
    out = torch.zeros(text.shape[1], dim)
    if len(text) < 2:
        return out
    _u, s, vh = torch.linalg.svd(text.double(), full_matrices=False)
    k = min(dim, vh.shape[0])
    spread = (s[:k] / math.sqrt(len(text))).clamp_min(1e-6)
    out[:, :k] = (vh[:k].T / spread).float() * scale
    return out


def user_sequences(user_index: np.ndarray, item_index: np.ndarray, n_users: int) -> list[np.ndarray]:
    """Each user's item columns in event order (the events are sorted by time): a list of
    ``n_users`` int64 arrays (empty for users without events)."""
    order = np.argsort(user_index, kind="stable")
    counts = np.bincount(user_index, minlength=n_users)
    return np.split(np.asarray(item_index, dtype=np.int64)[order], np.cumsum(counts)[:-1])


def training_windows(sequences: list[np.ndarray], max_len: int, per_user: int) -> tuple[np.ndarray, np.ndarray]:
    """``(inputs, targets)``, each (n_windows, max_len) int64 of table rows (column + 1), left-padded
    with 0: consecutive stretches of ``max_len + 1`` items, newest first, at most ``per_user`` of them
    per user (0: all); targets are the inputs shifted by one (each position predicts the next item)."""
    inputs, targets = [], []
    for seq in sequences:
        rows = seq + 1
        end, taken = len(rows), 0
        while end >= 2 and (per_user == 0 or taken < per_user):
            start = max(0, end - max_len - 1)
            window = rows[start:end]
            pad = max_len - (len(window) - 1)
            inputs.append(np.concatenate([np.zeros(pad, dtype=np.int64), window[:-1]]))
            targets.append(np.concatenate([np.zeros(pad, dtype=np.int64), window[1:]]))
            end, taken = start + 1, taken + 1  # the next window ends where this one's inputs began
            if start == 0:
                break
    if not inputs:
        return np.zeros((0, max_len), dtype=np.int64), np.zeros((0, max_len), dtype=np.int64)
    return np.stack(inputs), np.stack(targets)


def last_window(seq: np.ndarray, max_len: int) -> np.ndarray:
    """(max_len,) int64 table rows: the newest ``max_len`` items of ``seq`` (columns), left-padded."""
    rows = np.asarray(seq, dtype=np.int64)[-max_len:] + 1
    return np.concatenate([np.zeros(max_len - len(rows), dtype=np.int64), rows])


__all__ = ["PAD", "NextItemLoss", "SASRec", "last_window", "training_windows", "user_sequences"]
