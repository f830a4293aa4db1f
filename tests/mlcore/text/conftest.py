"""One bundled MiniLM per test module that only reads it (loading takes seconds)."""
from __future__ import annotations

import pytest

from mlcore.text import TextEncoder


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder.load(device="cpu", max_length=32)
