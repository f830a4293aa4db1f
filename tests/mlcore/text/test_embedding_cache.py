"""The embedding cache: a retrain encodes only new or changed product texts."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mlcore.text import EmbeddingCache


class CountingEncoder:
    """Deterministic 4-d vectors from the text; records every text it was asked to encode."""

    def __init__(self, name: str = "m1") -> None:
        self.name = name
        self.encoded: list[str] = []

    def fingerprint(self) -> str:
        return self.name

    def encode(self, texts: Sequence[str], batch_size: int = 64, callback=None, phase: str = "encode") -> np.ndarray:
        self.encoded.extend(texts)
        return np.array([[len(t), t.count("a"), t.count("e"), ord(t[0])] for t in texts], dtype=np.float32)


def test_a_retrain_encodes_only_the_products_whose_text_changed(tmp_path):
    encoder = CountingEncoder()
    first = EmbeddingCache(tmp_path).encode(encoder, ["red mug", "blue mug", "garden hose"])
    assert len(encoder.encoded) == 3
    encoder.encoded.clear()
    cache = EmbeddingCache(tmp_path)
    again = cache.encode(encoder, ["blue mug", "red mug", "garden hose, 20 m", "red mug"])
    assert encoder.encoded == ["garden hose, 20 m"]
    assert cache.stats == {"hits": 3, "misses": 1}
    np.testing.assert_array_equal(again[0], first[1])
    np.testing.assert_array_equal(again[1], first[0])
    np.testing.assert_array_equal(again[3], first[0])
    np.testing.assert_array_equal(again[2], encoder.encode(["garden hose, 20 m"])[0])


def test_another_encoder_does_not_reuse_the_vectors_of_the_first(tmp_path):
    EmbeddingCache(tmp_path).encode(CountingEncoder("m1"), ["red mug"])
    tuned = CountingEncoder("m2")
    EmbeddingCache(tmp_path).encode(tuned, ["red mug"])
    assert tuned.encoded == ["red mug"]
