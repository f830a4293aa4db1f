"""The ``text`` recommender: shoppers and products in MiniLM space, cold items, fine-tuned artifacts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcore.data import Dataset
from mlcore.recommenders import load
from mlcore.recommenders.text import TextConfig, TextRecommender
from mlcore.text import ProductTextConfig, product_texts
from tests.mlcore.conftest import tiny_events, tiny_products

FAST = TextConfig(finetune=False, device="cpu", max_length=32)


def shop() -> Dataset:
    """The tiny shop plus ``solo``, who bought one red ceramic mug."""
    solo = pd.DataFrame([("solo", "a2", pd.Timestamp("2024-01-21"), "purchase", 1)], columns=tiny_events().columns)
    return Dataset.from_frames(pd.concat([tiny_events(), solo], ignore_index=True), tiny_products())


@pytest.fixture(scope="module")
def fitted() -> TextRecommender:
    return TextRecommender(FAST).fit(shop())


def test_a_shopper_who_bought_a_red_mug_gets_the_unseen_blue_mug_above_the_garden_hose(fitted):
    data = shop()
    scores = fitted.score(data.users.index(["solo"]))[0]
    assert scores[data.items.index_of("a1")] > scores[data.items.index_of("b4")]


def test_a_product_nobody_bought_is_scored_from_its_text(fitted):
    data = shop()
    scores = fitted.score(data.users.index(["u1"]))[0]
    assert scores[data.items.index_of("a5")] > scores[data.items.index(["b1", "b2", "b3", "b4", "b5"])].max()


def test_unknown_shoppers_get_zeros(fitted):
    assert not fitted.score(np.array([-1, 10_000])).any()


def test_similar_items_finds_the_other_mug_first(fitted):
    data = shop()
    top, sims = fitted.similar_items(data.items.index(["a2"]), k=3)
    assert data.items.ids[top[0, 0]] == "a1" and top.shape == (1, 3)
    assert sims[0, 0] >= sims[0, 1] >= sims[0, 2]


def test_a_fine_tuned_model_saves_its_encoder_and_reloads_without_the_data(tmp_path):
    config = TextConfig(
        device="cpu", max_length=32, finetune=True, finetune_steps=2, batch_size=4, lora=True, lr=1e-3,
        pair_min_support=1,
    )
    model = TextRecommender(config).fit(shop())
    assert model.finetune_result is not None and model.finetune_result.steps >= 1
    model.save(tmp_path / "m")
    assert (tmp_path / "m" / "encoder" / "encoder.safetensors").exists()
    again = load(tmp_path / "m")
    assert isinstance(again, TextRecommender) and again.config == config
    users = np.arange(shop().n_users)
    np.testing.assert_array_equal(again.score(users), model.score(users))
    # queries are encoded by the same fine-tuned weights the products were
    text = product_texts(shop().products.iloc[[4]], ProductTextConfig(fields=config.text_fields))
    np.testing.assert_allclose(again.query_encoder("cpu").encode(text)[0], model.item_embeddings[4], atol=1e-5)
    again.save(tmp_path / "copy")  # a loaded model saves its encoder too
    assert (tmp_path / "copy" / "encoder" / "encoder.json").exists()
