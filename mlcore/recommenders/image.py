"""``image``: visual similarity — shoppers and products in a CLIP image space.

Every product with a picture (the products frame's ``image_path`` column: a local file, e.g. the
thumbnail the site fetched) is embedded by :class:`~mlcore.image.ImageEncoder`. A shopper is the
recency-decayed weighted mean of their last ``recent_items`` distinct items *that have pictures*; the
score is the cosine of shopper and product vectors, so a product nobody bought yet but that looks like
what the shopper viewed scores high ("looks like X you viewed").

Products without a picture get no signal: their score is :data:`NO_IMAGE_SCORE` (below every real
cosine) rather than a zero vector that would look "similar" to everything; shoppers whose items have no
pictures get a flat row, which the fusion's normalisation turns into zeros.

Artifacts: ``arrays.npz`` with ``item_embeddings`` (n_items, d), ``has_image`` (n_items,) bool,
``user_vectors`` (n_users, d) and ``title_agreement`` (n_items,; picture–title cosine, NaN without a
picture), float32. The encoder stays in its folder (``model``), read again only for
text-to-image search.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np

from mlcore.data import IMAGE_COLUMN, Dataset
from mlcore.graph.baskets import recent_item_weights
from mlcore.image import ImageEncoder, ImageError
from mlcore.recommenders.base import Recommender, register
from mlcore.recommenders.cost import MB, Cost, Workload
from mlcore.runtime import Callback

NO_IMAGE_SCORE = -1.0
IMAGES_PER_S = 20.0  # CLIP ViT-B/32 images per second on 2 shared CPU cores (benchmarks/image_embedding.py)


@dataclass(frozen=True)
class ImageConfig:
    """Settings of the ``image`` recommender.

    - ``model``: a CLIP model folder saved with ``save_pretrained`` (required; never downloaded).
    - ``batch_size``: images per forward pass (larger on CUDA).
    - ``recent_items``/``recency_decay``: a shopper's k-th most recent distinct item with a picture
      weighs ``recency_decay ** k`` × its event-type weight.
    """

    model: str = ""
    batch_size: int = 32
    recent_items: int = 20
    recency_decay: float = 0.9
    device: str = "auto"


@register
class ImageRecommender(Recommender):
    """Cosine between shopper profiles and product image embeddings."""

    name = "image"
    Config = ImageConfig
    config: ImageConfig

    def __init__(self, config: ImageConfig | None = None) -> None:
        super().__init__(config)
        self.item_embeddings = np.zeros((0, 0), dtype=np.float32)
        self.has_image = np.zeros(0, dtype=bool)
        self.user_vectors = np.zeros((0, 0), dtype=np.float32)
        self.title_agreement = np.zeros(0, dtype=np.float32)
        self.skipped: list[str] = []

    # -- training ------------------------------------------------------------------
    def fit(self, data: Dataset, callback: Callback | None = None) -> Self:
        cb = self._callback(callback)
        self._bind(data)
        if not self.config.model:
            raise ValueError("image: set image.model to a CLIP model folder (saved with save_pretrained)")
        encoder = ImageEncoder.load(self.config.model, device=self.config.device)
        paths = item_image_paths(data)
        self.item_embeddings = np.zeros((data.n_items, encoder.dim), dtype=np.float32)
        self.has_image = np.zeros(data.n_items, dtype=bool)
        usable = [(i, p) for i, p in enumerate(paths) if p and Path(p).is_file()]
        self.skipped = []
        batch = max(1, self.config.batch_size)
        for start in range(0, len(usable), batch):
            chunk = usable[start:start + batch]
            try:
                vectors = encoder.encode_images([p for _, p in chunk], batch_size=batch)
                good = [(index, vector) for (index, _), vector in zip(chunk, vectors, strict=True)]
            except ImageError:  # one unreadable file must not sink the catalogue: find it, skip it, say so
                good = []
                for index, path in chunk:
                    try:
                        good.append((index, encoder.encode_images([path], batch_size=1)[0]))
                    except ImageError as exc:
                        self.skipped.append(str(exc))
            for index, vector in good:
                self.item_embeddings[index], self.has_image[index] = vector, True
            cb.progress(phase="encode images", done=min(start + batch, len(usable)), total=len(usable))
            cb.check()
        cb.log(f"image: {int(self.has_image.sum())} of {data.n_items} products have a usable picture"
               + (f"; {len(self.skipped)} skipped, e.g. {self.skipped[0]}" if self.skipped else ""))
        self.user_vectors = self._user_vectors(data)
        self.title_agreement = self._title_agreement(encoder, data)
        return self

    def _title_agreement(self, encoder: ImageEncoder, data: Dataset) -> np.ndarray:
        """(n_items,) cosine of each picture with its product's title in CLIP's space (NaN: no picture).

        Low values flag a picture that may not show the product (a data-quality list for operators)."""
        titles = dict(zip(data.products["item_id"].astype(str), data.products["title"].fillna("").astype(str),
                          strict=False))
        out = np.full(data.n_items, np.nan, dtype=np.float32)
        pictured = np.flatnonzero(self.has_image)
        if len(pictured):
            texts = encoder.encode_texts([titles.get(data.items.ids[i], "") for i in pictured])
            out[pictured] = np.sum(texts * self.item_embeddings[pictured], axis=1)
        return out

    @classmethod
    def cost(cls, workload: Workload, config: ImageConfig | None = None) -> Cost:
        vectors = 4 * 512 * (workload.n_items + workload.n_users)
        return Cost(peak_bytes=600 * MB + 2 * vectors + workload.matrix_bytes, model_bytes=vectors,
                    seconds=workload.n_items / IMAGES_PER_S,
                    note="drop image, or train on a GPU worker (images are encoded once per training)")

    def _user_vectors(self, data: Dataset) -> np.ndarray:
        """(n_users, d) unit rows from each shopper's recent items with pictures; zero rows otherwise."""
        weights = recent_item_weights(data, self.config.recent_items, self.config.recency_decay)
        weights = weights.multiply(self.has_image[None, :].astype(np.float32)).tocsr()
        vectors = np.asarray(weights @ self.item_embeddings, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)

    # -- scoring -------------------------------------------------------------------
    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        index = np.arange(self.n_items) if items is None else np.asarray(items, dtype=np.int64)
        emb, seen = self.item_embeddings[index], self.has_image[index]
        known = (users >= 0) & (users < len(self.user_vectors))
        out = np.zeros((len(users), len(index)), dtype=np.float32)
        if known.any():
            out[known] = self.user_vectors[users[known]] @ emb.T
        profiled = known.copy()
        profiled[known] = np.linalg.norm(self.user_vectors[users[known]], axis=1) > 0
        out[np.ix_(profiled, ~seen)] = NO_IMAGE_SCORE
        return out

    def session_scores(self, recent: np.ndarray, decay: float | None = None) -> np.ndarray:
        """(n_items,) cosines to the mean picture of ``recent`` item indices (newest last) for a live session."""
        recent = np.asarray([i for i in recent if 0 <= i < self.n_items and self.has_image[i]], dtype=np.int64)
        if not len(recent):
            return np.zeros(self.n_items, dtype=np.float32)
        d = self.config.recency_decay if decay is None else decay
        weights = np.power(d, np.arange(len(recent))[::-1]).astype(np.float32)
        vector = weights @ self.item_embeddings[recent]
        vector /= max(float(np.linalg.norm(vector)), 1e-12)
        return np.where(self.has_image, self.item_embeddings @ vector, NO_IMAGE_SCORE).astype(np.float32)

    def similar_items(self, items: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """For each item index, the ``k`` visually nearest other items with pictures: (indices, cosines),
        each (len(items), k); items without a picture get empty rows (index -1, cosine -inf)."""
        items = np.asarray(items, dtype=np.int64)
        sims = self.item_embeddings[items] @ self.item_embeddings.T
        sims[:, ~self.has_image] = -np.inf
        sims[~self.has_image[items]] = -np.inf
        sims[np.arange(len(items)), items] = -np.inf
        k = max(0, min(k, self.n_items - 1))
        top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        values = np.take_along_axis(sims, top, axis=1).astype(np.float32)
        return np.where(np.isfinite(values), top, -1), values

    def query_encoder(self, device: str = "auto") -> ImageEncoder:
        """The CLIP encoder the item embeddings came from (its text side embeds search queries)."""
        return ImageEncoder.load(self.config.model, device=device)

    # -- artifacts -----------------------------------------------------------------
    def _save_arrays(self) -> dict[str, np.ndarray]:
        return {"item_embeddings": self.item_embeddings, "has_image": self.has_image,
                "user_vectors": self.user_vectors, "title_agreement": self.title_agreement}

    def _load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.item_embeddings = arrays["item_embeddings"].astype(np.float32)
        self.has_image = arrays["has_image"].astype(bool)
        self.user_vectors = arrays["user_vectors"].astype(np.float32)
        self.title_agreement = arrays["title_agreement"].astype(np.float32)


def item_image_paths(data: Dataset) -> list[str]:
    """The picture file of every item of ``data.items`` in index order ("" where there is none)."""
    if IMAGE_COLUMN not in data.products.columns:
        return [""] * data.n_items
    by_item = dict(zip(data.products["item_id"].astype(str), data.products[IMAGE_COLUMN].fillna("").astype(str),
                       strict=False))
    return [by_item.get(str(item_id), "") for item_id in data.items.ids]


__all__ = ["IMAGE_COLUMN", "NO_IMAGE_SCORE", "ImageConfig", "ImageRecommender", "item_image_paths"]
