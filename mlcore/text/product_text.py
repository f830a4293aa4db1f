"""Product text: the string the encoder reads for each catalog row."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from mlcore.data import MEDIA_COLUMNS

CORE_COLUMNS = ("item_id", "title", "description", "category", "brand")
ATTR_PREFIX = re.compile(r"^attr_(?:[tn]_)?")
FIELDS = ("title", "brand", "category", "description", "attributes")


@dataclass(frozen=True)
class ProductTextConfig:
    """Which fields make a product's text, in order, and how long each may be.

    ``fields`` is a comma-separated subset of ``title, brand, category,
    description, attributes``; ``attributes`` are the non-core columns written
    as ``name: value``. The encoder truncates the whole text at its token limit,
    so the order is also a priority.
    """

    fields: str = "title,brand,category,description,attributes"
    max_description_chars: int = 300
    max_attributes: int = 8

    def __post_init__(self) -> None:
        unknown = [f for f in self.field_list if f not in FIELDS]
        if unknown:
            raise ValueError(f"unknown product text field(s) {unknown}; choose from {', '.join(FIELDS)}")

    @property
    def field_list(self) -> list[str]:
        return [f.strip() for f in self.fields.split(",") if f.strip()]


def product_texts(products: pd.DataFrame, config: ProductTextConfig = ProductTextConfig()) -> list[str]:
    """One text per row of ``products`` (same order), e.g. ``"Red mug. Acme. Home > Kitchen. ..."``."""
    attributes = [c for c in products.columns if c not in CORE_COLUMNS and c not in MEDIA_COLUMNS]
    columns = {c: _clean(products[c]) if c in products else None for c in ("title", "brand", "category", "description")}
    attr_parts = _attribute_parts(products, attributes, config.max_attributes)
    texts: list[str] = []
    for row in range(len(products)):
        parts: list[str] = []
        for field in config.field_list:
            if field == "attributes":
                if attr_parts[row]:
                    parts.append("; ".join(attr_parts[row]))
                continue
            values = columns.get(field)
            value = values[row] if values is not None else ""
            if field == "description":
                value = value[: config.max_description_chars]
            if value:
                parts.append(value)
        texts.append(". ".join(parts))
    return texts


def _clean(series: pd.Series) -> Sequence[str]:
    return series.fillna("").astype(str).str.strip().tolist()


def _attribute_parts(products: pd.DataFrame, columns: Sequence[str], limit: int) -> list[list[str]]:
    """Per row, up to ``limit`` ``"name: value"`` strings (sparse columns are read only where set)."""
    parts: list[list[str]] = [[] for _ in range(len(products))]
    for column in columns:
        values = products[column].reset_index(drop=True).dropna().astype(str).str.strip()
        values = values[(values != "") & ~values.str.lower().isin(["nan", "none"])]
        label = ATTR_PREFIX.sub("", str(column)).replace("_", " ")
        for row, value in zip(values.index.tolist(), values.tolist(), strict=True):
            if len(parts[row]) < limit:
                parts[row].append(f"{label}: {value}")
    return parts
