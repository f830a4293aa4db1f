"""The learned search ranker: features, a known best order learnt from grades, the clear error without grades."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcore.search.engine import SearchConfig, SearchEngine
from mlcore.search.ltr import FEATURES, Features, LearnedRanker, RankerConfig, candidate_groups, fit_lambdarank

SMALL = RankerConfig(top=10, rounds=30, leaves=4, min_data_in_leaf=1, feature_fraction=1.0)


def engine(products: pd.DataFrame, encoder: object) -> SearchEngine:
    return SearchEngine(SearchConfig(mode="hybrid+qu", category_boost=0.0), encoder).build(products)


def test_features_of_a_query_read_brand_price_and_title_words(products, encoder):
    eng = engine(products, encoder)
    [(q, rows, scores)] = candidate_groups(eng, ["samsung monitor"], 10)
    x = Features(eng)(q, rows, scores)
    assert x.shape == (len(rows), len(FEATURES)) and x.dtype == np.float32
    col = {n: j for j, n in enumerate(FEATURES)}
    by_id = dict(zip(eng.products["id"].iloc[rows], x, strict=True))
    assert by_id["p1"][col["brand_match"]] == 1 and by_id["p2"][col["brand_match"]] == 0
    assert by_id["p1"][col["title_coverage"]] == 1.0 and by_id["p1"][col["bm25_title"]] > 0
    assert by_id["p1"][col["log_price"]] == pytest.approx(np.log1p(19900), rel=1e-5)
    assert np.isnan(by_id["p1"][col["popularity"]])  # the toy catalogue has no popularity column


def test_the_ranker_learns_that_shoppers_want_the_cheaper_product(products):
    eng = SearchEngine(SearchConfig(mode="bm25")).build(products)  # candidates: the products matching the words
    queries = ["monitor", "printer", "logitech", "samsung", "usb", "tablet", "headphones", "keyboard", "mouse"]
    grades = []
    price = dict(zip(products["id"], products["price"], strict=True))
    for q in queries:
        hits = [h.product_id for h in eng.search(q, k=10).hits]
        cheapest = min(hits, key=lambda p: price[p])
        grades.append({p: (3 if p == cheapest else 0) for p in hits})
    before = [h.product_id for h in eng.search("printer", k=2).hits]
    assert before[0] == "p5"  # the dearer laser printer ranks first on text alone
    eng.reranker = LearnedRanker.train(eng, queries, grades, SMALL)
    after = [h.product_id for h in eng.search("printer", k=2).hits]
    assert after[0] == "p6" and set(after) == set(before)
    importance = eng.reranker.importance()
    assert max(importance, key=importance.__getitem__) in {"log_price", "has_price"}


def test_no_graded_product_among_the_candidates_is_a_clear_error(products, encoder):
    eng = engine(products, encoder)
    with pytest.raises(ValueError, match="graded judgements"):
        LearnedRanker.train(eng, ["printer"], [{"p3": 0}], SMALL)
    with pytest.raises(ValueError, match="one per query"):
        LearnedRanker.train(eng, ["printer", "mouse"], [{}], SMALL)
    with pytest.raises(ValueError, match="graded judgements"):
        fit_lambdarank([np.zeros((2, len(FEATURES)))], [np.zeros(2, dtype=int)], SMALL)
