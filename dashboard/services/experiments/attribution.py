"""What each shopper of an experiment saw and did, from the API's impression log.

Exposure: a unit (shopper, or a guest's session) is in the experiment from its first impression that names
one of the experiment's variants (intention to treat: a fallback list served to a variant still counts for
it). An event (click, add to cart, purchase) counts for a variant when

1. it carries the ``request_id`` of one of the experiment's impressions — whoever sent it; or
2. it carries no request id, and an impression of the same unit showed the event's product at most
   ``experiment.attribution_hours`` before it (the latest such list gets it).

Events carrying another list's request id count for none. Revenue is the purchase's ``value`` or, without
one, quantity × the product's price. Each shopper's pre-experiment activity (the :data:`PRE_DAYS` days before
the start) is the CUPED covariate.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import Count, F, Sum
from django.utils import timezone

from dashboard.models import Event, EventType, Experiment, Impression

PRE_DAYS = 28
ATTRIBUTED = (EventType.CLICK, EventType.ADD_TO_CART, EventType.PURCHASE)
CHUNK = 5_000
LIST_COLUMNS = ["request_id", "unit", "variant", "at", "day", "clicks", "carts", "purchases", "revenue", "clicked"]
UNIT_COLUMNS = ["unit", "variant", "first_day", "lists", "clicked_lists", "clicks", "carts", "purchases", "revenue",
                "converted", "pre_clicks", "pre_purchases", "pre_revenue"]


@dataclass(frozen=True)
class Exposures:
    """The experiment's impressions and attributed events.

    ``lists``: one row per served list — ``request_id, unit, variant, at, day, clicked, carted, purchases,
    revenue``. ``units``: one row per unit — ``unit, variant, first_day, lists, clicked_lists, clicks,
    carts, purchases, revenue, converted, pre_clicks, pre_purchases, pre_revenue``. Days count from the
    start's date (0 = the first day).
    """

    lists: pd.DataFrame
    units: pd.DataFrame
    start: dt.datetime
    end: dt.datetime


def _unit(shopper: str, session: str) -> str:
    return f"shopper:{shopper}" if shopper else (f"session:{session}" if session else "")


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(values), CHUNK):
        yield values[i:i + CHUNK]


def _impressions(experiment: Experiment, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    rows = (Impression.objects.filter(catalog_id=experiment.catalog_id, created_at__gte=start, created_at__lte=end,
                                      variant__startswith=f"{experiment.key}:")
            .values_list("request_id", "shopper_id", "session_id", "variant", "items", "created_at"))
    frame = pd.DataFrame(list(rows), columns=["request_id", "shopper", "session", "variant", "items", "at"])
    frame["request_id"] = frame["request_id"].astype(str)
    frame["unit"] = [_unit(a, b) for a, b in zip(frame["shopper"], frame["session"], strict=True)]
    frame["variant"] = frame["variant"].str.slice(len(experiment.key) + 1)
    return frame[frame["unit"] != ""].reset_index(drop=True)


def _events(experiment: Experiment, lists: pd.DataFrame, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    base = (Event.objects.filter(catalog_id=experiment.catalog_id, type__in=ATTRIBUTED, timestamp__gte=start,
                                 timestamp__lte=end + dt.timedelta(hours=experiment.attribution_hours))
            .values_list("type", "shopper__external_id", "session_id", "product__external_id", "timestamp",
                         "request_id", "value", "quantity", "product__price"))
    found: list[Any] = []
    for ids in _chunks(sorted(set(lists["request_id"]))):
        found += base.filter(request_id__in=ids)
    shoppers = sorted({u[8:] for u in lists["unit"] if u.startswith("shopper:")})
    sessions = sorted({u[8:] for u in lists["unit"] if u.startswith("session:")})
    for ids in _chunks(shoppers):
        found += base.filter(request_id="", shopper__external_id__in=ids)
    for ids in _chunks(sessions):
        found += base.filter(request_id="", shopper__isnull=True, session_id__in=ids)
    frame = pd.DataFrame(found, columns=["type", "shopper", "session", "item", "at", "request_id", "value",
                                         "quantity", "price"])
    value = pd.to_numeric(frame["value"], errors="coerce")
    fallback = pd.to_numeric(frame["price"], errors="coerce").fillna(0.0) * frame["quantity"].astype(float)
    frame["revenue"] = np.where(frame["type"] == EventType.PURCHASE, value.fillna(fallback), 0.0)
    frame["unit"] = [_unit(a or "", b or "") for a, b in zip(frame["shopper"], frame["session"], strict=True)]
    return frame


def _by_window(experiment: Experiment, lists: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    """The request id each event without one is attributed to (NaN: none within the window)."""
    todo = events[events["request_id"] == ""]
    if todo.empty:
        return pd.Series(dtype=object)
    shown = lists[["request_id", "unit", "items", "at"]].explode("items").rename(columns={"items": "item"})
    pairs = todo.reset_index().merge(shown, on=["unit", "item"], suffixes=("", "_list"))
    window = pd.Timedelta(hours=experiment.attribution_hours)
    pairs = pairs[(pairs["at_list"] <= pairs["at"]) & (pairs["at"] - pairs["at_list"] <= window)]
    latest = pairs.sort_values("at_list").groupby("index").tail(1)
    return latest.set_index("index")["request_id_list"]


def _pre_activity(experiment: Experiment, units: pd.Series, start: dt.datetime) -> pd.DataFrame:
    shoppers = sorted({u[8:] for u in units if u.startswith("shopper:")})
    rows: list[Any] = []
    since = start - dt.timedelta(days=PRE_DAYS)
    for ids in _chunks(shoppers):
        rows += (Event.objects.filter(catalog_id=experiment.catalog_id, timestamp__gte=since, timestamp__lt=start,
                                      shopper__external_id__in=ids, type__in=(EventType.CLICK, EventType.PURCHASE))
                 .values("shopper__external_id", "type")
                 .annotate(n=Count("id"), revenue=Sum(F("quantity") * F("product__price"))))
    frame = pd.DataFrame(rows, columns=["shopper__external_id", "type", "n", "revenue"])
    frame["unit"] = "shopper:" + frame["shopper__external_id"].astype(str)
    clicks = frame[frame["type"] == EventType.CLICK].set_index("unit")["n"]
    bought = frame[frame["type"] == EventType.PURCHASE].set_index("unit")
    return pd.DataFrame({"pre_clicks": clicks, "pre_purchases": bought["n"],
                         "pre_revenue": pd.to_numeric(bought["revenue"], errors="coerce")}).fillna(0.0)


def exposures(*, experiment: Experiment, now: dt.datetime | None = None) -> Exposures:
    """The experiment's lists and units so far (see the module doc)."""
    start = experiment.started_at or experiment.created_at
    end = experiment.stopped_at or now or timezone.now()
    if experiment.ends_at is not None:
        end = min(end, experiment.ends_at)
    lists = _impressions(experiment, start, end)
    if lists.empty:
        return Exposures(pd.DataFrame(columns=[*LIST_COLUMNS, "items"]), pd.DataFrame(columns=UNIT_COLUMNS),
                         start, end)
    events = _events(experiment, lists, start, end)
    attributed = events["request_id"].where(events["request_id"] != "", np.nan)
    if not events.empty:
        attributed = attributed.fillna(_by_window(experiment, lists, events))
    events = events.assign(list_id=attributed).dropna(subset=["list_id"])
    events = events[events["list_id"].isin(set(lists["request_id"]))]
    per_list = events.groupby("list_id").agg(
        clicks=("type", lambda s: int((s == EventType.CLICK).sum())),
        carts=("type", lambda s: int((s == EventType.ADD_TO_CART).sum())),
        purchases=("type", lambda s: int((s == EventType.PURCHASE).sum())), revenue=("revenue", "sum"))
    lists = lists.drop(columns=["shopper", "session"]).join(per_list, on="request_id")
    for col in ("clicks", "carts", "purchases", "revenue"):
        lists[col] = lists[col].fillna(0)
    lists["clicked"] = (lists["clicks"] > 0).astype(int)
    day0 = pd.Timestamp(start).tz_convert("UTC").normalize()  # days in UTC
    lists["day"] = ((pd.to_datetime(lists["at"], utc=True) - day0) // pd.Timedelta(days=1)).astype(int)
    units = lists.groupby("unit").agg(
        variant=("variant", "first"), first_day=("day", "min"), lists=("request_id", "count"),
        clicked_lists=("clicked", "sum"), clicks=("clicks", "sum"), carts=("carts", "sum"),
        purchases=("purchases", "sum"), revenue=("revenue", "sum")).reset_index()
    units["converted"] = (units["purchases"] > 0).astype(int)
    pre = _pre_activity(experiment, units["unit"], start)
    units = units.join(pre, on="unit")
    for col in ("pre_clicks", "pre_purchases", "pre_revenue"):
        units[col] = units[col].fillna(0.0) if col in units else 0.0
    return Exposures(lists=lists, units=units, start=start, end=end)
