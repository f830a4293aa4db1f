"""The bundled MiniLM: shapes, unit length, meaning, batching, progress and cancellation."""
from __future__ import annotations

import numpy as np
import pytest

from mlcore.runtime import Callback, Cancelled
from mlcore.text import EMBEDDING_DIM

TITLES = ["red ceramic mug", "blue ceramic mug", "garden hose with nozzle", "steel garden spade"]


def test_it_encodes_texts_into_unit_vectors_of_384_floats(encoder):
    vectors = encoder.encode(TITLES, batch_size=3)
    assert vectors.shape == (4, EMBEDDING_DIM) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_similar_titles_are_nearer_than_unrelated_ones(encoder):
    red, blue, hose, spade = encoder.encode(TITLES)
    assert red @ blue > red @ hose + 0.3
    assert hose @ spade > hose @ red


def test_batch_size_does_not_change_the_embeddings(encoder):
    np.testing.assert_allclose(encoder.encode(TITLES, batch_size=1), encoder.encode(TITLES, batch_size=4), atol=1e-5)


def test_it_encodes_no_texts_into_an_empty_array(encoder):
    assert encoder.encode([]).shape == (0, EMBEDDING_DIM)


class Recorder(Callback):
    def __init__(self, stop_after: int | None = None) -> None:
        self.calls: list[tuple[str, int, int]] = []
        self.stop_after = stop_after

    def progress(self, *, phase, done, total, metrics=None):
        self.calls.append((phase, done, total))
        assert metrics is not None and metrics["texts_per_s"] > 0

    def should_stop(self) -> bool:
        return self.stop_after is not None and len(self.calls) >= self.stop_after


def test_it_reports_progress_once_per_batch(encoder):
    recorder = Recorder()
    encoder.encode(TITLES * 2, batch_size=3, callback=recorder)
    assert recorder.calls == [("encode", 3, 8), ("encode", 6, 8), ("encode", 8, 8)]


def test_it_stops_when_the_callback_asks(encoder):
    with pytest.raises(Cancelled):
        encoder.encode(TITLES * 2, batch_size=2, callback=Recorder(stop_after=1))
