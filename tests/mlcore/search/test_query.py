from __future__ import annotations

import pytest

from mlcore.search.query import QueryParser, extract_price, normalize

VOCAB = {"monitor": 5, "samsung": 3, "keyboard": 4, "printer": 6, "headphones": 2, "inch": 3}


@pytest.fixture
def parser() -> QueryParser:
    return QueryParser(vocabulary=VOCAB, brands=["Samsung", "Logitech"], synonyms={"screen": ["monitor"]})


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("mouse under 50", None, 50.0), ("mouse below £50", None, 50.0), ("mouse 50-100", 50.0, 100.0),
     ("tv over 100", 100.0, None), ("耳机100元以下", None, 100.0), ("耳机50到100元", 50.0, 100.0),
     ("ml-2165 toner", None, None)],
)
def test_it_reads_price_phrases(text: str, low: float | None, high: float | None) -> None:
    assert extract_price(normalize(text))[:2] == (low, high)


def test_it_normalises_case_accents_and_inch_marks(parser: QueryParser) -> None:
    q = parser.parse('Samsung 27" Écran')
    assert q.text == 'samsung 27" ecran'
    assert q.attributes == (("size", 27.0, "in"),)
    assert parser.parse("27 inch monitor").attributes == (("size", 27.0, "in"),)


def test_it_corrects_misspellings_against_the_vocabulary(parser: QueryParser) -> None:
    q = parser.parse("samsng keybord")
    assert q.corrected_tokens == ("samsung", "keyboard")
    assert ("keybord", "keyboard") in q.corrections
    assert q.brand == "samsung"


def test_it_leaves_short_and_known_tokens_alone(parser: QueryParser) -> None:
    q = parser.parse("monitor usb")
    assert q.corrections == ()


def test_it_tokenises_chinese_with_jieba_and_finds_the_colour(parser: QueryParser) -> None:
    q = parser.parse("红色手机100元以下")
    assert q.language == "zh"
    assert "手机" in q.tokens and "red" in q.colours
    assert q.price_max == 100.0


def test_it_expands_operator_synonyms_and_drops_stopwords(parser: QueryParser) -> None:
    q = parser.parse("a screen for the office")
    assert q.tokens == ("screen", "office")
    assert "monitor" in q.expanded_tokens


def test_it_reports_a_category_from_a_classifier() -> None:
    q = QueryParser(classifier=lambda t: ("Monitors", 0.9)).parse("monitor")
    assert q.to_dict()["category"] == "Monitors"
