"""The ``kg`` recommender: graph scores, explanations, a save/load round trip."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcore.data import Dataset
from mlcore.graph import GraphConfig
from mlcore.recommenders import load
from mlcore.recommenders.kg import KGConfig, KGRecommender
from tests.mlcore.conftest import tiny_events, tiny_products


def shop() -> Dataset:
    """The tiny shop plus ``solo``, who bought one red ceramic mug."""
    solo = pd.DataFrame([("solo", "a2", pd.Timestamp("2024-01-21"), "purchase", 1)], columns=tiny_events().columns)
    return Dataset.from_frames(pd.concat([tiny_events(), solo], ignore_index=True), tiny_products())


@pytest.fixture(scope="module")
def fitted() -> KGRecommender:
    return KGRecommender().fit(shop())


def test_a_shopper_who_bought_a_red_mug_gets_the_unseen_blue_mug_above_the_garden_hose(fitted):
    data = shop()
    scores = fitted.score(data.users.index(["solo"]))[0]
    assert scores[data.items.index_of("a1")] > scores[data.items.index_of("b4")]
    assert scores[data.items.index_of("a5")] > 0  # never bought: scored through brand and category


def test_it_explains_a_cold_item_with_a_readable_path(fitted):
    data = shop()
    path = fitted.explain(data.users.index_of("solo"), data.items.index_of("a5"))
    assert path is not None
    assert path.hops[0].source == "user:solo" and path.hops[0].target == "item:a2"
    assert "Red ceramic mug you bought" in path.sentence
    assert fitted.explain(data.users.index_of("solo"), data.items.index_of("b4")) is None
    assert fitted.explain(-1, 0) is None


def test_unknown_shoppers_get_zeros(fitted):
    assert not fitted.score(np.array([-1, 10_000])).any()


def test_a_saved_model_scores_and_explains_identically(fitted, tmp_path):
    fitted.save(tmp_path)
    again = load(tmp_path)
    assert isinstance(again, KGRecommender) and again.config == fitted.config
    users = np.arange(shop().n_users)
    np.testing.assert_array_equal(again.score(users), fitted.score(users))
    solo, a5 = shop().users.index_of("solo"), shop().items.index_of("a5")
    assert again.explain(solo, a5) == fitted.explain(solo, a5)


def test_nested_configs_survive_the_round_trip(tmp_path):
    config = KGConfig(graph=GraphConfig(terms=False), recent_items=5)
    KGRecommender(config).fit(shop()).save(tmp_path)
    assert load(tmp_path).config == config


def test_similar_items_prefers_the_same_category(fitted):
    data = shop()
    top, _ = fitted.similar_items(data.items.index(["a2"]), k=1)
    assert data.items.ids[top[0, 0]] == "a1"
