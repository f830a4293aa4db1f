from __future__ import annotations

from pathlib import Path

import numpy as np

from mlcore.search.adapt import AdaptConfig, adapt_encoder
from mlcore.search.engine import SearchConfig, SearchEngine
from mlcore.text.catalog_pairs import CatalogPairConfig, catalog_pairs
from mlcore.text.encoder import TextEncoder
from tests.mlcore.search.test_category import shop

CONFIG = SearchConfig(mode="hybrid+qu", fusion="weighted", dense_weight=0.5, category_min_count=2, category_boost=0.3)


def test_catalog_pairs_tie_type_brand_and_name_anchors_to_the_product_text() -> None:
    anchors, positives = catalog_pairs(["HP 255 notebook", "Targus bag"], ["notebook", None], ["HP", "Targus"],
                                       ["255", "Targus bag"], CatalogPairConfig(seed=1))
    assert sorted(zip(anchors, positives, strict=True)) == [
        ("255", "HP 255 notebook"), ("hp notebook", "HP 255 notebook"), ("notebook", "HP 255 notebook")]


def test_a_catalog_tuned_encoder_is_saved_with_the_index_and_loaded_back(tmp_path: Path) -> None:
    encoder = TextEncoder.load(None, device="cpu")
    before = encoder.encode(["laptop"])
    result = adapt_encoder(encoder, shop(), CONFIG, AdaptConfig(steps=2, batch_size=4, lr=1e-4),
                           cache_dir=tmp_path / "cache")
    assert result is not None and result.steps == 2 and encoder.adaptation == {"freeze_layers": 3}
    assert not np.allclose(before, encoder.encode(["laptop"]))
    engine = SearchEngine(CONFIG, encoder).build(shop())
    engine.save(tmp_path / "idx")
    assert (tmp_path / "idx" / "encoder" / "encoder.json").exists()
    again = SearchEngine.load(tmp_path / "idx")  # no encoder given: the tuned one in the folder is used
    assert again.encoder is not None and again.encoder.adaptation == encoder.adaptation
    for q in ("laptop", "wireless mouse"):
        assert engine.search(q, k=5).to_dict() == again.search(q, k=5).to_dict()
    fresh = TextEncoder.load(None, device="cpu")
    assert adapt_encoder(fresh, shop(), CONFIG, AdaptConfig(steps=2, batch_size=4, lr=1e-4),
                         cache_dir=tmp_path / "cache") is None  # cached weights reused
    np.testing.assert_allclose(fresh.encode(["laptop"]), encoder.encode(["laptop"]), atol=1e-5)
