"""Servable bundles: every signal of a run, its fusion and its metadata, in one folder.

Layout::

    bundle/
      meta.json          signals + configs, versions, data fingerprint, split, metrics, timings
      fusion.json        {"weights": {...}, "normalization": "rank"}
      users.json, items.json   the id maps shared by every signal
      seen.npz           CSR (indptr, indices) of what each shopper already has
      products.parquet   the product table (titles and attributes for rules)
      signals/<name>/    each recommender's own save()
      fusion/            the learned fusion, when the run trained one: learned_model.txt (LightGBM's text
                         format), learned.json (signals, routes, features), learned_context.npz (item and
                         shopper statistics of the training data)

The bundle is written to a hidden sibling folder and renamed at the end, so a
crash never leaves a partial bundle under the final name. Nothing is pickled. The reader is
:func:`mlcore.serving.bundle.load_bundle`.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

import mlcore
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
        if result.learned is not None:
            from mlcore.fusion.features import Context
            from mlcore.fusion.learned import CONTEXT_FILE

            result.learned.save(tmp / "fusion")
            Context.from_dataset(data).save(tmp / "fusion" / CONTEXT_FILE)
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
            "learned_fusion": result.learned_summary(),
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
