"""A ten-product electronics shop (Chorus-shaped columns) and a cheap deterministic encoder."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from mlcore.search.query import normalize, tokenize

TOY = [
    # id, title, short_description, supplier, price (cents), colour
    ("p1", "Samsung 27 inch LED monitor", "Full HD computer monitor with HDMI", "Samsung", 19900, "black"),
    ("p2", "Dell 24 inch monitor", "Office monitor with adjustable stand", "Dell", 12900, "black"),
    ("p3", "Logitech wireless mouse", "Compact optical mouse with USB receiver", "Logitech", 2900, "grey"),
    ("p4", "Logitech mechanical keyboard", "Backlit gaming keyboard", "Logitech", 8900, "black"),
    ("p5", "HP LaserJet printer", "Monochrome laser printer for the office", "HP", 15900, "white"),
    ("p6", "Canon inkjet printer", "Colour photo printer with wifi", "Canon", 7900, "white"),
    ("p7", "Sony noise cancelling headphones", "Over-ear bluetooth headphones", "Sony", 24900, "black"),
    ("p8", "Samsung galaxy smartphone", "Android phone with 128 GB storage", "Samsung", 59900, "blue"),
    ("p9", "Kingston USB flash drive 64 GB", "USB 3.0 memory stick", "Kingston", 1200, "red"),
    ("p10", "Apple iPad tablet", "Tablet with retina display", "Apple", 39900, "silver"),
]


def toy_products() -> pd.DataFrame:
    return pd.DataFrame(TOY, columns=["id", "title", "short_description", "supplier", "price", "attr_t_product_colour"])


class HashEncoder:
    """Bag-of-hashed-words vectors (384-d, unit rows): shares words -> similar, no model needed."""

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in tokenize(normalize(t)):
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % 384] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


@pytest.fixture
def products() -> pd.DataFrame:
    return toy_products()


@pytest.fixture
def encoder() -> HashEncoder:
    return HashEncoder()
