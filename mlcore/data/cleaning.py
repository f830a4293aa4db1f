"""Cleaning of raw event frames before they become a :class:`~mlcore.data.Dataset`.

Each step is a plain function from a frame with columns ``user_id, item_id,
timestamp`` (+ optional ``type, quantity``) to a cleaned frame; :func:`clean_events`
runs them in a fixed order and reports how many rows each step dropped.

>>> import pandas as pd
>>> raw = pd.DataFrame({"user_id": ["1", "1", None, "2"], "item_id": ["85123A", "POST", "22423", "22423"],
...                     "timestamp": pd.to_datetime(["2011-01-01"] * 4), "quantity": [2, 1, 1, 3]})
>>> events, report = clean_events(raw)
>>> events["item_id"].tolist(), report.non_product_codes, report.missing_users
(['85123A', '22423'], 1, 1)
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from mlcore.data.dataset import Dataset

# Non-product stock codes of UCI Online Retail-like exports: postage, discounts, manual
# adjustments, fees, charity and bad-debt lines. Matched case-insensitively after stripping.
ONLINE_RETAIL_CODES: tuple[str, ...] = (
    "POST", "D", "M", "DOT", "BANK CHARGES", "C2", "PADS", "AMAZONFEE", "CRUK", "S", "B",
)  # fmt: skip
_MISSING_IDS = frozenset({"", "nan", "none", "null", "<na>", "nat"})
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class CleaningConfig:
    """What :func:`clean_events` removes.

    - ``drop_missing_users``: rows whose user id is empty / NaN.
    - ``drop_returns``: rows of type ``return`` or with a negative quantity (cancellations).
    - ``cancel_matching_purchases``: a return also removes the same shopper's earlier purchases
      of that item, newest first, up to the returned quantity (a partly returned purchase keeps
      the rest). Only used with ``drop_returns``.
    - ``drop_zero_quantity``: rows with quantity 0 (adjustments).
    - ``non_product_codes``: item ids that are not products (case-insensitive exact match).
    - ``non_product_prefixes``: item-id prefixes that are not products (e.g. gift vouchers).
    - ``codes_without_digits``: also drop item ids with no digit in them: ``"auto"`` only when
      at least ``digit_share`` of the distinct item ids contain a digit (as in Online Retail,
      where ``POST`` or ``AMAZONFEE`` stand out), ``"always"`` or ``"never"``.
    - ``drop_duplicates``: exact duplicate rows (all columns equal).
    """

    drop_missing_users: bool = True
    drop_returns: bool = True
    cancel_matching_purchases: bool = True
    drop_zero_quantity: bool = True
    non_product_codes: tuple[str, ...] = ONLINE_RETAIL_CODES
    non_product_prefixes: tuple[str, ...] = ("gift_",)
    codes_without_digits: Literal["auto", "always", "never"] = "auto"
    digit_share: float = 0.9
    drop_duplicates: bool = True


@dataclass(frozen=True)
class CleaningReport:
    """Row counts: ``rows_in``, rows dropped by each step, ``rows_out``."""

    rows_in: int
    missing_users: int
    non_product_codes: int
    duplicates: int
    returns: int
    cancelled_purchases: int
    zero_quantity: int
    rows_out: int

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def drop_missing_users(events: pd.DataFrame) -> pd.DataFrame:
    """Rows whose ``user_id`` is NaN/None or a blank/'nan'-like string removed."""
    ids = events["user_id"]
    missing = ids.isna().to_numpy() | ids.astype(str).str.strip().str.lower().isin(_MISSING_IDS).to_numpy()
    return events.loc[~missing]


def non_product_mask(item_ids: pd.Series, config: CleaningConfig = CleaningConfig()) -> np.ndarray:
    """Boolean array, True where an item id is a non-product code under ``config``."""
    ids = item_ids.astype(str).str.strip()
    codes = {c.upper() for c in config.non_product_codes}
    mask = ids.str.upper().isin(codes).to_numpy().copy()
    for prefix in config.non_product_prefixes:
        mask |= ids.str.lower().str.startswith(prefix.lower()).to_numpy()
    rule = config.codes_without_digits
    if rule != "never":
        no_digit = ~ids.str.contains(_DIGIT).to_numpy()
        if rule == "always":
            mask |= no_digit
        else:
            distinct = pd.unique(ids)
            with_digit = sum(1 for d in distinct if _DIGIT.search(d)) / max(len(distinct), 1)
            if with_digit >= config.digit_share:
                mask |= no_digit
    return np.asarray(mask, dtype=bool)


def drop_non_products(events: pd.DataFrame, config: CleaningConfig = CleaningConfig()) -> pd.DataFrame:
    """Rows whose ``item_id`` is a non-product code removed (see :func:`non_product_mask`)."""
    return events.loc[~non_product_mask(events["item_id"], config)]


def return_mask(events: pd.DataFrame) -> np.ndarray:
    """True for returns: ``type == 'return'`` or a negative ``quantity``."""
    mask = np.zeros(len(events), dtype=bool)
    if "type" in events:
        mask |= (events["type"].astype(str) == "return").to_numpy()
    if "quantity" in events:
        mask |= (pd.to_numeric(events["quantity"], errors="coerce").fillna(0) < 0).to_numpy()
    return mask


def drop_returns(events: pd.DataFrame, cancel_purchases: bool = True) -> tuple[pd.DataFrame, int]:
    """Returns removed; with ``cancel_purchases`` their matching purchases too.

    A return of ``q`` units cancels the same shopper's purchases of the same item made at
    or before the return, newest first, until ``q`` units are used up; purchases reduced to
    zero are dropped, a partly cancelled one keeps its remaining quantity. Returns the frame
    and the number of purchase rows dropped.
    """
    is_return = return_mask(events)
    if not is_return.any():
        return events, 0
    if not cancel_purchases:
        return events.loc[~is_return], 0
    out = events.copy()
    has_quantity = "quantity" in out
    qty = (
        pd.to_numeric(out["quantity"], errors="coerce").fillna(1).to_numpy(dtype=np.int64)
        if has_quantity
        else np.ones(len(out), dtype=np.int64)
    )
    is_purchase = ~is_return & (
        (out["type"].astype(str) == "purchase").to_numpy() if "type" in out else np.ones(len(out), dtype=bool)
    )
    ts = pd.to_datetime(out["timestamp"]).to_numpy()
    keys = out["user_id"].astype(str) + "\x1f" + out["item_id"].astype(str)
    returned_keys = set(keys[is_return])
    touched = np.flatnonzero(keys.isin(returned_keys).to_numpy())
    remaining = qty.copy()
    # Few (shopper, item) pairs have returns, so a walk over them in time order is cheap.
    for rows in pd.Series(touched).groupby(keys.to_numpy()[touched]).groups.values():
        positions = touched[np.asarray(rows)]
        positions = positions[np.argsort(ts[positions], kind="stable")]
        stack: list[int] = []
        for pos in positions:
            if is_purchase[pos]:
                stack.append(pos)
            elif is_return[pos]:
                units = abs(int(qty[pos])) or 1
                while units > 0 and stack:
                    top = stack[-1]
                    used = min(units, int(remaining[top]))
                    remaining[top] -= used
                    units -= used
                    if remaining[top] <= 0:
                        stack.pop()
    cancelled = is_purchase & (remaining <= 0)
    if has_quantity:
        out["quantity"] = np.where(is_purchase, remaining, qty)
    return out.loc[~(is_return | cancelled)], int(cancelled.sum())


def clean_events(events: pd.DataFrame, config: CleaningConfig = CleaningConfig()) -> tuple[pd.DataFrame, CleaningReport]:
    """Run every enabled step in order; the frame keeps its columns and original index order.

    Order: missing users, non-product codes, exact duplicates, returns (with their purchases),
    zero quantities. Duplicates go before returns so a doubled export line cannot cancel twice.
    """
    rows_in = len(events)
    frame = events
    counts: dict[str, int] = {}

    def step(name: str, result: pd.DataFrame) -> pd.DataFrame:
        counts[name] = len(frame) - len(result)
        return result

    frame = step("missing_users", drop_missing_users(frame) if config.drop_missing_users else frame)
    frame = step("non_product_codes", drop_non_products(frame, config))
    frame = step("duplicates", frame.drop_duplicates() if config.drop_duplicates else frame)
    cancelled = 0
    if config.drop_returns:
        n_returns = int(return_mask(frame).sum())
        frame, cancelled = drop_returns(frame, cancel_purchases=config.cancel_matching_purchases)
        counts["returns"] = n_returns
    else:
        counts["returns"] = 0
    if config.drop_zero_quantity and "quantity" in frame:
        zero = (pd.to_numeric(frame["quantity"], errors="coerce").fillna(1) == 0).to_numpy()
        counts["zero_quantity"] = int(zero.sum())
        frame = frame.loc[~zero]
    else:
        counts["zero_quantity"] = 0
    report = CleaningReport(
        rows_in=rows_in,
        missing_users=counts["missing_users"],
        non_product_codes=counts["non_product_codes"],
        duplicates=counts["duplicates"],
        returns=counts["returns"],
        cancelled_purchases=cancelled,
        zero_quantity=counts["zero_quantity"],
        rows_out=len(frame),
    )
    return frame, report


def clean_dataset(data: Dataset, config: CleaningConfig = CleaningConfig()) -> tuple[Dataset, CleaningReport]:
    """A new Dataset over the cleaned events, keeping products and triples.

    The user map is rebuilt (users left without events disappear); the item map keeps every
    product, so cleaned-away items stay scorable by text and graph signals.
    """
    events, report = clean_events(data.events, config)
    return Dataset.from_frames(events, data.products, data.triples, event_weights=data.event_weights), report
