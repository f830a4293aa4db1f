"""Maximal marginal relevance (MMR): trade relevance for diversity in a top-k list."""
from __future__ import annotations

import numpy as np


def mmr(candidates: np.ndarray, relevance: np.ndarray, vectors: np.ndarray, k: int, lam: float = 0.7) -> np.ndarray:
    """Re-rank ``candidates`` (item columns) greedily; return the chosen k (int64, best first).

    Each step picks ``argmax lam * rel(i) - (1 - lam) * max_{j chosen} cos(i, j)``
    where ``rel`` is ``relevance`` (aligned with ``candidates``) min-max scaled to
    [0, 1] and ``vectors`` (n_items, d) are item vectors (e.g. text embeddings).
    ``lam = 1`` keeps the relevance order; ``lam = 0`` only seeks diversity.
    """
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"MMR lambda must be within [0, 1], got {lam}")
    candidates = np.asarray(candidates, dtype=np.int64)
    rel = np.asarray(relevance, dtype=np.float64)
    if candidates.size == 0 or k <= 0:
        return np.empty(0, dtype=np.int64)
    spread = rel.max() - rel.min()
    rel = (rel - rel.min()) / spread if spread > 0 else np.zeros_like(rel)
    v = np.asarray(vectors, dtype=np.float64)[candidates]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    v = np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)
    sim = v @ v.T  # (c, c) cosine between candidates
    chosen: list[int] = []
    max_sim = np.full(candidates.size, -np.inf)
    available = np.ones(candidates.size, dtype=bool)
    for _ in range(min(k, candidates.size)):
        penalty = np.where(np.isfinite(max_sim), max_sim, 0.0)
        value = np.where(available, lam * rel - (1.0 - lam) * penalty, -np.inf)
        best = int(np.argmax(value))
        chosen.append(best)
        available[best] = False
        max_sim = np.maximum(max_sim, sim[best])
    return candidates[np.asarray(chosen)]


def hashed_text_vectors(texts: list[str], dim: int = 256) -> np.ndarray:
    """Bag-of-words vectors (float32, (len(texts), dim)) by hashing lower-cased words.

    A cheap, deterministic stand-in for embeddings when measuring list diversity.
    """
    import zlib

    out = np.zeros((len(texts), dim), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in str(text).lower().replace(">", " ").split():
            out[row, zlib.crc32(word.encode()) % dim] += 1.0
    return out
