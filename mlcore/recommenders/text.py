"""``text``: the transformer recommender — products and shoppers in MiniLM's embedding space.

Every product of ``data.items`` is embedded from its text (title, brand,
category path, description, attributes), so a product nobody bought yet is
scored like any other. Optionally the encoder is first fine-tuned
contrastively on behaviour pairs mined from the training events (co-purchase,
history → next item), fully, above ``freeze_layers``, or through LoRA adapters.
A shopper is the recency-decayed weighted mean of their last ``recent_items``
distinct items; the score is the cosine of shopper and product vectors, blended
(``learned_weight``) with a content-aware item-item model learnt from the training
events: a ridge-regressed 384 × 384 map ``M`` in text space, so item ``i`` scores
``profile · M · e_i`` for a shopper whose history embeds to ``profile``. ``M`` learns
which kinds of product are bought together (warm behaviour), yet any product with a
text, bought or not, is scored through it (cold items). Both parts are z-scored per
shopper over the catalogue and folded into one user vector, so scoring stays one dot product.

Artifacts: ``arrays.npz`` (``item_embeddings`` (n_items, 384), ``user_vectors``
(n_users, 384), float32) and, when fine-tuned, ``encoder/`` (see
:class:`~mlcore.text.TextEncoder`) for encoding search queries later.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np
import scipy.sparse as sp

from mlcore.data import Dataset
from mlcore.graph.baskets import recent_item_weights
from mlcore.recommenders.base import Recommender, register
from mlcore.recommenders.cost import MB, Cost, Workload
from mlcore.runtime import Callback
from mlcore.text import (
    EmbeddingCache,
    FinetuneConfig,
    FinetuneResult,
    PairConfig,
    ProductTextConfig,
    TextEncoder,
    behaviour_pairs,
    finetune,
    product_texts,
)

ENCODER_DIR = "encoder"
TEXTS_PER_S = 25.0  # product texts encoded per second on 2 shared CPU cores at max_length 64 (benchmarks/scale.py)
STEP_S = 1.0  # one fine-tuning step of batch 32 on 2 CPU cores


@dataclass(frozen=True)
class TextConfig:
    """Settings of the ``text`` recommender (defaults suit a few thousand products on a CPU).

    - ``model``: a Hugging Face model folder; empty for the bundled MiniLM.
    - ``finetune``: fine-tune on behaviour pairs before encoding; ``finetune_steps``
      caps the steps (0: ``finetune_epochs`` full passes over ``max_pairs`` pairs).
    - ``lora`` trains only rank-``lora_r`` adapters (use ``lr`` ≈ 1e-4..1e-3);
      otherwise the layers above ``freeze_layers`` train (``lr`` ≈ 2e-5..5e-5).
    - ``recent_items``/``recency_decay``: a shopper's k-th most recent distinct item
      weighs ``recency_decay ** k`` × its event-type weight.

    - ``learned_weight``: the share of the content-aware item-item model in the score
      (0: plain cosine); ``learned_l2`` its ridge penalty, relative to the mean eigenvalue
      of the shopper-profile and product-embedding Gram matrices.

    Defaults: no fine-tuning (the frozen bundled encoder, whose product embeddings an
    embedding cache keeps across retrains) and the learned item-item model at half weight,
    chosen on the validation windows by ``benchmarks/text_kg_times.py`` (Online Retail:
    validation NDCG@10 0.076 plain cosine, 0.096 at weight 0.5, 0.093 at 1). Fine-tuning
    (100 LoRA steps at τ 0.1 on pairs made ≥ 3 times) had given 0.158 vs 0.154 untuned on
    Online Retail for 60–80 % of a job's time; ``finetune=True`` is there for catalogues where
    it pays (that benchmark's ``--finetune`` keeps it only if it beats the frozen encoder on validation).

    ``cache_dir``: a folder of cached product embeddings (see :class:`~mlcore.text.EmbeddingCache`;
    empty: none). Texts already encoded by the same encoder are not encoded again — every
    unchanged product on a retrain without fine-tuning, or with fine-tuning that learnt the same weights.
    """

    model: str = ""
    finetune: bool = False
    finetune_steps: int = 100
    finetune_epochs: int = 1
    batch_size: int = 32
    lr: float = 1e-4
    temperature: float = 0.1
    lora: bool = True
    lora_r: int = 8
    freeze_layers: int = 0
    max_pairs: int = 20_000
    pair_min_support: int = 3
    max_length: int = 64
    encode_batch_size: int = 64
    text_fields: str = "title,brand,category,description,attributes"
    recent_items: int = 20
    recency_decay: float = 0.9
    learned_weight: float = 0.5
    learned_l2: float = 1.0
    device: str = "auto"
    seed: int = 0
    cache_dir: str = ""


@register
class TextRecommender(Recommender):
    """Cosine between shopper profiles and product text embeddings."""

    name = "text"
    Config = TextConfig
    config: TextConfig

    def __init__(self, config: TextConfig | None = None) -> None:
        super().__init__(config)
        self.item_embeddings = np.zeros((0, 0), dtype=np.float32)
        self.user_vectors = np.zeros((0, 0), dtype=np.float32)
        self.finetune_result: FinetuneResult | None = None
        self._encoder: TextEncoder | None = None
        self._encoder_dir: Path | None = None

    # -- training ------------------------------------------------------------------
    def fit(self, data: Dataset, callback: Callback | None = None) -> Self:
        cb = self._callback(callback)
        self._bind(data)
        cfg = self.config
        encoder = TextEncoder.load(cfg.model or None, device=cfg.device, max_length=cfg.max_length)
        texts = product_texts(data.products, ProductTextConfig(fields=cfg.text_fields))
        if cfg.finetune:
            pairs = behaviour_pairs(data, PairConfig(max_pairs=cfg.max_pairs, min_support=cfg.pair_min_support, seed=cfg.seed))
            cb.log(f"text: fine-tuning on {len(pairs)} behaviour pairs")
            self.finetune_result = finetune(
                encoder,
                [texts[i] for i in pairs[:, 0]],
                [texts[i] for i in pairs[:, 1]],
                FinetuneConfig(
                    epochs=cfg.finetune_epochs,
                    max_steps=cfg.finetune_steps,
                    batch_size=cfg.batch_size,
                    lr=cfg.lr,
                    temperature=cfg.temperature,
                    lora=cfg.lora,
                    lora_r=cfg.lora_r,
                    lora_alpha=2 * cfg.lora_r,
                    freeze_layers=cfg.freeze_layers,
                    seed=cfg.seed,
                ),
                cb,
            )
            if cfg.lora:
                encoder.merge_lora()
        if cfg.cache_dir:
            cache = EmbeddingCache(cfg.cache_dir)
            self.item_embeddings = cache.encode(encoder, texts, cfg.encode_batch_size, cb, phase="encode products")
            cb.log(f"text: {cache.stats['hits']} product embeddings from the cache, {cache.stats['misses']} encoded")
        else:
            self.item_embeddings = encoder.encode(texts, cfg.encode_batch_size, cb, phase="encode products")
        self.user_vectors = self._user_vectors(data)
        self._encoder = encoder if cfg.finetune else None
        self._encoder_dir = None
        return self

    @classmethod
    def cost(cls, workload: Workload, config: TextConfig | None = None) -> Cost:
        cfg = config if config is not None else TextConfig()
        vectors = 4 * 384 * (workload.n_items + workload.n_users)
        texts = 600 * workload.n_items  # the product texts and their hashes
        return Cost(
            peak_bytes=350 * MB + 2 * vectors + texts + workload.matrix_bytes,  # transformer + torch runtime
            model_bytes=vectors,
            seconds=workload.n_items / TEXTS_PER_S + (cfg.finetune_steps * STEP_S if cfg.finetune else 0.0),
            note="set text.cache_dir so unchanged products are not encoded again, or drop text",
        )

    def _user_vectors(self, data: Dataset) -> np.ndarray:
        """(n_users, 384): unit profile rows when ``learned_weight`` is 0, else the blend of the
        z-scored cosine and learned parts (see the module docstring); zero rows for users without
        usable events."""
        weights = recent_item_weights(data, self.config.recent_items, self.config.recency_decay)
        profiles = np.asarray(weights @ self.item_embeddings, dtype=np.float32)
        norms = np.linalg.norm(profiles, axis=1, keepdims=True)
        unit = np.divide(profiles, norms, out=np.zeros_like(profiles), where=norms > 0)
        beta = float(self.config.learned_weight)
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"text.learned_weight must be between 0 and 1, not {beta}")
        if beta == 0.0 or not len(self.item_embeddings):
            return unit
        mapped = unit @ text_item_map(unit, data.matrix(binary=True), self.item_embeddings, self.config.learned_l2)
        emb = self.item_embeddings.astype(np.float64)
        cov = np.cov(emb, rowvar=False) if len(emb) > 1 else np.eye(emb.shape[1])
        out = np.zeros_like(unit)
        for part, share in ((unit, 1.0 - beta), (mapped, beta)):
            spread = np.sqrt(np.einsum("ud,de,ue->u", part, cov, part)).astype(np.float32)[:, None]
            out += share * np.divide(part, spread, out=np.zeros_like(part), where=spread > 0)
        return out

    # -- scoring -------------------------------------------------------------------
    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        emb = self.item_embeddings if items is None else self.item_embeddings[np.asarray(items, dtype=np.int64)]
        known = (users >= 0) & (users < len(self.user_vectors))
        out = np.zeros((len(users), len(emb)), dtype=np.float32)
        if known.any():
            out[known] = self.user_vectors[users[known]] @ emb.T
        return out

    def similar_items(self, items: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """For each item index, the ``k`` nearest other items: (indices int64, cosines float32), each (len(items), k)."""
        items = np.asarray(items, dtype=np.int64)
        sims = self.item_embeddings[items] @ self.item_embeddings.T
        sims[np.arange(len(items)), items] = -np.inf
        k = min(k, self.n_items - 1)
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k > 0 else np.zeros((len(items), 0), dtype=np.int64)
        order = np.take_along_axis(sims, top, axis=1).argsort(axis=1)[:, ::-1]
        top = np.take_along_axis(top, order, axis=1)
        return top, np.take_along_axis(sims, top, axis=1).astype(np.float32)

    def query_encoder(self, device: str = "auto") -> TextEncoder:
        """The encoder the item embeddings came from (fine-tuned or bundled), for queries."""
        if self._encoder is not None:
            return self._encoder
        path = self._encoder_dir or self.config.model or None
        return TextEncoder.load(path, device=device, max_length=self.config.max_length)

    # -- artifacts -----------------------------------------------------------------
    def _save_arrays(self) -> dict[str, np.ndarray]:
        return {"item_embeddings": self.item_embeddings, "user_vectors": self.user_vectors}

    def _load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.item_embeddings = arrays["item_embeddings"].astype(np.float32)
        self.user_vectors = arrays["user_vectors"].astype(np.float32)

    def save(self, folder: Path) -> None:
        super().save(folder)
        target = Path(folder) / ENCODER_DIR
        if self._encoder is not None:
            self._encoder.save(target)
        elif self._encoder_dir is not None and self._encoder_dir.resolve() != target.resolve():
            shutil.copytree(self._encoder_dir, target, dirs_exist_ok=True)

    @classmethod
    def load(cls, folder: Path) -> Self:
        model = super().load(folder)
        encoder_dir = Path(folder) / ENCODER_DIR
        model._encoder_dir = encoder_dir if encoder_dir.exists() else None
        return model


def text_item_map(profiles: np.ndarray, target: sp.csr_matrix, embeddings: np.ndarray, l2: float) -> np.ndarray:
    """The (d, d) ridge solution of ``target ≈ profiles · M · embeddingsᵀ``.

    ``profiles`` (n_users, d) and ``embeddings`` (n_items, d) float; ``target`` (n_users, n_items)
    the binary training matrix. ``M = (PᵀP + λI)⁻¹ PᵀYE (EᵀE + μI)⁻¹`` with λ, μ = ``l2`` × the mean
    eigenvalue of PᵀP, EᵀE: a few d × d products, whatever the catalogue size."""
    p = np.asarray(profiles, dtype=np.float64)
    e = np.asarray(embeddings, dtype=np.float64)
    d = e.shape[1]
    gram_p, gram_e = p.T @ p, e.T @ e
    cross = p.T @ np.asarray(sp.csr_matrix(target, dtype=np.float64) @ e)
    lam = l2 * max(float(np.trace(gram_p)) / d, 1e-12)
    mu = l2 * max(float(np.trace(gram_e)) / d, 1e-12)
    left = np.linalg.solve(gram_p + lam * np.eye(d), cross)
    return np.linalg.solve(gram_e + mu * np.eye(d), left.T).T.astype(np.float32)


__all__ = ["TextConfig", "TextRecommender", "text_item_map"]
