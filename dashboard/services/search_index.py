"""The search index of a model version: built by the training job, loaded once per process, grown by imports.

The files (the built index, its added parts, replaying them) are :mod:`mlcore.serving.search_store`'s;
this module adds what needs Django: the database's products, the settings, the per-process cache.

The trained index is written before the version is registered, so no version ever points at a
partial index. Products imported later are encoded on a worker (the import's on-commit hook) and
written as a part; every process replays the parts it has not seen on its next search (one
directory listing per call, no encoding), so a product imported anywhere is searchable everywhere
within seconds. Products imported while a version trained are added by the catch-up task
(:data:`TASK_CATCH_UP`), queued when a version is registered, promoted or rolled back. A web
process never encodes products: it only loads index files and replays parts.
"""
from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from dashboard.models import Catalog, ModelVersion, Product
from dashboard.selectors.training import active_version
from mlcore.runtime import Callback
from mlcore.search.click_pairs import CLICK_WINDOW_MINUTES, click_pairs
from mlcore.search.engine import SearchConfig, SearchEngine
from mlcore.search.lexical import field_texts
from mlcore.serving import search_store as store
from mlcore.serving.search_store import INDEX_ENCODER, LoadedIndex

log = logging.getLogger(__name__)
TASK_CATCH_UP = "dashboard.search_index_catch_up"
TEXT_ENCODER_DIR = Path("signals") / "text" / "encoder"
COLOUR_KEYS = ("colour", "color", "Colour", "Color", "COLOUR", "COLOR")
# The index is built in the fullest mode so that every saved search setting (any mode) can run on it.
INDEX_CONFIG = SearchConfig(
    mode="hybrid+qu", fusion="weighted", dense_weight=0.5,
    lexical_fields=("title", "title", "brand", "category", "description", "attributes"),
    dense_fields=("title", "brand", "category", "description"),
    brand_column="brand", colour_columns=("colour",),
)
# ``category_path`` repeats ``category`` under the dashboard's name, for engine features that read it;
# ``attributes`` is the text of the product's attribute values (searchable: "android", "usb-c").
COLUMNS = ("id", "title", "description", "brand", "category", "category_path", "price", "in_stock", "colour",
           "attributes")
PAIR_REPEAT_MAX = 5  # a query → product pair is repeated by its count, at most this often
FINETUNE: dict[str, Any] = {"batch_size": 32, "lr": 5e-5, "freeze_layers": 3, "temperature": 0.05}


class SearchUnavailable(LookupError):
    """Nothing to search: no active version, or it has no index; the message says what to do."""


# -- the product table ----------------------------------------------------------------------

def _colour(attributes: Any) -> str:
    if not isinstance(attributes, dict):
        return ""
    return next((str(attributes[k]) for k in COLOUR_KEYS if attributes.get(k)), "")


def attribute_text(attributes: Any) -> str:
    """The searchable words of an ``attributes`` dict: its text values (list items too), without bare
    numbers or booleans ("4" cores, true) that a shopper never types on their own."""
    if not isinstance(attributes, dict):
        return ""
    words = []
    for value in attributes.values():
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v.strip() and not _is_number(v):
                words.append(v.strip())
    return " ".join(words)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


Indexed = tuple[str, str]  # what the index keeps of a product's attributes: (colour, attribute text)


def indexed(attributes: Any) -> Indexed:
    return _colour(attributes), attribute_text(attributes)


def attributes_of(*, catalog: Catalog) -> dict[str, Indexed]:
    """``{external id: (colour, attribute text)}`` for the catalog's products that have attributes (strings
    only: the attribute dicts of a large catalog would not fit in memory at once)."""
    rows = Product.objects.filter(catalog=catalog).exclude(attributes={})
    return {pid: indexed(a) for pid, a in rows.values_list("external_id", "attributes").iterator(chunk_size=5000)}


