"""A CLIP image/text encoder loaded offline from a folder, batched, on CUDA with mixed precision when present.

We use ``transformers``' CLIP classes rather than ``open_clip_torch``: transformers is already how the text
model is loaded (same offline ``from_pretrained`` folders, same device and precision helpers), and any
CLIP checkpoint saved with ``save_pretrained`` (OpenAI's, LAION's, a fine-tuned one) loads the same way.
Images and texts map into one space: ``encode_images`` and ``encode_texts`` return L2-normalised float32
rows, so a dot product is a cosine (image–image similarity, text-to-image search, image–title agreement).

:func:`build_tiny_clip` writes a small, randomly initialised CLIP (with the bundled MiniLM's tokenizer) to a
folder: tests and the smoke benchmark use it so nothing is downloaded; it loads through the same code path
as a real model folder.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from mlcore.runtime import Callback, NullCallback, pick_device
from mlcore.text.encoder import autocast, bundled_model_path

MAX_PIXELS = 40_000_000
"""Images above this many pixels are refused (a decompression bomb), before decoding."""


class ImageError(ValueError):
    """An image file that cannot be used; the message names the file and why."""


def open_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """An RGB image from ``path``; :class:`ImageError` for a missing, oversized or non-image file."""
    try:
        with Image.open(path) as img:
            if img.width * img.height > max_pixels:
                raise ImageError(f"{path}: {img.width}×{img.height} pixels is above the {max_pixels:,}-pixel limit")
            return img.convert("RGB")
    except ImageError:
        raise
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageError(f"{path}: not a readable image ({exc})") from exc


class ImageEncoder:
    """CLIP from ``folder`` (``save_pretrained`` layout with its image processor and tokenizer)."""

    def __init__(self, model: Any, processor: Any, tokenizer: Any, device: torch.device, fingerprint: str) -> None:
        self.model, self.processor, self.tokenizer, self.device = model, processor, tokenizer, device
        self.fingerprint = fingerprint

    @classmethod
    def load(cls, folder: str | Path, device: str = "auto") -> ImageEncoder:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoImageProcessor, AutoTokenizer, CLIPModel
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        path = Path(folder)
        if not (path / "config.json").exists():
            raise FileNotFoundError(f"image model folder {path} has no config.json: give a CLIP model saved with "
                                    "save_pretrained (models are never downloaded at run time)")
        dev = pick_device(device)
        model: Any = CLIPModel.from_pretrained(path, local_files_only=True)
        model = model.to(dev).eval()
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # "requires torchvision … falling back to the PIL processor": harmless
        try:
            processor = AutoImageProcessor.from_pretrained(path, local_files_only=True)
        finally:
            hf_logging.set_verbosity(verbosity)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        stamp = (path / "config.json").read_text() + str(sorted(p.name for p in path.iterdir()))
        return cls(model, processor, tokenizer, dev, hashlib.sha256(stamp.encode()).hexdigest()[:16])

    @property
    def dim(self) -> int:
        return int(self.model.config.projection_dim)

    @torch.inference_mode()
    def encode_images(self, paths: Sequence[str | Path], batch_size: int = 32,
                      callback: Callback | None = None, phase: str = "encode images") -> np.ndarray:
        """(len(paths), dim) unit rows; raises :class:`ImageError` naming the first unusable file."""
        cb = callback or NullCallback()
        out = np.zeros((len(paths), self.dim), dtype=np.float32)
        for start in range(0, len(paths), batch_size):
            images = [open_image(p) for p in paths[start:start + batch_size]]
            pixels = self.processor(images=images, return_tensors="pt")["pixel_values"]
            with autocast(self.device):
                features = self.model.get_image_features(pixel_values=pixels.to(self.device)).pooler_output
            out[start:start + len(images)] = _unit(features)
            cb.progress(phase=phase, done=min(start + batch_size, len(paths)), total=len(paths))
        return out

    @torch.inference_mode()
    def encode_texts(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """(len(texts), dim) unit rows in the same space as the images (for text-to-image search)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        limit = int(getattr(self.model.config.text_config, "max_position_embeddings", 77))
        for start in range(0, len(texts), batch_size):
            batch = self.tokenizer(list(texts[start:start + batch_size]), padding=True, truncation=True,
                                   max_length=limit, return_tensors="pt")
            batch = {k: v.to(self.device) for k, v in batch.items() if k in ("input_ids", "attention_mask")}
            with autocast(self.device):
                features = self.model.get_text_features(**batch).pooler_output
            out[start:start + len(batch["input_ids"])] = _unit(features)
        return out


def _unit(features: torch.Tensor) -> np.ndarray:
    rows = features.float().cpu().numpy()
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0).astype(np.float32)


def build_tiny_clip(folder: str | Path, *, image_size: int = 32, dim: int = 32, seed: int = 0) -> Path:
    """Write a small, randomly initialised CLIP to ``folder`` (for tests and smoke runs; nothing downloaded).

    Its text side uses the bundled MiniLM tokenizer, its image side a ``CLIPImageProcessor`` at
    ``image_size`` pixels. Random weights still map similar pictures close together (a random convolution
    keeps colour and layout), which is all the pipeline tests need; real use gives a trained CLIP folder.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer, CLIPConfig, CLIPImageProcessor, CLIPModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    folder = Path(folder)
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path(), local_files_only=True)
    torch.manual_seed(seed)
    config = CLIPConfig(
        text_config={"vocab_size": tokenizer.vocab_size, "hidden_size": dim, "intermediate_size": 2 * dim,
                     "num_hidden_layers": 1, "num_attention_heads": 2, "max_position_embeddings": 64,
                     "bos_token_id": tokenizer.cls_token_id, "eos_token_id": tokenizer.sep_token_id,
                     "pad_token_id": tokenizer.pad_token_id},
        vision_config={"hidden_size": dim, "intermediate_size": 2 * dim, "num_hidden_layers": 1,
                       "num_attention_heads": 2, "image_size": image_size, "patch_size": image_size // 4},
        projection_dim=dim,
    )
    CLIPModel(config).save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}
                       ).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


__all__ = ["MAX_PIXELS", "ImageEncoder", "ImageError", "build_tiny_clip", "open_image"]
