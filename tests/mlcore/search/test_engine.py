from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlcore.fusion.rules import Pin
from mlcore.search.dense import DenseIndex
from mlcore.search.engine import SearchConfig, SearchEngine
from mlcore.search.hybrid import rrf, weighted
from mlcore.search.lexical import BM25Index


def ids(result: object) -> list[str]:
    return [h.product_id for h in result.hits]  # type: ignore[attr-defined]


def test_bm25_ranks_the_product_that_names_the_query_first() -> None:
    index = BM25Index.from_texts(["blue ceramic mug", "steel garden spade", "red mug"])
    rows, scores = index.search(["spade"], 3)
    assert rows.tolist() == [1] and scores[0] > 0


def test_rrf_puts_an_item_both_lists_agree_on_first() -> None:
    lists = {"a": (np.array([1, 2, 3]), np.array([3.0, 2.0, 1.0])), "b": (np.array([2, 4]), np.array([0.9, 0.8]))}
    fused = rrf(lists, {})
    assert max(fused, key=lambda i: fused[i]) == 2
    w = weighted(lists, {"a": 1.0, "b": 0.0})
    assert max(w, key=lambda i: w[i]) == 1


def test_dense_ann_and_exact_search_agree() -> None:
    rng = np.random.default_rng(0)
    v = rng.normal(size=(300, 16)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    exact, ann = DenseIndex(v), DenseIndex(v, ann_threshold=10)
    assert ann.ann is not None and exact.ann is None
    assert exact.search(v[7], 5)[0][0] == ann.search(v[7], 5)[0][0] == 7
    ann.add(-v[:1])
    assert ann.search(-v[0], 1)[0].tolist() == [300]


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid", "hybrid+qu"])
def test_every_mode_finds_the_printers(products: pd.DataFrame, encoder: object, mode: str) -> None:
    engine = SearchEngine(SearchConfig(mode=mode), encoder).build(products)  # type: ignore[arg-type]
    assert set(ids(engine.search("laser printer", k=2))) == {"p5", "p6"}


def test_a_price_filter_never_lets_a_dearer_product_through(products: pd.DataFrame, encoder: object) -> None:
    engine = SearchEngine(SearchConfig(mode="hybrid+qu", price_scale=100), encoder).build(products)
    result = engine.search("monitor under 150", k=10)
    prices = products.set_index("id")["price"]
    assert ids(result)[0] == "p2" and "p1" not in ids(result)
    assert all(prices[i] <= 15000 for i in ids(result))
    assert result.query.price_max == 150.0


def test_brand_and_colour_matches_are_boosted_with_reasons(products: pd.DataFrame, encoder: object) -> None:
    engine = SearchEngine(SearchConfig(mode="hybrid+qu", fusion="rrf", dense_weight=1.0, boost=3.0), encoder).build(products)
    top = engine.search("samsung black", k=3).hits[0]
    assert top.product_id == "p1"
    assert "brand samsung" in top.reasons and "colour black" in top.reasons
    assert set(top.signals) == {"bm25", "dense"}


def test_business_rules_apply_to_search(products: pd.DataFrame, encoder: object) -> None:
    engine = SearchEngine(SearchConfig(mode="bm25"), encoder).build(products)
    result = engine.search("printer", k=3, rules=[Pin(item_id="p10", position=1)])
    assert ids(result)[0] == "p10"


def test_a_misspelt_query_is_corrected_and_a_hopeless_one_gets_no_results(products: pd.DataFrame, encoder: object) -> None:
    engine = SearchEngine(SearchConfig(mode="hybrid+qu"), encoder).build(products)
    result = engine.search("keybaord", k=3)
    assert ids(result)[0] == "p4"
    assert result.suggestion == "keyboard"
    bm25 = SearchEngine(SearchConfig(mode="bm25")).build(products)
    assert bm25.search("xyzzy", k=3).hits == ()


def test_zero_results_suggest_a_corrected_query(products: pd.DataFrame) -> None:
    engine = SearchEngine(SearchConfig(mode="bm25")).build(products)
    result = engine.search("headphnes", k=3)
    assert result.hits == () and result.suggestion == "headphones"


def test_a_product_added_after_build_is_searchable(products: pd.DataFrame, encoder: object) -> None:
    engine = SearchEngine(SearchConfig(mode="hybrid"), encoder).build(products.iloc[:8])
    assert "p9" not in ids(engine.search("flash drive", k=3))
    assert ids(engine.search("printer", k=3, rules=[Pin(item_id="p10", position=1)]))[0] != "p10"  # unknown yet
    engine.add_products(products.iloc[8:])
    assert ids(engine.search("flash drive", k=3))[0] == "p9"
    assert ids(engine.search("printer", k=3, rules=[Pin(item_id="p10", position=1)]))[0] == "p10"  # ids re-read
    with pytest.raises(ValueError, match="already indexed"):
        engine.add_products(products.iloc[:1])


def test_save_and_load_give_the_same_results(products: pd.DataFrame, encoder: object, tmp_path: Path) -> None:
    engine = SearchEngine(SearchConfig(mode="hybrid+qu"), encoder).build(products)
    engine.save(tmp_path / "idx")
    again = SearchEngine.load(tmp_path / "idx", encoder)
    for q in ("samsung monitor", "wireles mouse", "tablet"):
        assert engine.search(q, k=5).to_dict() == again.search(q, k=5).to_dict()
    assert not list(tmp_path.rglob("*.pkl"))


def test_the_real_minilm_finds_headphones_for_a_paraphrase(products: pd.DataFrame) -> None:
    from mlcore.text.encoder import TextEncoder

    engine = SearchEngine(SearchConfig(mode="dense"), TextEncoder.load(None, device="cpu")).build(products)
    assert ids(engine.search("earphones for music", k=1)) == ["p7"]


def test_with_config_answers_with_new_synonyms_and_leaves_the_original_alone(products: pd.DataFrame) -> None:
    engine = SearchEngine(SearchConfig(mode="bm25")).build(products)
    tuned = engine.with_config(replace(engine.config, synonyms=(("zorbly", ("headphones",)),)))
    assert tuned.lexical is engine.lexical and tuned.products is engine.products
    assert "headphones" in tuned.parser.parse("zorbly").expanded_tokens
    assert "headphones" not in engine.parser.parse("zorbly").expanded_tokens


def test_a_repeated_query_is_encoded_once():
    calls = []

    class Counting:
        def encode(self, texts):
            calls.append(list(texts))
            return np.ones((len(texts), 4), dtype=np.float32) / 2

    engine = SearchEngine(SearchConfig(mode="dense"), Counting()).build(
        pd.DataFrame({"id": ["a", "b"], "title": ["red mug", "blue bag"]}))
    calls.clear()
    first = engine.search("red mug", k=2)
    again = engine.with_config(SearchConfig(mode="dense", dense_weight=2.0)).search("red mug", k=2)
    assert calls == [["red mug"]] and [h.product_id for h in first.hits] == [h.product_id for h in again.hits]