def index_frame(products: pd.DataFrame, attributes: dict[str, Indexed]) -> pd.DataFrame:
    """The engine's product table from a snapshot frame (``item_id, title, description, category, brand,
    price, in_stock``) and :func:`attributes_of`: ``id``, the searched texts (with ``attributes``, the
    text of the attribute values) and the columns business rules read (``category``, ``brand``, ``price``,
    ``in_stock``, ``colour``) — the same names as the recommendation bundle's products, so one rule fits both."""
    frame = pd.DataFrame({"id": products["item_id"].astype(str)})
    for col in ("title", "description", "brand", "category"):
        frame[col] = products[col].fillna("").astype(str) if col in products.columns else ""
    frame["price"] = pd.to_numeric(products["price"], errors="coerce") if "price" in products.columns else np.nan
    frame["in_stock"] = products["in_stock"].astype(bool) if "in_stock" in products.columns else True
    found = [attributes.get(pid, ("", "")) for pid in frame["id"]]
    frame["colour"] = [colour for colour, _ in found]
    frame["attributes"] = [text for _, text in found]
    frame["category_path"] = frame["category"]
    return frame[list(COLUMNS)]


def products_frame(*, catalog: Catalog, ids: list[str]) -> pd.DataFrame:
    """The engine's product table for the catalog's products ``ids``, read from the database."""
    rows = Product.objects.filter(catalog=catalog, external_id__in=ids).order_by("pk").values_list(
        "external_id", "title", "description", "category_path", "brand", "price", "in_stock", "attributes")
    raw = pd.DataFrame.from_records(list(rows), columns=["item_id", "title", "description", "category", "brand",
                                                         "price", "in_stock", "attributes"])
    return index_frame(raw, {pid: indexed(a) for pid, a in zip(raw["item_id"], raw["attributes"], strict=True)})


# -- encoders ----------------------------------------------------------------------------------

_ENCODERS: dict[str, Any] = {}
_ENCODER_LOCK = threading.Lock()


def encoder_ref(bundle: Path, text_model: str = "") -> str:
    """Which text encoder the index uses: the bundle's fine-tuned ``text`` encoder (a path relative to the
    bundle), the ``text`` signal's own model folder, or ``""`` for the bundled MiniLM."""
    if (bundle / TEXT_ENCODER_DIR / "encoder.json").exists():
        return str(TEXT_ENCODER_DIR)
    return text_model


def load_encoder(bundle: Path, ref: str) -> Any:
    """The encoder ``ref`` names (loaded once per process)."""
    path = str(bundle / ref) if ref and not Path(ref).is_absolute() else ref
    with _ENCODER_LOCK:
        if path not in _ENCODERS:
            from mlcore.text.encoder import TextEncoder

            _ENCODERS[path] = TextEncoder.load(path or None)
        return _ENCODERS[path]


# -- build (a training job) ------------------------------------------------------------------

def click_training_pairs(events: pd.DataFrame | None, searches: pd.DataFrame | None,
                         frame: pd.DataFrame) -> tuple[list[str], list[str], int]:
    """``(queries, product texts, pairs)`` to fine-tune on: each search followed by a click / add to cart /
    purchase of an indexed product (:func:`~mlcore.search.click_pairs.click_pairs`), repeated by its count
    (at most :data:`PAIR_REPEAT_MAX` times); ``pairs`` is the number of search → product pairs found."""
    if events is None or searches is None or searches.empty or events.empty:
        return [], [], 0
    actions = events.loc[events["type"] != "search", ["user_id", "item_id", "type", "timestamp"]].assign(query="")
    found = searches[["user_id", "timestamp", "query"]].assign(type="search", item_id=None)
    pairs = click_pairs(pd.concat([actions, found], ignore_index=True), window_minutes=CLICK_WINDOW_MINUTES)
    texts = dict(zip(frame["id"], field_texts(frame, INDEX_CONFIG.dense_fields), strict=True))
    pairs = pairs[pairs["item_id"].isin(texts.keys())]
    anchors, positives = [], []
    for query, item, count in pairs.itertuples(index=False):
        repeat = min(int(count), PAIR_REPEAT_MAX)
        anchors += [query] * repeat
        positives += [texts[item]] * repeat
    return anchors, positives, int(pairs["count"].sum())


