"""Behaviour events: what shoppers did with products."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from dashboard.models.catalog import Catalog, Product, Shopper


class EventType(models.TextChoices):
    VIEW = "view", _("view")
    CLICK = "click", _("click")
    ADD_TO_CART = "add_to_cart", _("add to cart")
    PURCHASE = "purchase", _("purchase")
    SEARCH = "search", _("search")
    RETURN = "return", _("return")  # a cancelled or returned purchase (negative quantity)


class Event(models.Model):
    """One event. ``event_id`` (when the storefront sends one) makes ingestion idempotent."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(_("type"), max_length=16, choices=EventType.choices)
    shopper = models.ForeignKey(
        Shopper, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    query = models.CharField(_("search query"), max_length=500, blank=True)
    quantity = models.IntegerField(_("quantity"), default=1)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2, null=True, blank=True)
    timestamp = models.DateTimeField(_("time"))
    session_id = models.CharField(_("session id"), max_length=200, blank=True)
    event_id = models.CharField(_("event id"), max_length=200, null=True, blank=True)  # noqa: DJ001 - NULL = no id, exempt from the unique constraint
    batch = models.ForeignKey(
        "dashboard.ImportBatch", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-timestamp"]
        constraints = [
            models.UniqueConstraint(
                fields=["catalog", "event_id"],
                condition=models.Q(event_id__isnull=False),
                name="event_unique_event_id",
            )
        ]
        indexes = [
            models.Index(fields=["catalog", "timestamp"]),
            models.Index(fields=["shopper", "timestamp"]),
            models.Index(fields=["product", "timestamp"]),
        ]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return f"{self.type} {self.timestamp:%Y-%m-%d %H:%M}"
