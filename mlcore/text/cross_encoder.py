"""A cross-encoder: MiniLM reads a (query, product text) pair together and gives one relevance logit.

Slower than the bi-encoder (one forward pass per candidate), so it only re-orders the top few
candidates of a search. It starts from the bundled MiniLM with a fresh one-logit head and is trained
listwise: each query comes with one positive and ``negatives`` negative texts, and the loss is the
cross-entropy of the positive against the group. Saved as ``cross_encoder.json`` + ``cross_encoder.safetensors``.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mlcore.runtime import Callback, NullCallback
from mlcore.text.encoder import BUNDLED, _resolve

CONFIG_FILE = "cross_encoder.json"
WEIGHTS_FILE = "cross_encoder.safetensors"


@dataclass(frozen=True)
class CrossEncoderTrainConfig:
    """``steps`` of ``batch_size`` query groups (1 positive + ``negatives``) at ``lr``, linear decay."""

    steps: int = 200
    batch_size: int = 8
    lr: float = 3e-5
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    seed: int = 0


@dataclass
class CrossEncoderTrainResult:
    steps: int
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


class CrossEncoder:
    """``score(query, texts)`` -> float32 logits (higher = more relevant)."""

    def __init__(self, model: torch.nn.Module, tokenizer: Any, *, base: str = BUNDLED, max_length: int = 96,
                 device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.base = base
        self.max_length = max_length

    @classmethod
    def load(cls, path: str | Path | None = None, *, device: str | torch.device = "cpu",
             max_length: int | None = None) -> CrossEncoder:
        """A fresh cross-encoder on the bundled MiniLM (``path`` None) or one saved by :meth:`save`."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        folder = Path(path) if path is not None else None
        saved: dict[str, Any] = {}
        if folder is not None:
            if not (folder / CONFIG_FILE).exists():
                raise ValueError(f"{folder} holds no {CONFIG_FILE}; save a cross-encoder there first")
            saved = json.loads((folder / CONFIG_FILE).read_text())
        base = str(saved.get("base", BUNDLED))
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # "newly initialized classifier" is expected here
        try:
            model = AutoModelForSequenceClassification.from_pretrained(str(_resolve(base)), num_labels=1,
                                                                       dtype=torch.float32)
        finally:
            hf_logging.set_verbosity(verbosity)
        tokenizer = AutoTokenizer.from_pretrained(str(_resolve(base)))
        length = max_length if max_length is not None else int(saved.get("max_length", 96))
        encoder = cls(model, tokenizer, base=base, max_length=length, device=device)
        if folder is not None:
            from safetensors.torch import load_file

            encoder.model.load_state_dict(load_file(str(folder / WEIGHTS_FILE), device=str(encoder.device)))
        return encoder

    def save(self, folder: Path) -> None:
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().contiguous().cpu() for k, v in self.model.state_dict().items()}
        save_file(state, str(folder / WEIGHTS_FILE))
        (folder / CONFIG_FILE).write_text(json.dumps({"base": self.base, "max_length": self.max_length}, indent=2))

    def _logits(self, queries: Sequence[str], texts: Sequence[str]) -> torch.Tensor:
        batch = self.tokenizer(list(queries), list(texts), padding=True, truncation="only_second",
                               max_length=self.max_length, return_tensors="pt")
        return self.model(**{k: v.to(self.device) for k, v in batch.items()}).logits[:, 0].float()

    def score(self, query: str, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Relevance logits of ``texts`` for ``query``, float32 (len(texts),)."""
        out = np.zeros(len(texts), dtype=np.float32)
        self.model.eval()
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                part = texts[start:start + batch_size]
                out[start:start + len(part)] = self._logits([query] * len(part), part).cpu().numpy()
        return out

    def train(self, queries: Sequence[str], positives: Sequence[str], negatives: Sequence[Sequence[str]],
              config: CrossEncoderTrainConfig = CrossEncoderTrainConfig(),
              callback: Callback | None = None) -> CrossEncoderTrainResult:
        """Listwise training: ``queries[i]`` should score ``positives[i]`` above every ``negatives[i]``."""
        if not (len(queries) == len(positives) == len(negatives)):
            raise ValueError(f"{len(queries)} queries, {len(positives)} positives and {len(negatives)} negative lists "
                             "must pair up")
        callback = callback if callback is not None else NullCallback()
        result = CrossEncoderTrainResult(steps=0)
        groups = [i for i, n in enumerate(negatives) if len(n)]
        if not groups or config.steps <= 0:
            return result
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(0.0, 1 - s / config.steps))
        rng = np.random.default_rng(config.seed)
        started = time.perf_counter()
        self.model.train()
        try:
            while result.steps < config.steps:
                for _ in range(max(1, len(groups) // config.batch_size)):
                    if result.steps >= config.steps:
                        break
                    callback.check()
                    pick = [groups[j] for j in rng.integers(0, len(groups), config.batch_size)]
                    width = min(len(negatives[i]) for i in pick) + 1
                    qs = [queries[i] for i in pick for _ in range(width)]
                    ts = [t for i in pick for t in [positives[i], *list(negatives[i])[:width - 1]]]
                    optimizer.zero_grad(set_to_none=True)
                    logits = self._logits(qs, ts).view(len(pick), width)
                    loss = torch.nn.functional.cross_entropy(logits, torch.zeros(len(pick), dtype=torch.long,
                                                                                 device=self.device))
                    loss.backward()
                    if config.grad_clip > 0:
                        torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
                    optimizer.step()
                    scheduler.step()
                    result.steps += 1
                    result.losses.append(float(loss.detach()))
                    callback.progress(phase="rerank-train", done=result.steps, total=config.steps,
                                      metrics={"loss": result.losses[-1]})
        finally:
            self.model.eval()
            result.seconds = time.perf_counter() - started
        return result
