from __future__ import annotations

from pathlib import Path

import numpy as np

from mlcore.search.engine import SearchConfig, SearchEngine
from mlcore.search.query import ParsedQuery
from mlcore.search.rerank import CrossEncoderReranker, RerankConfig, rerank_groups
from mlcore.text.cross_encoder import CrossEncoder, CrossEncoderTrainConfig
from tests.mlcore.search.test_category import shop


class WordOverlap:
    """A stand-in cross-encoder: the logit is the number of query words in the text."""

    def score(self, query: str, texts: list[str]) -> np.ndarray:
        return np.array([sum(w in t.lower() for w in query.split()) for t in texts], dtype=np.float32)


def query(text: str) -> ParsedQuery:
    toks = tuple(text.split())
    return ParsedQuery(raw=text, text=text, language="en", tokens=toks, corrected_tokens=toks)


def test_the_reranker_reorders_only_the_top_candidates_by_the_model() -> None:
    texts = ["red mug", "blue mug", "red kettle", "red mug with lid"]
    rerank = CrossEncoderReranker(WordOverlap(), texts, RerankConfig(top=3, weight=1.0))  # type: ignore[arg-type]
    rows = np.array([0, 1, 2, 3])
    scores = rerank(query("red kettle"), rows, np.array([0.9, 0.8, 0.7, 0.1]))
    assert rows[np.argsort(-scores)].tolist() == [2, 0, 1, 3]
    assert scores[3] < scores[:3].min()  # outside the top 3: untouched, stays below


def test_hard_negatives_come_from_bm25_and_carry_another_type() -> None:
    engine = SearchEngine(SearchConfig(mode="bm25", category_min_count=2)).build(shop())
    queries, positives, negatives = rerank_groups(engine, RerankConfig(negatives=2))
    assert queries and all(len(n) == 2 and positives[i] not in n for i, n in enumerate(negatives))
    i = queries.index("notebook")
    assert "notebook case" not in positives[i]
    assert all("notebook case" in t for t in negatives[i])  # BM25 finds them for "notebook"; their type differs


def test_cross_encoder_training_raises_the_positive_and_round_trips(tmp_path: Path) -> None:
    model = CrossEncoder.load(None, max_length=24)
    texts = ["Logitech K120 keyboard USB QWERTY", "Targus CN600 notebook case", "Logitech M185 mouse"]

    def margin() -> float:
        s = model.score("keyboard", texts)
        return float(s[0] - s[1:].max())

    before = margin()
    result = model.train(["keyboard"], [texts[0]], [texts[1:]], CrossEncoderTrainConfig(steps=4, batch_size=1, lr=1e-4))
    assert result.steps == 4 and margin() > before
    model.save(tmp_path / "ce")
    np.testing.assert_allclose(CrossEncoder.load(tmp_path / "ce").score("keyboard", texts), model.score("keyboard", texts),
                               atol=1e-5)
