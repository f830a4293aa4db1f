"""The ``image`` signal: pictures that look alike score alike; products without pictures get no signal."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mlcore.image import ImageEncoder, ImageError, open_image
from mlcore.recommenders.image import NO_IMAGE_SCORE, ImageConfig, ImageRecommender
from tests.mlcore.image_data import tiny_clip, tiny_dataset_with_images, workdir


def fitted(**kwargs) -> ImageRecommender:
    return ImageRecommender(ImageConfig(model=tiny_clip(), device="cpu")).fit(tiny_dataset_with_images(**kwargs))


def test_products_without_a_picture_get_no_signal_rather_than_looking_like_everything():
    model = fitted(without=("a4", "b2"))
    data = tiny_dataset_with_images()
    a4, b2 = data.items.index(["a4", "b2"])
    assert not model.has_image[[a4, b2]].any() and model.has_image.sum() == 8
    scores = model.score(np.arange(data.n_users))
    assert (scores[:, [a4, b2]] == NO_IMAGE_SCORE).all()
    top, sims = model.similar_items(np.array([a4]), k=3)
    assert (top == -1).all() and np.isneginf(sims).all()


def test_similar_items_are_the_same_colour():
    model = fitted()
    data = tiny_dataset_with_images()
    top, sims = model.similar_items(data.items.index(["a1", "b1"]), k=4)
    names = [[data.items.ids[i] for i in row] for row in top]
    assert all(n.startswith("a") for n in names[0]) and all(n.startswith("b") for n in names[1])
    assert (np.diff(sims, axis=1) <= 1e-6).all()


def test_a_live_session_ranks_what_looks_like_its_last_item_first():
    model = fitted()
    data = tiny_dataset_with_images()
    scores = model.session_scores(data.items.index(["a1", "b3"]))  # newest last: b3
    best = data.items.ids[int(np.argsort(-scores)[1])]  # [0] is b3 itself
    assert best.startswith("b")


def test_an_unreadable_picture_is_skipped_and_named():
    broken = workdir() / "broken.png"
    broken.write_bytes(b"not a picture")
    data = tiny_dataset_with_images()
    products = data.products.copy()
    products.loc[products["item_id"] == "a2", "image_path"] = str(broken)
    from mlcore.data import Dataset
    from tests.mlcore.conftest import tiny_events

    model = ImageRecommender(ImageConfig(model=tiny_clip(), device="cpu")).fit(Dataset.from_frames(tiny_events(), products))
    assert model.has_image.sum() == 9 and "broken.png" in model.skipped[0]


def test_oversized_and_non_image_files_are_refused_with_the_reason(tmp_path):
    big = tmp_path / "big.png"
    Image.new("RGB", (300, 300)).save(big)
    with pytest.raises(ImageError, match="pixel limit"):
        open_image(big, max_pixels=10_000)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ImageError, match="not a readable image"):
        open_image(text)


def test_the_encoder_needs_a_saved_model_folder_and_never_downloads(tmp_path):
    with pytest.raises(FileNotFoundError, match="never downloaded"):
        ImageEncoder.load(tmp_path)


def test_text_and_pictures_share_one_space_of_unit_vectors():
    encoder = ImageEncoder.load(tiny_clip(), device="cpu")
    texts = encoder.encode_texts(["red mug", "blue lamp"])
    pictures = encoder.encode_images([workdir() / "pictures" / "a1.png"])
    assert texts.shape == (2, encoder.dim) and pictures.shape == (1, encoder.dim)
    np.testing.assert_allclose(np.linalg.norm(np.vstack([texts, pictures]), axis=1), 1.0, rtol=1e-5)
