"""Text embeddings cached on disk by content, so a retrain encodes only new or changed texts.

The key of a vector is (the encoder's :meth:`~mlcore.text.TextEncoder.fingerprint`, a hash of
the text): one ``<fingerprint>.npz`` per encoder in the cache folder, holding ``keys`` (16-byte
BLAKE2b digests, ``S16``) and ``vectors`` (float32, (n, dim)). A fine-tuned encoder has new
weights and so a new fingerprint: its texts are encoded afresh, as they must be. Files are
replaced atomically; entries of every catalog encoded with the same encoder are kept together.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from mlcore.runtime import Callback


class Encoder(Protocol):
    """What the cache needs of an encoder (a :class:`~mlcore.text.TextEncoder` or a test double)."""

    def fingerprint(self) -> str: ...

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, callback: Callback | None = None, phase: str = "encode"
    ) -> np.ndarray: ...


def text_keys(texts: Sequence[str]) -> np.ndarray:
    """The 16-byte BLAKE2b digest of each text (UTF-8), as an ``S16`` array."""
    return np.array([hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest() for t in texts], dtype="S16")


class EmbeddingCache:
    """Vectors of texts already encoded, in ``folder`` (created on first write).

    >>> import tempfile; cache = EmbeddingCache(Path(tempfile.mkdtemp()))
    >>> cache.stats
    {'hits': 0, 'misses': 0}
    """

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.stats = {"hits": 0, "misses": 0}

    def path(self, fingerprint: str) -> Path:
        return self.folder / f"{fingerprint}.npz"

    def encode(
        self,
        encoder: Encoder,
        texts: Sequence[str],
        batch_size: int = 64,
        callback: Callback | None = None,
        phase: str = "encode",
    ) -> np.ndarray:
        """Like ``encoder.encode(texts)``, but only the texts not in the cache are encoded."""
        fingerprint = encoder.fingerprint()
        keys = text_keys(texts)
        known_keys, known_vectors = self._read(fingerprint)
        order = np.argsort(known_keys)
        sorted_keys = known_keys[order]
        at = np.searchsorted(sorted_keys, keys)
        if len(sorted_keys):
            hit = (at < len(sorted_keys)) & (sorted_keys[np.minimum(at, len(sorted_keys) - 1)] == keys)
        else:
            hit = np.zeros(len(keys), dtype=bool)
        self.stats["hits"] += int(hit.sum())
        self.stats["misses"] += int((~hit).sum())
        miss = np.flatnonzero(~hit)
        fresh = encoder.encode([texts[int(i)] for i in miss], batch_size, callback, phase) if len(miss) else None
        dim = fresh.shape[1] if fresh is not None else known_vectors.shape[1]
        out = np.zeros((len(texts), dim), dtype=np.float32)
        if hit.any():
            out[hit] = known_vectors[order[at[hit]]]
        if fresh is not None:
            out[miss] = fresh
            new_keys, first = np.unique(keys[miss], return_index=True)
            self._write(fingerprint, np.concatenate([known_keys, new_keys]),
                        np.concatenate([known_vectors.reshape(-1, dim), fresh[first]]))
        return out

    def _read(self, fingerprint: str) -> tuple[np.ndarray, np.ndarray]:
        path = self.path(fingerprint)
        if not path.exists():
            return np.zeros(0, dtype="S16"), np.zeros((0, 0), dtype=np.float32)
        with np.load(path, allow_pickle=False) as npz:
            return npz["keys"], npz["vectors"].astype(np.float32, copy=False)

    def _write(self, fingerprint: str, keys: np.ndarray, vectors: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".npz.partial")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, keys=keys, vectors=vectors.astype(np.float32, copy=False))
            os.replace(tmp, self.path(fingerprint))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


__all__ = ["EmbeddingCache", "Encoder", "text_keys"]