class _IndexPhase(Callback):
    """Fine-tuning progress reported as the job's "search index" phase; cancelling still works."""

    def __init__(self, job: Callback) -> None:
        self.job = job

    def progress(self, *, phase: str, done: int, total: int, metrics: dict[str, float] | None = None) -> None:
        self.job.progress(phase="search index", done=done, total=total, metrics=metrics)

    def log(self, message: str) -> None:
        self.job.log(f"search index: {message}")

    def should_stop(self) -> bool:
        return self.job.should_stop()

    def check(self) -> None:
        self.job.check()


def _search_tuned(encoder: Any, anchors: list[str], positives: list[str],
                  callback: Callback | None) -> tuple[Any, dict[str, Any]]:
    """A copy of ``encoder`` fine-tuned on query → product text pairs (the shared one stays as it is)."""
    from mlcore.text.finetune import FinetuneConfig, finetune

    steps = max(int(settings.SEARCH_FINETUNE_STEPS), 1)
    tuned = copy.deepcopy(encoder)
    per_epoch = max(len(anchors) // FINETUNE["batch_size"], 1)  # full batches an epoch gives (as finetune counts)
    config = FinetuneConfig(**FINETUNE, max_steps=steps, epochs=-(-steps // per_epoch),
                            lora="lora" in getattr(encoder, "adaptation", {}))
    result = finetune(tuned, anchors, positives, config, _IndexPhase(callback) if callback else None)
    info = {"steps": result.steps, "seconds": round(result.seconds, 2), "device": result.device,
            "loss_first": round(result.losses[0], 4) if result.losses else None,
            "loss_last": round(result.losses[-1], 4) if result.losses else None}
    return tuned, info


def index_build(*, bundle: Path, products: pd.DataFrame, attributes: dict[str, Indexed], text_model: str = "",
                progress: Callable[[int, int], None] | None = None, events: pd.DataFrame | None = None,
                searches: pd.DataFrame | None = None, callback: Callback | None = None) -> Path:
    """Index ``products`` (a snapshot frame) into ``bundle/search`` atomically; returns that folder.

    With at least ``SEARCH_FINETUNE_MIN_PAIRS`` search → click/cart/purchase pairs in ``searches`` (the
    snapshot's search events) and ``events``, a copy of the encoder is first fine-tuned on them
    (``SEARCH_FINETUNE_STEPS`` steps) and saved in the index folder (``index.json`` ``encoder`` is then
    ``"index"`` and ``finetune`` records the pairs, steps and seconds).
    """
    if store.index_dir(bundle).exists():
        raise FileExistsError(f"{store.index_dir(bundle)} already holds an index; a version's index is built once")
    frame = index_frame(products, attributes)
    if progress:
        progress(0, len(frame))
    ref = encoder_ref(bundle, text_model)
    started = time.monotonic()
    encoder = load_encoder(bundle, ref)
    anchors, positives, pairs = click_training_pairs(events, searches, frame)
    tuning: dict[str, Any] = {"pairs": pairs, "min_pairs": int(settings.SEARCH_FINETUNE_MIN_PAIRS)}
    if pairs and pairs >= tuning["min_pairs"]:
        encoder, info = _search_tuned(encoder, anchors, positives, callback)
        tuning.update(info, base=ref, examples=len(anchors))
        if callback:
            callback.log(f"search index: encoder fine-tuned on {pairs} search → product pairs "
                         f"({info['steps']} steps, {info['seconds']} s)")
        if progress:
            progress(0, len(frame))
    elif pairs and callback:
        callback.log(f"search index: {pairs} search → product pairs, fewer than {tuning['min_pairs']}; "
                     "encoder not fine-tuned")
    engine = SearchEngine(INDEX_CONFIG, encoder).build(frame)
    tuned = tuning.get("steps", 0) > 0  # 0: too few pairs for one batch, the copy is unchanged
    meta = {"encoder": INDEX_ENCODER if tuned else ref, "products": len(frame),
            "seconds": round(time.monotonic() - started, 2), "finetune": tuning,
            "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    target = store.write_index(bundle, engine, meta, encoder=encoder if tuned else None)
    if progress:
        progress(len(frame), len(frame))
    return target


# -- the per-process cache -------------------------------------------------------------------

_CACHE: dict[tuple[int, str], LoadedIndex] = {}
_LOCK = threading.Lock()


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()


def index_folder(version: ModelVersion) -> Path:
    return store.index_dir(version.artifact_path)


def index_for(version: ModelVersion) -> LoadedIndex:
    """The loaded, up-to-date index of ``version``; :class:`SearchUnavailable` when it has none.

    Loads the files once per process and then replays new parts; never encodes products (that is the
    catch-up task's and the import hook's work, on a worker)."""
    key = (version.pk, version.artifact_path)
    with _LOCK:
        loaded = _CACHE.get(key)
        if loaded is None:
            folder = index_folder(version)
            if not store.has_index(folder):
                raise SearchUnavailable(_("Version %(n)s has no search index (it was trained before search "
                                          "existed, or its files are gone): train a new version.")
                                        % {"n": version.number})
            loaded = store.load_index(folder, lambda ref: load_encoder(Path(version.artifact_path), ref))
            for old in [k for k in _CACHE if k[0] == version.pk or k[0] not in _active_ids()]:
                _CACHE.pop(old, None)
            _CACHE[key] = loaded
            return loaded
    with loaded.lock:
        store.replay(loaded)
    return loaded


def index_is_loaded(version: ModelVersion) -> bool:
    """Whether this process already holds ``version``'s index (or the version has none to load)."""
    with _LOCK:
        if (version.pk, version.artifact_path) in _CACHE:
            return True
    return not store.has_index(index_folder(version))


def _active_ids() -> set[int]:
    return set(ModelVersion.objects.filter(state="active").values_list("pk", flat=True))


def active_index(catalog: Catalog) -> tuple[ModelVersion, LoadedIndex]:
    version = active_version(catalog=catalog)
    if version is None:
        raise SearchUnavailable(_("This catalog has no active model version yet, so there is no search index: "
                                  "train a version and promote it."))
    return version, index_for(version)


# -- incremental add (imports) ---------------------------------------------------------------

def index_add_new_products(*, catalog: Catalog) -> int:
    """Add the catalog's products missing from the active version's index; returns how many were added.

    0 when there is no active version or index (the next training job indexes everything).
    """
    try:
        _, loaded = active_index(catalog)
    except SearchUnavailable:
        return 0
    with loaded.lock:
        store.replay(loaded)
        return _add_missing(loaded, catalog)


def _add_missing(loaded: LoadedIndex, catalog: Catalog) -> int:
    """Encode and persist as a part the catalog's products the index lacks; call with ``loaded.lock`` held."""
    have = loaded.ids()
    missing = [pid for pid in Product.objects.filter(catalog=catalog).order_by("pk")
               .values_list("external_id", flat=True).iterator(chunk_size=20_000) if pid not in have]
    if not missing:
        return 0
    frame = products_frame(catalog=catalog, ids=missing)
    store.add_products(loaded, frame)
    log.info("search index of %s: added %d product(s)", catalog.slug, len(frame))
    return len(frame)


def index_catch_up_later(*, catalog_id: int) -> None:
    """After the current transaction commits, queue the catch-up task: a worker adds the products the
    active version's index lacks (imported while it trained). Call from a service that changes which
    version is active, or registers one."""
    transaction.on_commit(lambda: current_app.send_task(TASK_CATCH_UP, args=[catalog_id]))
