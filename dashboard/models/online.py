"""A catalog's online-state settings and progress: the trending half-life, the live signals' shares, and how
far the online state has applied the stored events (the events table is the source of truth)."""
from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from dashboard.models.catalog import Catalog


class OnlineState(models.Model):
    """One row per catalog (created on first use). ``applied_event_id``: every stored event with a lower or
    equal id is in the online state (a mirror of the store's own cursor, for the freshness panel);
    ``pending_since``: when a hook last failed to apply events (cleared when the state caught up)."""

    catalog = models.OneToOneField(Catalog, on_delete=models.CASCADE, related_name="online_state")
    trending_half_life_hours = models.FloatField(
        _("trending half-life (hours)"), default=6.0, validators=[MinValueValidator(0.01)],
        help_text=_("An event counts half as much for “trending now” after this many hours."))
    trending_share = models.FloatField(
        _("trending share"), default=0.0, validators=[MinValueValidator(0.0)],
        help_text=_("Weight of the live trending signal in recommendations, as a share of the fusion's weights "
                    "(0: off)."))
    co_occurrence_share = models.FloatField(
        _("live co-occurrence share"), default=0.3, validators=[MinValueValidator(0.0)],
        help_text=_("Weight of the items often seen with a shopper's latest items, as a share of the fusion's "
                    "weights (0: off)."))
    applied_event_id = models.BigIntegerField(default=0)
    events_applied = models.BigIntegerField(default=0)
    last_applied_at = models.DateTimeField(null=True, blank=True)
    lag_ms_p95 = models.FloatField(null=True, blank=True)  # stored → applied, over the latest applied batch
    pending_since = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("online state")
        verbose_name_plural = _("online states")

    def __str__(self) -> str:
        return f"online state of {self.catalog}"
