"""recommend(): a known shopper, a guest's session and nobody known, with paging, filters and exclusions.

The tiny shop (tests/mlcore/conftest.py): kitchen items a1..a5 and garden items b1..b5 never share a
shopper, so a guest who viewed a garden item is shown garden items, and a kitchen shopper kitchen ones.
"""
import pytest

from mlcore.data import temporal_split
from mlcore.fusion import Pin
from mlcore.serving.bundle import load_bundle
from mlcore.serving.recommend import recommend
from mlcore.serving.requests import RecommendRequest
from mlcore.training.artifacts import write_bundle
from mlcore.training.runner import RunConfig, SignalSpec, run
from tests.mlcore.conftest import CLUSTER_A, CLUSTER_B, tiny_dataset


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    data = tiny_dataset()
    split = temporal_split(data, "2024-01-15", validation_days=7)
    result = run(data, split, RunConfig(signals=tuple(SignalSpec(n) for n in ("popularity", "item_knn"))))
    return load_bundle(write_bundle(tmp_path_factory.mktemp("recommend") / "b", result))


def ids(response):
    return [e.extra["item_id"] for e in response.items]


def ask(bundle, **fields):
    return recommend(bundle, RecommendRequest(**fields))


def test_a_known_shopper_is_ranked_by_the_bundle_and_is_no_fallback(bundle):
    response = ask(bundle, shopper="u1", n=3)
    assert response.fallback is None and len(response.items) == 3
    assert ids(response) == [e.extra["item_id"] for e in bundle.recommend("u1", 3)]
    assert all(e.contributions and e.extra["title"] for e in response.items)


def test_pages_never_repeat_and_join_up_to_the_whole_list(bundle):
    whole = ids(ask(bundle, shopper="u1", n=9))
    pages = [ids(ask(bundle, shopper="u1", n=3, offset=offset)) for offset in (0, 3, 6)]
    assert sum(pages, []) == whole and len(set(whole)) == 9
    guest = [ids(ask(bundle, recent_items=("b1",), n=2, offset=offset)) for offset in (0, 2)]
    assert not set(guest[0]) & set(guest[1])


def test_filters_keep_items_matching_any_value_and_a_category_matches_its_subcategories(bundle):
    several = ask(bundle, shopper="u1", n=10, filters={"category": ("Kitchen > Mugs", "Garden > Watering")})
    assert sorted(ids(several)) == ["a1", "a2", "b4"]
    garden = ask(bundle, shopper="u1", n=10, filters={"category": ("garden",)})
    assert sorted(ids(garden)) == CLUSTER_B
    both = ask(bundle, shopper="u1", n=10, filters={"category": ("Garden",), "brand": ("bolt", "Acme")})
    assert sorted(ids(both)) == CLUSTER_B


def test_filters_apply_before_the_candidate_cut_so_a_narrow_category_still_fills_the_page(bundle):
    response = recommend(bundle, RecommendRequest(shopper="u1", n=5, filters={"category": ("Garden",)}),
                         candidates=1)
    assert sorted(ids(response)) == CLUSTER_B


def test_an_unknown_filter_column_names_itself_and_the_known_columns(bundle):
    with pytest.raises(ValueError, match=r"unknown filter column 'colour'; use one of .*category"):
        ask(bundle, shopper="u1", filters={"colour": ("red",)})


def test_excluded_items_and_the_context_item_are_never_returned_even_when_pinned(bundle):
    top = ids(ask(bundle, shopper="u1", n=10))
    response = recommend(bundle, RecommendRequest(shopper="u1", n=10, exclude=(top[0],), context_item=top[1]),
                         rules=[Pin(item_id=top[0], position=1)])
    assert top[0] not in ids(response) and top[1] not in ids(response)
    guest = ask(bundle, recent_items=("a1",), n=10, exclude=("a2",))
    assert not {"a1", "a2"} & set(ids(guest))


def test_a_guest_is_shown_items_similar_to_what_they_just_viewed(bundle):
    response = ask(bundle, recent_items=("b1",), n=3)
    assert response.fallback == "session"
    assert set(ids(response)) == {"b2", "b3", "b4"}
    first = response.items[0]
    assert {c.signal for c in first.contributions} == {"item_knn"} and first.score > 0
    assert first.path == "similar to Steel garden spade you just viewed" and first.extra["because_of"] == "b1"


def test_the_newest_viewed_item_weighs_most(bundle):
    assert ids(ask(bundle, recent_items=("a1", "b1"), n=1))[0] in CLUSTER_B
    assert ids(ask(bundle, recent_items=("b1", "a1"), n=1))[0] in CLUSTER_A


def test_a_guest_on_a_product_page_is_seeded_by_the_product(bundle):
    response = ask(bundle, context_item="a3", n=3)
    assert response.fallback == "session" and set(ids(response)) <= set(CLUSTER_A) - {"a3"}
    assert response.items[0].path == "similar to Ceramic teapot you are viewing"


def test_a_guest_with_few_similar_items_gets_popular_ones_after_them(bundle):
    response = ask(bundle, recent_items=("b1",), n=8)
    assert ids(response)[:3] and set(ids(response)[:3]) == {"b2", "b3", "b4"}
    assert len(response.items) == 8 and "b1" not in ids(response)
    assert response.items[-1].contributions == ()  # a popular filler explains nothing personal


def test_the_product_page_counts_for_a_known_shopper(bundle):
    plain = ask(bundle, shopper="u1", n=10)
    on_page = ask(bundle, shopper="u1", n=10, context_item="b1")
    assert "context" in {c.signal for c in on_page.items[0].contributions}
    rank = {item: n for n, item in enumerate(ids(plain))}
    moved = {item: n for n, item in enumerate(ids(on_page))}
    assert all(moved[b] <= rank[b] for b in ("b2", "b3", "b4"))
    assert "b1" not in moved


def test_nobody_known_gets_the_most_popular_items(bundle):
    response = ask(bundle, n=4)
    assert response.fallback == "popular"
    counts = bundle.seen.sum(axis=0).A1
    got = [counts[bundle.items.index_of(i)] for i in ids(response)]
    assert got == sorted(counts, reverse=True)[:4] and all(e.contributions == () for e in response.items)
    assert ask(bundle, shopper="stranger", recent_items=("no-such-item",), n=4).fallback == "popular"
    assert recommend(bundle, RecommendRequest(n=4), popular=False).items == ()
