"""The freshness panel's figures for one catalog: how fast events arrive and how soon they take effect."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from dashboard.models import Catalog, Event, ModelVersion, OnlineState, Product
from dashboard.services import online_state
from dashboard.services.online_state_store import StoreDown
from dashboard.services.trending import half_life_set, trending

BACKLOG_CAP = 100_000  # the unapplied events counted at most (a larger backlog shows as "more than")
WINDOWS_MIN = (1, 5, 60)


@dataclass(frozen=True)
class Freshness:
    """``per_minute``: ``{window minutes: events per minute}`` (by event time); ``lag_ms_p95``: commit → applied,
    this process's latest batches (else the last one recorded); ``backlog``: stored events the state lacks;
    ``trending``: ``[(product id, title, score now)]``."""

    state: OnlineState
    store: str
    store_ok: bool
    per_minute: dict[int, float]
    lag_ms_p95: float | None
    backlog: int
    last_training: dt.datetime | None
    last_promotion: dt.datetime | None
    trending: list[tuple[str, str, float]]

    @property
    def backlog_capped(self) -> bool:
        return self.backlog >= BACKLOG_CAP


def freshness(catalog: Catalog, *, category: str = "", n: int = 10) -> Freshness:
    """The panel's figures (one count query per window, one for the backlog, one store read each)."""
    state = online_state.settings_of(catalog, fresh=True)
    now = timezone.now()
    per_minute = {m: Event.objects.filter(catalog=catalog, timestamp__gte=now - dt.timedelta(minutes=m),
                                          timestamp__lte=now).count() / m for m in WINDOWS_MIN}
    backlog = Event.objects.filter(catalog=catalog, id__gt=state.applied_event_id)[:BACKLOG_CAP].count()
    st = online_state.store()
    try:
        st.ping()
        ok = True
    except StoreDown:
        ok = False
    top = trending(catalog, n=n, category=category) if ok else []
    titles = dict(Product.objects.filter(catalog=catalog, external_id__in=[i for i, _s in top])
                  .values_list("external_id", "title"))
    versions = ModelVersion.objects.filter(catalog=catalog)
    latest = versions.order_by("-created_at").values_list("created_at", flat=True).first()
    promoted = versions.exclude(promoted_at=None).order_by("-promoted_at").values_list("promoted_at", flat=True).first()
    lag = online_state.lag_p95_ms(catalog.pk)
    return Freshness(state=state, store=st.name, store_ok=ok, per_minute=per_minute,
                     lag_ms_p95=lag if lag is not None else state.lag_ms_p95, backlog=backlog, last_training=latest,
                     last_promotion=promoted, trending=[(i, titles.get(i, i), s) for i, s in top])


def live_settings_save(catalog: Catalog, data: dict[str, Any]) -> OnlineState:
    """Save the live signals' shares (validated numbers >= 0); a new half-life rebuilds the state
    (:func:`dashboard.services.trending.half_life_set`)."""
    row = online_state.settings_of(catalog, fresh=True)
    row.trending_share = float(data["trending_share"])
    row.co_occurrence_share = float(data["co_occurrence_share"])
    row.save(update_fields=["trending_share", "co_occurrence_share"])
    online_state.settings_forget()
    if float(data["trending_half_life_hours"]) != row.trending_half_life_hours:
        row = half_life_set(catalog, data["trending_half_life_hours"])
    return row
