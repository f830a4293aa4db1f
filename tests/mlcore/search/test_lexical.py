"""Attribute values in the BM25 text, one-character tokens, and additive bonuses under rrf."""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from mlcore.search.engine import SearchConfig, SearchEngine
from mlcore.search.lexical import field_texts
from mlcore.search.query import QueryConfig, QueryParser, tokenize

SHOP = pd.DataFrame([
    # id, title, short_description, supplier, attr_t_platform, attr_t_processor_cores, attr_n_weight
    ("t1", "Lenovo Tab M8 20.3 cm Mediatek 2 GB 32 GB Gray", "Mediatek Helio A22, 2GB, 32GB", "Lenovo", "Android",
     "4.0", 305.0),
    ("t2", "Apple iPad 10.2 32 GB Silver", "A10 Fusion, 32GB", "Apple", "iOS", "4.0", 483.0),
    ("s1", "Kensington tablet stand Black", "Universal stand for tablets", "Kensington", None, None, 120.0),
    ("b1", "Varta High Energy D Single-use battery Alkaline", "2 pack", "Varta", None, None, None),
    ("b2", "Duracell AA Single-use battery Alkaline", "4 pack", "Duracell", None, None, None),
    ("g4", "Sony PlayStation 4 Slim 500 GB Black", "Console", "Sony", None, None, None),
    ("g3", "Sony PlayStation 3 Slim 250 GB Black", "Console", "Sony", None, None, None),
], columns=["id", "title", "short_description", "supplier", "attr_t_platform", "attr_t_processor_cores",
            "attr_n_weight"])


def ids(result: object) -> list[str]:
    return [h.product_id for h in result.hits]  # type: ignore[attr-defined]


def test_a_wildcard_field_adds_every_matching_columns_text_values_but_not_bare_numbers() -> None:
    texts = field_texts(SHOP, ["supplier", "attr_t_*"])
    assert texts[0] == "Lenovo Android" and texts[1] == "Apple iOS"  # "4.0" cores and attr_n_* stay out
    assert texts[2] == "Kensington " and field_texts(SHOP, ["supplier", "nothing_*"])[0] == "Lenovo"


def test_a_product_is_found_by_an_attribute_value_its_title_lacks() -> None:
    plain = SearchEngine(SearchConfig(mode="bm25", lexical_fields=("title", "short_description"))).build(SHOP)
    assert "t1" not in ids(plain.search("android tablet", k=3))
    engine = SearchEngine(SearchConfig(mode="bm25")).build(SHOP)  # default fields include attr_t_*
    assert ids(engine.search("android", k=3)) == ["t1"]


def test_one_character_words_count_unless_the_bm25s_rule_is_asked_for() -> None:
    assert tokenize("d battery", min_chars=1) == ["d", "battery"] and tokenize("d battery") == ["battery"]
    engine = SearchEngine(SearchConfig(mode="bm25")).build(SHOP)
    assert ids(engine.search("d battery", k=1)) == ["b1"]
    assert ids(engine.search("playstation 4", k=1)) == ["g4"]
    assert QueryParser(config=QueryConfig()).parse("PlayStation 4").tokens == ("playstation", "4")
    old = SearchEngine(SearchConfig(mode="bm25", query=QueryConfig(min_token_chars=2))).build(SHOP)
    assert old.parse("playstation 4").tokens == ("playstation",)


def test_a_profile_bonus_is_scaled_to_the_fusion_so_rrf_is_not_swamped(products: pd.DataFrame, encoder: object) -> None:
    config = SearchConfig(mode="hybrid", fusion="rrf", category_boost=0.0)
    engine = SearchEngine(config, encoder).build(products)
    mouse = engine.dense.vectors[2]  # type: ignore[union-attr]  # a shopper who only looks at mice
    for cfg in (config, replace(config, fusion="weighted")):
        top = ids(engine.with_config(cfg).search("laser printer", k=2, user_profile=mouse, profile_weight=0.2))
        assert set(top) == {"p5", "p6"}
