"""The on-disk format of a version's search index: the built index, its added parts, and replaying them.

Layout, inside a version's bundle folder::

    <bundle>/search/                  SearchEngine.save() + index.json (encoder, size, build time)
    <bundle>/search/encoder/          the index's own encoder, when it was search-tuned (index.json
                                      "encoder" is then :data:`INDEX_ENCODER`)
    <bundle>/search/added/<part>/     products.jsonl + vectors.npy of products added after the build

The built index is written to a hidden sibling and renamed into place (:func:`write_index`), so no
reader ever sees a partial index. Products added later go into *parts*, each written the same way
(:func:`write_part`), never by rewriting the built files. A reader replays the parts it has not seen
(:func:`replay`: one directory listing, then only the new parts' rows and vectors — nothing is
encoded). Products already indexed are skipped on replay, so two writers adding the same product at
once do no harm. Encoding new products is :func:`add_products`, for a background worker, never for a
request.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcore.search.engine import SearchEngine

SEARCH_DIR = "search"
ADDED_DIR = "added"
META_FILE = "index.json"
INDEX_ENCODER = "index"  # index.json "encoder" when the index folder holds its own (search-tuned) encoder
ENCODER_DIR = "encoder"
PART_PRODUCTS = "products.jsonl"
PART_VECTORS = "vectors.npy"


@dataclass
class LoadedIndex:
    """A version's engine in memory with the added ``parts`` already replayed into it; hold ``lock``
    while searching or replaying (the engine grows in place)."""

    folder: Path
    engine: SearchEngine
    meta: dict[str, Any]
    parts: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ids(self) -> set[str]:
        return set(self.engine.products["id"].tolist())


def index_dir(bundle: Path | str) -> Path:
    """Where the search index of the bundle at ``bundle`` lives."""
    return Path(bundle) / SEARCH_DIR


def has_index(folder: Path) -> bool:
    return (folder / META_FILE).exists()


def write_index(bundle: Path, engine: SearchEngine, meta: Mapping[str, Any], *, encoder: Any = None) -> Path:
    """Save ``engine`` (and ``encoder``, a search-tuned one, in ``encoder/`` unless the engine saved it)
    with ``meta`` as ``index.json`` into ``bundle/search`` atomically; returns that folder.
    FileExistsError when the bundle already has an index (a version's index is built once)."""
    target = index_dir(bundle)
    if target.exists():
        raise FileExistsError(f"{target} already holds an index; a version's index is built once")
    tmp = Path(tempfile.mkdtemp(prefix=f".{SEARCH_DIR}.partial-", dir=bundle))
    try:
        engine.save(tmp)
        if encoder is not None and not (tmp / ENCODER_DIR / "encoder.json").exists():
            encoder.save(tmp / ENCODER_DIR)
        (tmp / META_FILE).write_text(json.dumps(dict(meta), indent=1))
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def read_meta(folder: Path) -> dict[str, Any]:
    """``index.json`` of the index at ``folder``; FileNotFoundError when there is none."""
    return dict(json.loads((folder / META_FILE).read_text()))


def load_index(folder: Path, encoder: Callable[[str], Any]) -> LoadedIndex:
    """The index at ``folder`` with its parts replayed. ``encoder(ref)`` gives the query encoder that
    index.json names (not called for a search-tuned index, which loads its own). Encodes nothing."""
    meta = read_meta(folder)
    ref = str(meta.get("encoder", ""))
    # a search-tuned index carries its own encoder (queries must meet the model that made its vectors)
    engine = SearchEngine.load(folder, None if ref == INDEX_ENCODER else encoder(ref))
    loaded = LoadedIndex(folder, engine, meta)
    replay(loaded)
    return loaded


def list_parts(folder: Path) -> list[str]:
    """The added parts of the index at ``folder``, oldest first (hidden, unfinished ones left out)."""
    added = folder / ADDED_DIR
    return sorted(p.name for p in added.iterdir() if not p.name.startswith(".")) if added.exists() else []


def write_part(folder: Path, frame: pd.DataFrame, vectors: np.ndarray | None) -> str:
    """Write ``frame`` (the engine's product table) and its dense ``vectors`` (len(frame), d) as a new
    part atomically; returns the part's name (sortable by time)."""
    added = folder / ADDED_DIR
    added.mkdir(exist_ok=True)
    name = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}"
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.partial-", dir=added))
    try:
        frame.to_json(tmp / PART_PRODUCTS, orient="records", lines=True, force_ascii=False)
        if vectors is not None:
            np.save(tmp / PART_VECTORS, vectors)
        os.replace(tmp, added / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return name


def replay(loaded: LoadedIndex) -> int:
    """Add the parts written (by any process) since ``loaded`` last looked; returns the products added.
    Reads stored vectors, encodes nothing. Call with ``loaded.lock`` held."""
    new = [p for p in list_parts(loaded.folder) if p not in loaded.parts]
    if not new:
        return 0
    frames, vectors = [], []
    for name in new:
        part = loaded.folder / ADDED_DIR / name
        frames.append(pd.read_json(part / PART_PRODUCTS, orient="records", lines=True, dtype={"id": str}))
        if (part / PART_VECTORS).exists():
            vectors.append(np.load(part / PART_VECTORS, allow_pickle=False))
    frame = pd.concat(frames, ignore_index=True)
    frame["id"] = frame["id"].astype(str)
    keep = (~frame["id"].isin(loaded.ids()) & ~frame["id"].duplicated()).to_numpy()
    if keep.any():
        vecs = np.vstack(vectors)[keep] if vectors and loaded.engine.dense is not None else None
        loaded.engine.add_products(frame[keep].reset_index(drop=True), vecs)
    loaded.parts.update(new)
    return int(keep.sum())


def add_products(loaded: LoadedIndex, frame: pd.DataFrame) -> str:
    """Encode ``frame`` (the engine's product table) into ``loaded`` and persist it as a part; returns the
    part's name. The expensive path (a background worker's): every other process only replays the part.
    Call with ``loaded.lock`` held."""
    engine = loaded.engine
    before = len(engine.dense) if engine.dense is not None else 0
    engine.add_products(frame)
    vectors = engine.dense.vectors[before:] if engine.dense is not None else None
    name = write_part(loaded.folder, frame, vectors)
    loaded.parts.add(name)
    return name


__all__ = ["ADDED_DIR", "INDEX_ENCODER", "META_FILE", "SEARCH_DIR", "LoadedIndex", "add_products", "has_index",
           "index_dir", "list_parts", "load_index", "read_meta", "replay", "write_index", "write_part"]
