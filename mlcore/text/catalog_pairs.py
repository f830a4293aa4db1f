"""Weakly supervised (query-like text, product text) pairs mined from a catalog alone.

With no search logs, a product's own fields stand in for the queries that should find it: its
type label ("notebook", from :func:`mlcore.search.category.derive_labels` or a category column),
the label with the brand in front ("hp notebook"), and its model name. Each is paired with the
product's indexed text, so contrastive fine-tuning pulls short, query-shaped strings towards the
products they describe. Pairs are shuffled and sampled with one seeded generator; at most
``max_per_anchor`` pairs share an anchor so that big types do not fill every batch.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CatalogPairConfig:
    """Which anchors to use and how many pairs to keep."""

    type_anchor: bool = True
    brand_type_anchor: bool = True
    name_anchor: bool = True
    max_per_anchor: int = 30
    max_pairs: int = 20_000
    seed: int = 0


def catalog_pairs(
    texts: Sequence[str],
    labels: Sequence[str | None],
    brands: Sequence[str] = (),
    names: Sequence[str] = (),
    config: CatalogPairConfig = CatalogPairConfig(),
) -> tuple[list[str], list[str]]:
    """(anchors, positives): aligned lists; positives are entries of ``texts`` (one per product)."""
    if len(labels) != len(texts):
        raise ValueError(f"{len(labels)} labels for {len(texts)} products; give one label (or None) per product")
    brands = list(brands) or [""] * len(texts)
    names = list(names) or [""] * len(texts)
    found: list[tuple[str, int]] = []
    for i, (label, brand, name) in enumerate(zip(labels, brands, names, strict=True)):
        label = (label or "").strip().lower()
        brand, name = str(brand or "").strip().lower(), str(name or "").strip().lower()
        if label and config.type_anchor:
            found.append((label, i))
        if label and brand and config.brand_type_anchor:
            found.append((f"{brand} {label}", i))
        if name and config.name_anchor and name != texts[i].strip().lower():
            found.append((name, i))
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(found))
    seen: Counter[str] = Counter()
    anchors: list[str] = []
    positives: list[str] = []
    for j in order.tolist():
        anchor, i = found[j]
        if seen[anchor] >= config.max_per_anchor:
            continue
        seen[anchor] += 1
        anchors.append(anchor)
        positives.append(texts[i])
        if len(anchors) >= config.max_pairs:
            break
    return anchors, positives
