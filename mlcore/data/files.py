"""Event and product files read and checked as an import checks them, for ``python -m mlcore`` and notebooks.

The same reader (:mod:`mlcore.data.readers`: CSV, JSON Lines, Parquet, gzipped or not) and the same
rules (:mod:`mlcore.data.validate`: column names, ISO / Unix seconds or milliseconds / the documented
date formats read as UTC, event types, quantities, row-numbered errors) as the dashboard's importer.
Unlike an import, which skips bad rows and reports them, a file with any bad row is refused: the
:class:`InputError` names the first rows and their fix.

Events come back as ``user_id, item_id, timestamp, type, quantity`` (plus ``session, query`` when the
file has them); events without a product (searches) are left out, as in a training snapshot.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from mlcore.data.events import CLI_HINT, DEFAULT_EVENT_WEIGHTS
from mlcore.data.readers import ROW, iter_chunks
from mlcore.data.validate import RowError, suggest_mapping, validate_chunk

EVENT_NAMES = {"shopper": "user_id", "product": "item_id"}  # importer field → Dataset column
PRODUCT_NAMES = {"id": "item_id"}
_EVENT_KEEP = ("user_id", "item_id", "timestamp", "type", "quantity", "session", "query")
SHOWN_ERRORS = 3


class InputError(ValueError):
    """A file that cannot be used as it is; the message names the file, rows and fix."""


def _refuse(path: str | Path, errors: list[RowError]) -> InputError:
    shown = "; ".join(e.message for e in errors[:SHOWN_ERRORS])
    more = f" (and {len(errors) - SHOWN_ERRORS} more bad rows)" if len(errors) > SHOWN_ERRORS else ""
    return InputError(f"{path}: {shown}{more}")


def _mapping(path: str | Path, columns: list[str], kind: str, needs: Mapping[str, str]) -> dict[str, str]:
    mapping = suggest_mapping(columns, kind)
    missing = [column for field, column in needs.items() if field not in mapping.values()]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(columns)}")
    return mapping


def read_events(path: str | Path, *, event_weights: Mapping[str, float] = DEFAULT_EVENT_WEIGHTS,
                type_hint: str = CLI_HINT) -> pd.DataFrame:
    """The events of ``path`` (see the module docstring); every type must have a weight in ``event_weights``.

    An unknown type is an :class:`InputError` that names its row and ``type_hint TYPE=1`` as the fix.
    """
    frames: list[pd.DataFrame] = []
    errors: list[RowError] = []
    mapping: dict[str, str] | None = None
    for chunk in iter_chunks(path):
        if mapping is None:
            columns = [c for c in chunk.columns if c != ROW]
            mapping = _mapping(path, columns, "events",
                               {"shopper": "user_id", "product": "item_id", "timestamp": "timestamp"})
        rows, bad = validate_chunk(chunk, kind="events", mapping=mapping, event_types=list(event_weights),
                                   type_hint=type_hint)
        errors += bad
        if not errors:
            frames.append(rows)
    if errors:
        raise _refuse(path, errors)
    events = pd.concat(frames, ignore_index=True).rename(columns=EVENT_NAMES)
    events = events[events["item_id"] != ""]
    return events[[c for c in _EVENT_KEEP if c in events.columns]].reset_index(drop=True)


def read_products(path: str | Path) -> pd.DataFrame:
    """The products of ``path``: ``item_id, title`` and the other known fields typed (price a number,
    in_stock a bool), every other column kept as text (attributes the graph and rules read)."""
    frames: list[pd.DataFrame] = []
    errors: list[RowError] = []
    mapping: dict[str, str] | None = None
    for chunk in iter_chunks(path):
        if mapping is None:
            columns = [c for c in chunk.columns if c != ROW]
            mapping = _mapping(path, columns, "products", {"id": "item_id", "title": "title"})
        rows, bad = validate_chunk(chunk, kind="products", mapping=mapping)
        errors += bad
        if not errors:
            extra = chunk[[c for c in chunk.columns if c not in mapping and c not in rows.columns]]
            frames.append(rows.join(extra.loc[rows.index]))
    if errors:
        raise _refuse(path, errors)
    products = pd.concat(frames, ignore_index=True).rename(columns=PRODUCT_NAMES)
    return products.drop(columns=[ROW]).reset_index(drop=True)


__all__ = ["InputError", "read_events", "read_products"]
