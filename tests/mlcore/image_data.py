"""Pictures for the tiny two-cluster shop: cluster A's products are reddish, cluster B's bluish.

Made once per test session in a temporary folder, with a tiny random CLIP (nothing downloaded).
"""
from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from mlcore.data import Dataset
from mlcore.image import build_tiny_clip
from tests.mlcore.conftest import tiny_events, tiny_products

COLOURS = {"a": (210, 40, 40), "b": (40, 40, 210)}


@functools.cache
def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="tiny-images-"))


@functools.cache
def tiny_clip() -> str:
    return str(build_tiny_clip(workdir() / "clip"))


def picture(path: Path, colour: tuple[int, int, int], seed: int, size: int = 48) -> Path:
    """A noisy picture of one colour, as PNG."""
    rng = np.random.default_rng(seed)
    pixels = np.clip(np.array(colour)[None, None, :] + rng.normal(0, 25, (size, size, 3)), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def tiny_dataset_with_images(*, without: tuple[str, ...] = ()) -> Dataset:
    """:func:`tiny_dataset` whose products have an ``image_path`` (except the ids in ``without``)."""
    products = tiny_products()
    paths = []
    for n, item in enumerate(products["item_id"].astype(str)):
        path = workdir() / "pictures" / f"{item}.png"
        if not path.exists():
            picture(path, COLOURS[item[0]], seed=n)
        paths.append("" if item in without else str(path))
    return Dataset.from_frames(tiny_events(), products.assign(image_path=paths))
