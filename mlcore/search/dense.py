"""Dense retrieval over MiniLM product vectors (L2-normalised float32 (n, 384), cosine = dot).

Below ``ann_threshold`` products the search is exact (one numpy matmul: ~2 ms for 20k x 384).
Above it an ``hnswlib`` HNSW index is used: hnswlib is small (no heavy dependency like faiss),
well kept, fast on CPU, and supports ``add_items`` so products imported after training are
searchable at once without a rebuild (usearch would also do; faiss's CPU HNSW lacks cheap adds).
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import hnswlib
import numpy as np

from mlcore.search.lexical import top_k


class DenseIndex:
    """Vectors (n, d) float32 unit rows; ``search`` returns (indices int64, cosine float32) best first."""

    def __init__(self, vectors: np.ndarray, *, ann_threshold: int = 100_000, ef: int = 200) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.ann_threshold = ann_threshold
        self.ef = ef
        self.ann: hnswlib.Index | None = None
        if len(self.vectors) >= ann_threshold:
            self._build_ann()

    def _build_ann(self) -> None:
        n, d = self.vectors.shape
        self.ann = hnswlib.Index(space="ip", dim=d)
        self.ann.init_index(max_elements=max(2 * n, 1024), ef_construction=200, M=16, random_seed=0)
        self.ann.add_items(self.vectors, np.arange(n))
        self.ann.set_ef(self.ef)

    def __len__(self) -> int:
        return len(self.vectors)

    def add(self, vectors: np.ndarray) -> None:
        """Append products (rows continue the numbering); the ANN index grows in place."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.vectors.shape[1])
        start = len(self.vectors)
        self.vectors = np.vstack([self.vectors, vectors])
        if self.ann is not None:
            if len(self.vectors) > self.ann.get_max_elements():
                self.ann.resize_index(2 * len(self.vectors))
            self.ann.add_items(vectors, np.arange(start, len(self.vectors)))
        elif len(self.vectors) >= self.ann_threshold:
            self._build_ann()

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Exact cosine of every product, float32 (n,)."""
        return self.vectors @ np.asarray(query, dtype=np.float32).reshape(-1)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.ann is None:
            return top_k(self.scores(query), k)
        k = min(k, len(self.vectors))
        labels, dist = self.ann.knn_query(np.asarray(query, dtype=np.float32).reshape(1, -1), k=k)
        return labels[0].astype(np.int64), (1.0 - dist[0]).astype(np.float32)


def texts_key(texts: Sequence[str], model: str) -> str:
    """A stable hash of the texts and model name, for caching embeddings."""
    h = hashlib.sha256(model.encode())
    for t in texts:
        h.update(t.encode("utf-8", "replace") + b"\0")
    return h.hexdigest()[:16]


def cached_encode(encoder: object, texts: Sequence[str], cache_dir: Path, model: str = "bundled") -> np.ndarray:
    """``encoder.encode(texts)`` cached as ``cache_dir/emb-<hash>.npy``."""
    path = cache_dir / f"emb-{texts_key(texts, model)}.npy"
    if path.exists():
        return np.load(path)
    vectors = np.asarray(encoder.encode(list(texts), batch_size=128), dtype=np.float32)  # type: ignore[attr-defined]
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors
