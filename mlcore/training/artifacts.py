"""Servable bundles: every signal of a run, its fusion and its metadata, in one folder.

Layout::

    bundle/
      meta.json          signals + configs, versions, data fingerprint, split, metrics, timings
      fusion.json        {"weights": {...}, "normalization": "rank"}
      users.json, items.json   the id maps shared by every signal
      seen.npz           CSR (indptr, indices) of what each shopper already has
      products.parquet   the product table (titles and attributes for rules)
      signals/<name>/    each recommender's own save()

The bundle is written to a hidden sibling folder and renamed at the end, so a
crash never leaves a partial bundle under the final name. Nothing is pickled.
"""
from __future__ import annotations

import dataclasses
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

import mlcore
from mlcore.data import IdMap
from mlcore.fusion import (
    Explanation,
    FusionConfig,
    Rule,
    RuleContext,
    apply_rules,
    explain,
    fuse,
    mmr,
    with_rules,
)
from mlcore.training.runner import RunResult

BUNDLE_FORMAT = 1


def _versions() -> dict[str, str]:
    import scipy
    import torch

    return {
        "mlcore": mlcore.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def write_bundle(out: Path, result: RunResult, *, extra_meta: Mapping[str, Any] | None = None) -> Path:
    """Write ``result`` as a bundle at ``out`` (which must not exist or be empty); return ``out``."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} already holds files; choose a new folder for the bundle")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        data = result.fitted_on
        data.users.save(tmp / "users.json")
        data.items.save(tmp / "items.json")
        seen = sp.csr_matrix(data.matrix(binary=True))
        np.savez(tmp / "seen.npz", indptr=seen.indptr, indices=seen.indices, shape=np.array(seen.shape))
        data.products.to_parquet(tmp / "products.parquet", index=False)
        signals = {}
        for name, model in result.models.items():
            model.save(tmp / "signals" / name)
            signals[name] = json.loads((tmp / "signals" / name / "meta.json").read_text())["config"]
        (tmp / "fusion.json").write_text(json.dumps(result.fusion.to_dict(), indent=2))
        meta = {
            "format": BUNDLE_FORMAT,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "signals": signals,
            "fusion": result.fusion.to_dict(),
            "versions": _versions(),
            "data_fingerprint": data.fingerprint(),
            "users_fingerprint": data.users.fingerprint(),
            "items_fingerprint": data.items.fingerprint(),
            "split": {"name": result.split_name, **result.split_sizes},
            "tuning": result.tuning.to_dict() if result.tuning else None,
            "metrics": result.report.to_dict()["metrics"],
            "timings": result.timings,
            **dict(extra_meta or {}),
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, default=str))
        if out.exists():
            out.rmdir()  # empty, checked above
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


class Bundle:
    """A loaded bundle: all signals in memory, fused ranking with explanations for a shopper."""

    def __init__(self, folder: Path) -> None:
        from mlcore.recommenders import load as load_recommender

        self.folder = Path(folder)
        meta_path = self.folder / "meta.json"
        if not meta_path.exists():
            raise FileNotFoundError(f"{self.folder} is not a bundle (no meta.json)")
        self.meta: dict[str, Any] = json.loads(meta_path.read_text())
        self.fusion = FusionConfig.from_dict(json.loads((self.folder / "fusion.json").read_text()))
        self.users = IdMap.load(self.folder / "users.json")
        self.items = IdMap.load(self.folder / "items.json")
        if self.items.fingerprint() != self.meta["items_fingerprint"] or self.users.fingerprint() != self.meta["users_fingerprint"]:
            raise ValueError(f"{self.folder}: id maps do not match meta.json")
        with np.load(self.folder / "seen.npz", allow_pickle=False) as npz:
            shape = tuple(int(x) for x in npz["shape"])
            self.seen = sp.csr_matrix(
                (np.ones(len(npz["indices"]), dtype=np.float32), npz["indices"], npz["indptr"]), shape=shape
            )
        self.products = pd.read_parquet(self.folder / "products.parquet")
        self.models = {name: load_recommender(self.folder / "signals" / name) for name in self.meta["signals"]}
        for name, model in self.models.items():
            if model.items != self.items:
                raise ValueError(f"{self.folder}: signal {name!r} was trained on another item map")

    def user_index(self, user_id: object) -> int:
        """Row of ``user_id``; KeyError (naming it) for shoppers unknown to this bundle."""
        return self.users.index_of(user_id)

    def signal_scores(self, users: np.ndarray) -> dict[str, np.ndarray]:
        """Raw scores of each signal, float32 (len(users), n_items)."""
        return {name: np.asarray(m.score(np.asarray(users, dtype=np.int64)), dtype=np.float32) for name, m in self.models.items()}

    def score(self, users: np.ndarray, fusion: FusionConfig | None = None) -> np.ndarray:
        """Fused scores (len(users), n_items) with the bundle's fusion, or another one (a preview)."""
        f = fusion or self.fusion
        return fuse(self.signal_scores(users), f.weights, f.normalization)

    def recommend(
        self,
        user_id: object,
        k: int = 10,
        *,
        exclude_seen: bool = False,
        rules: Iterable[Rule] = (),
        fusion: FusionConfig | None = None,
        mmr_lambda: float | None = None,
        item_vectors: np.ndarray | None = None,
        candidates: int = 200,
        extra_seen: Iterable[object] = (),
        products: pd.DataFrame | None = None,
        recent: Iterable[object] = (),
        context: str = "",
    ) -> list[Explanation]:
        """Top-k for one shopper, each with its explanation (contributions, rules, graph path).

        Order: fuse → drop seen (optional) → best ``candidates`` → rules → MMR (when
        ``mmr_lambda`` and ``item_vectors`` are given) → k. ``extra`` holds ``item_id`` and ``title``.
        ``extra_seen``: item ids the shopper has beyond the bundle's ``seen`` (events after its
        training data); they count for ``exclude_seen`` and the exclude-bought rule, unknown ids are
        ignored. ``products``: attributes to apply rules on instead of the bundle's (current stock,
        prices), one row per item in ``items`` order. ``recent``: item ids the shopper saw lately, for the
        exclude-recent rule (unknown ids ignored). ``context``: the page shown (e.g. "category:Home > Kitchen"),
        for pins limited to one.
        """
        f = fusion or self.fusion
        u = self.user_index(user_id)
        if products is not None and len(products) != len(self.items):
            raise ValueError(f"products has {len(products)} rows; the bundle has {len(self.items)} items")
        rows = self.signal_scores(np.array([u]))
        fused = fuse(rows, f.weights, f.normalization)[0]
        extra = self.items.index(list(extra_seen))
        bought = np.union1d(self.seen[u].indices, extra[extra >= 0]).astype(np.int64)
        if exclude_seen:
            fused[bought] = -np.inf
        order = np.argsort(-fused, kind="stable")
        order = order[np.isfinite(fused[order])][: max(candidates, k)]
        table = self.products if products is None else products
        seen_lately = self.items.index(list(recent))
        ctx = RuleContext(products=table, items=self.items, bought=frozenset(bought.tolist()),
                          recent=frozenset(seen_lately[seen_lately >= 0].tolist()), context=context)
        ranked = apply_rules(order, fused[order], list(rules), ctx, k=None if mmr_lambda is not None else k)
        chosen, notes = ranked.items, dict(zip(ranked.items.tolist(), ranked.notes, strict=True))
        if mmr_lambda is not None and item_vectors is not None and len(chosen):
            chosen = mmr(chosen, np.nan_to_num(fused[chosen], nan=0.0, neginf=0.0), item_vectors, k, mmr_lambda)
        chosen = chosen[:k]
        explainers = {name: m for name, m in self.models.items() if hasattr(m, "explain")}
        out = explain({n: r[0] for n, r in rows.items()}, f.weights, chosen, f.normalization, user=u, explainers=explainers)
        titles = self.products["title"].to_numpy()
        return [
            with_rules(
                _with_extra(e, {"item_id": self.items.ids[e.item], "title": str(titles[e.item])}), notes.get(e.item, ())
            )
            for e in out
        ]


def _with_extra(e: Explanation, extra: Mapping[str, Any]) -> Explanation:
    return dataclasses.replace(e, extra={**dict(e.extra), **dict(extra)})


def load_bundle(folder: Path | str) -> Bundle:
    """Load a bundle written by :func:`write_bundle`."""
    return Bundle(Path(folder))

