"""Every registered recommender on the tiny two-cluster shop: shapes, a known answer, save/load.

Models of other modules join automatically; give them a fast config in FAST_CONFIGS and,
if they train for real, list them in SLOW.
"""
from __future__ import annotations

import numpy as np
import pytest

from mlcore.recommenders import REGISTRY, Recommender, load
from tests.mlcore.conftest import CLUSTER_B, tiny_dataset
from tests.mlcore.image_data import tiny_clip, tiny_dataset_with_images

FAST_CONFIGS: dict[str, dict[str, object]] = {
    "mf": {"epochs": 60, "factors": 8, "batch_size": 4, "lr": 0.05, "device": "cpu"},
    "item_knn": {"shrink": 0.0},
    "ease": {"l2": 1.0},
    "text": {"device": "cpu", "finetune": False},
    "sequential": {"text_init": False, "device": "cpu", "epochs": 30, "dim": 16, "heads": 1, "layers": 1,
                   "batch_size": 4, "lr": 1e-2},
}
# Not personal by design: the same list for everyone, or only the shopper's own past items.
NOT_PERSONALISED = {"popularity", "repeat"}
SLOW = {"text"}  # loads the transformer

NAMES = [pytest.param(name, marks=[pytest.mark.slow] if name in SLOW else []) for name in sorted(REGISTRY)]


NEEDS_PICTURES = {"image"}  # fitted on the tiny shop with a picture per product and a tiny random CLIP


def make(name: str) -> Recommender:
    cls = REGISTRY[name]
    extra: dict[str, object] = {"model": tiny_clip(), "device": "cpu"} if name in NEEDS_PICTURES else {}
    return cls(cls.Config(**FAST_CONFIGS.get(name, {}), **extra))


def data_for(name: str):
    """The tiny shop, with pictures for the recommenders that need them."""
    return tiny_dataset_with_images() if name in NEEDS_PICTURES else tiny_dataset()


@pytest.fixture(scope="module")
def fitted() -> dict[str, Recommender]:
    return {}


def fit(name: str, cache: dict[str, Recommender]) -> Recommender:
    if name not in cache:
        cache[name] = make(name).fit(data_for(name))
    return cache[name]


@pytest.mark.parametrize("name", NAMES)
def test_it_scores_float32_rows_for_every_item_or_a_subset(name, fitted):
    model = fit(name, fitted)
    users = np.array([0, 3, 5])
    full = model.score(users)
    assert full.shape == (3, 10) and full.dtype == np.float32 and np.isfinite(full).all()
    subset = np.array([9, 0, 4])
    np.testing.assert_allclose(model.score(users, subset), full[:, subset], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_it_ranks_the_unbought_item_of_the_shoppers_cluster_above_the_other_cluster(name, fitted):
    if name in NOT_PERSONALISED:
        pytest.skip(f"{name} is not personalised; see its own tests")
    model = fit(name, fitted)
    data = data_for(name)
    u1, u5 = data.users.index(["u1", "u5"])
    a4, b4 = data.items.index(["a4", "b4"])
    scores = model.score(np.array([u1, u5]))
    b_items = data.items.index(CLUSTER_B)
    a_items = data.items.index(["a1", "a2", "a3", "a4", "a5"])
    assert scores[0, a4] > scores[0, b_items].max()
    assert scores[1, b4] > scores[1, a_items].max()


@pytest.mark.parametrize("name", NAMES)
def test_it_scores_shoppers_without_history_without_crashing(name):
    data = data_for(name)
    no_history = data.with_events(data.events[data.events["user_id"] != "u8"])
    model_without_u8 = make(name).fit(no_history)
    rows = model_without_u8.score(np.array([data.users.index_of("u8"), -1]))
    assert rows.shape == (2, 10) and np.isfinite(rows).all()
    # every item gets the same score, or at least the same one for both unknown shoppers
    np.testing.assert_allclose(rows[0], rows[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_a_saved_model_loads_and_scores_identically(name, fitted, tmp_path):
    model = fit(name, fitted)
    model.save(tmp_path / name)
    again = load(tmp_path / name)
    assert type(again) is type(model) and again.config == model.config
    users = np.arange(8)
    np.testing.assert_array_equal(again.score(users), model.score(users))
