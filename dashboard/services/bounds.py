"""Bounds on every number an operator sets for training, and the text models the server offers.

A launch (page, schedule, API or command) is checked here before a job exists: a number outside its range
is refused naming the signal, the field and the range; settings that would name a file on the server
(``cache_dir``) cannot be set at all, and a text or image model is one of :func:`known_text_models`.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from django.conf import settings

# field → (least, most), whichever signal has it; fields not listed take the defaults below.
NUMBER_BOUNDS: dict[str, tuple[float, float]] = {
    "l2": (0, 1e6), "half_life_days": (0, 3650), "max_items": (1, 5_000_000), "max_dense_items": (1, 50_000),
    "neighbours": (1, 5000), "shrink": (0, 1e6), "batch_size": (1, 16_384), "recent_items": (0, 1000),
    "recency_decay": (0, 1), "factors": (1, 1024), "epochs": (1, 10_000), "lr": (1e-8, 10),
    "unobserved_weight": (0, 1e4), "confidence": (0, 1e4), "patience": (0, 1000), "eval_every": (1, 1000),
    "seed": (0, 2**31 - 1), "cpu_threads": (1, 256), "dim": (1, 2048), "layers": (1, 24), "heads": (1, 32),
    "max_len": (2, 2000), "windows_per_user": (1, 1000), "weight_decay": (0, 10), "dropout": (0, 0.95),
    "finetune_steps": (0, 1_000_000), "finetune_epochs": (1, 1000), "temperature": (1e-4, 100), "lora_r": (1, 512),
    "freeze_layers": (0, 96), "max_pairs": (0, 10_000_000), "pair_min_support": (1, 100_000),
    "max_length": (8, 1024), "encode_batch_size": (1, 16_384), "learned_weight": (0, 1e4), "learned_l2": (0, 1e6),
}
DEFAULT_INT = (0, 10_000_000)
DEFAULT_FLOAT = (-1e6, 1e6)
SPLIT_BOUNDS: dict[str, tuple[float, float]] = {
    "test_days": (1, 3650), "validation_days": (0, 3650), "n": (1, 1000), "validation_n": (0, 1000),
    "train": (0, 1), "validation": (0, 1), "test": (0, 1), "seed": (0, 2**31 - 1),
}
SERVER_ONLY = ("cache_dir",)  # the server sets these; a form never names a folder
SIGNAL_SERVER_ONLY = {"image": ("model",)}  # the image signal's CLIP folder is IMAGE_MODEL_DIR


def server_only(signal: str, field: str) -> bool:
    """Whether ``signal``'s ``field`` is set by the server and may not appear in a job or form."""
    return field in SERVER_ONLY or field in SIGNAL_SERVER_ONLY.get(signal, ())
MODEL_FIELDS = ("model", "text_model")  # chosen from known_text_models()


def known_text_models() -> tuple[str, ...]:
    """The text and image models a job may name: "" (the bundled model) and ``settings.TEXT_MODELS``."""
    return ("", *getattr(settings, "TEXT_MODELS", ()))


def _number(where: str, value: Any, bounds: tuple[float, float]) -> None:
    if isinstance(value, bool) or value is None:
        return
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {value!r} is not a number") from None
    least, most = bounds
    if not math.isfinite(number) or not least <= number <= most:
        raise ValueError(f"{where}: {value!r} is outside {least:g} … {most:g}")


def check_training_params(params: Mapping[str, Any]) -> None:
    """ValueError naming the first setting of ``params`` (a job's dict) that is out of bounds."""
    for signal, overrides in (params.get("configs") or {}).items():
        for field, value in (overrides or {}).items():
            where = f"{signal} · {field}"
            if server_only(signal, field):
                raise ValueError(f"{where}: set by the server, not by a job")
            if field in MODEL_FIELDS:
                if value not in known_text_models():
                    offered = ", ".join(repr(m) for m in known_text_models())
                    raise ValueError(f"{where}: choose one of the server's models ({offered}); "
                                     "an administrator adds more with TEXT_MODELS")
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                default = DEFAULT_INT if isinstance(value, int) else DEFAULT_FLOAT
                _number(where, value, NUMBER_BOUNDS.get(field, default))
            elif isinstance(value, str) and len(value) > 200:
                raise ValueError(f"{where}: at most 200 characters")
    split = params.get("split")
    if isinstance(split, Mapping):
        for field, bounds in SPLIT_BOUNDS.items():
            if split.get(field) not in (None, ""):
                _number(f"split · {field}", split[field], bounds)
    ks = params.get("ks") or ()
    for k in ks:
        _number("ks", k, (1, 1000))
