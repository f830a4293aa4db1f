"""The one interface every recommender implements, and the registry of names.

A recommender is fitted on a :class:`~mlcore.data.Dataset` and then scores
users (row indices of ``data.users``) against items (column indices of
``data.items``). Artifacts are a folder with ``meta.json`` (name, config,
versions, id-map fingerprints), ``users.json``/``items.json`` and arrays in
``.npz`` or safetensors; nothing is pickled.
"""
from __future__ import annotations

import dataclasses
import json
import platform
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

import numpy as np

import mlcore
from mlcore.data import Dataset, IdMap
from mlcore.recommenders.cost import Cost, Workload
from mlcore.runtime import Callback, NullCallback

REGISTRY: dict[str, type[Recommender]] = {}

R = TypeVar("R", bound="type[Recommender]")


def register(cls: R) -> R:
    """Class decorator: make ``cls`` available under its stable ``cls.name``."""
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise ValueError(f"recommender name {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls
    return cls


def get(name: str) -> type[Recommender]:
    """The recommender class registered as ``name``; the error lists valid names."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown recommender {name!r}; known: {', '.join(sorted(REGISTRY))}") from None


@dataclasses.dataclass(frozen=True)
class NoConfig:
    """For recommenders without settings."""


class Recommender(ABC):
    """Base class. Subclasses set ``name`` and ``Config`` (a frozen dataclass)."""

    name: ClassVar[str]
    Config: ClassVar[type[Any]] = NoConfig
    arrays_file: ClassVar[str] = "arrays.npz"
    """Where :meth:`save` writes the arrays: ``.npz``, or ``.safetensors`` for torch models' weights."""

    def __init__(self, config: Any | None = None) -> None:
        self.config = config if config is not None else self.Config()
        self.users: IdMap | None = None
        self.items: IdMap | None = None

    # -- the interface -------------------------------------------------------------
    @abstractmethod
    def fit(self, data: Dataset, callback: Callback | None = None) -> Self:
        """Learn from ``data``; implementations must call ``self._bind(data)``."""

    @abstractmethod
    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Scores, float32 of shape (len(users), n_items or len(items)); higher is better.

        Unknown users (no history) get a row of equal or popularity-like scores, never an error.
        """

    @abstractmethod
    def _save_arrays(self) -> dict[str, np.ndarray]:
        """Arrays that, with the config, fully describe the fitted model."""

    @abstractmethod
    def _load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore the state written by :meth:`_save_arrays`."""

    @classmethod
    def cost(cls, workload: Workload, config: Any | None = None) -> Cost:
        """Memory and time of fitting on ``workload`` (see :mod:`mlcore.recommenders.cost`).

        This default suits models that keep one copy of the interaction matrix and make a
        couple more while fitting; models with dense or quadratic parts override it.
        """
        return Cost(peak_bytes=workload.matrix_bytes + workload.csr_bytes, model_bytes=workload.csr_bytes,
                    seconds=1.5e-6 * workload.events)

    # -- shared plumbing -----------------------------------------------------------
    def _bind(self, data: Dataset) -> None:
        self.users, self.items = data.users, data.items

    @staticmethod
    def _callback(callback: Callback | None) -> Callback:
        return callback if callback is not None else NullCallback()

    @property
    def n_items(self) -> int:
        if self.items is None:
            raise RuntimeError(f"{self.name}: fit or load the model first")
        return len(self.items)

    def save(self, folder: Path) -> None:
        """Write the fitted model to ``folder`` (created if needed)."""
        if self.users is None or self.items is None:
            raise RuntimeError(f"{self.name}: nothing to save, the model is not fitted")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.users.save(folder / "users.json")
        self.items.save(folder / "items.json")
        arrays = self._save_arrays()
        if self.arrays_file.endswith(".safetensors"):
            from safetensors.numpy import save_file

            save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(folder / self.arrays_file))
        else:
            np.savez(folder / self.arrays_file, **arrays)  # type: ignore[arg-type]
        meta = {
            "algorithm": self.name,
            "config": dataclasses.asdict(self.config),
            "users_fingerprint": self.users.fingerprint(),
            "items_fingerprint": self.items.fingerprint(),
            "versions": {"mlcore": mlcore.__version__, "numpy": np.__version__, "python": platform.python_version()},
        }
        (folder / "meta.json").write_text(json.dumps(meta, indent=2, default=str))

    @classmethod
    def load(cls, folder: Path) -> Self:
        """Read a model written by :meth:`save`, checking name and id maps."""
        folder = Path(folder)
        meta = json.loads((folder / "meta.json").read_text())
        if meta["algorithm"] != cls.name:
            raise ValueError(f"{folder} holds a {meta['algorithm']!r} model, not {cls.name!r}")
        model = cls(cls.Config(**meta["config"]))
        model.users = IdMap.load(folder / "users.json")
        model.items = IdMap.load(folder / "items.json")
        if model.users.fingerprint() != meta["users_fingerprint"] or model.items.fingerprint() != meta["items_fingerprint"]:
            raise ValueError(f"{folder}: id maps do not match the fingerprints in meta.json")
        if cls.arrays_file.endswith(".safetensors"):
            from safetensors.numpy import load_file

            model._load_arrays(load_file(str(folder / cls.arrays_file)))
        else:
            with np.load(folder / cls.arrays_file, allow_pickle=False) as npz:
                model._load_arrays({key: npz[key] for key in npz.files})
        return model


def load(folder: Path) -> Recommender:
    """Load any saved recommender, choosing the class from ``meta.json``."""
    meta = json.loads((Path(folder) / "meta.json").read_text())
    return get(meta["algorithm"]).load(folder)
