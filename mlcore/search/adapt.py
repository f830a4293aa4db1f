"""Fine-tune the text encoder on the catalog itself before indexing (no search logs needed).

    encoder = TextEncoder.load(None)
    adapt_encoder(encoder, products, SearchConfig(), AdaptConfig(steps=300), cache_dir=Path("var/search-cache"))
    engine = SearchEngine(config, encoder).build(products)   # .save() keeps the tuned encoder beside the index

Pairs come from :func:`mlcore.text.catalog_pairs.catalog_pairs` (type label / brand + type / model
name -> product text); training is :func:`mlcore.text.finetune.finetune` (in-batch negatives). With
``cache_dir`` the tuned weights are kept under ``ft-<hash of the texts, labels and settings>`` and
reused on the next run.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlcore.search.category import derive_labels
from mlcore.search.lexical import field_texts
from mlcore.text.catalog_pairs import CatalogPairConfig, catalog_pairs
from mlcore.text.finetune import FinetuneConfig, FinetuneResult, finetune


@dataclass(frozen=True)
class AdaptConfig:
    """``steps`` of ``batch_size`` pairs at ``lr``; the lower ``freeze_layers`` layers stay fixed."""

    steps: int = 100
    batch_size: int = 32
    lr: float = 3e-5
    freeze_layers: int = 3
    temperature: float = 0.05
    pairs: CatalogPairConfig = CatalogPairConfig()
    seed: int = 0


def adapt_encoder(encoder: Any, products: pd.DataFrame, search: Any, config: AdaptConfig = AdaptConfig(),
                  cache_dir: Path | None = None, callback: Any = None) -> FinetuneResult | None:
    """Fine-tune ``encoder`` (a :class:`~mlcore.text.TextEncoder`) in place for ``products`` indexed
    with the :class:`~mlcore.search.engine.SearchConfig` ``search``. Returns the training result, or
    None when cached weights were loaded instead."""
    from mlcore.text.encoder import TextEncoder

    texts = field_texts(products, search.dense_fields)
    labels = derive_labels(products, search.category_settings)
    brands = products[search.brand_column].fillna("").astype(str).tolist() if search.brand_column in products else []
    names = products[search.name_column].fillna("").astype(str).tolist() if search.name_column in products else []
    folder = None
    if cache_dir is not None:
        h = hashlib.sha256(json.dumps([asdict(config), encoder.base, search.dense_fields]).encode())
        for t, label in zip(texts, labels, strict=True):
            h.update(f"{t}\0{label}\0".encode("utf-8", "replace"))
        folder = Path(cache_dir) / f"ft-{h.hexdigest()[:16]}"
        if (folder / "encoder.json").exists():
            tuned = TextEncoder.load(folder, device=encoder.device)
            encoder.model, encoder.adaptation = tuned.model, tuned.adaptation
            return None
    anchors, positives = catalog_pairs(texts, labels, brands, names, config.pairs)
    ft = FinetuneConfig(max_steps=config.steps, epochs=max(1, -(-config.steps * config.batch_size // max(len(anchors), 1))),
                        batch_size=config.batch_size, lr=config.lr, freeze_layers=config.freeze_layers,
                        temperature=config.temperature, seed=config.seed)
    result = finetune(encoder, anchors, positives, ft, callback)
    if folder is not None:
        encoder.save(folder)
    return result
