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

    # Events are an append-only fact table written in bulk: no database-level FK checks (they cost
    # ~60% of a 500k-row import); integrity comes from the importer's joins and Django's on_delete.
    # The single-column FK indexes are covered by the (fk, timestamp) indexes below.
    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="events", db_constraint=False,
                                db_index=False)
    type = models.CharField(_("type"), max_length=16, choices=EventType.choices)
    shopper = models.ForeignKey(
        Shopper, on_delete=models.CASCADE, null=True, blank=True, related_name="events", db_constraint=False,
        db_index=False,
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, null=True, blank=True, related_name="events", db_constraint=False,
        db_index=False,
    )
    query = models.CharField(_("search query"), max_length=500, blank=True)
    quantity = models.IntegerField(_("quantity"), default=1)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2, null=True, blank=True)
    timestamp = models.DateTimeField(_("time"))
    session_id = models.CharField(_("session id"), max_length=200, blank=True)
    event_id = models.CharField(_("event id"), max_length=200, null=True, blank=True)  # noqa: DJ001 - NULL = no id, exempt from the unique constraint
    request_id = models.CharField(_("request id"), max_length=64, blank=True)  # the served list it came from
    batch = models.ForeignKey(
        "dashboard.ImportBatch", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        db_constraint=False,
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
            models.Index(fields=["catalog", "request_id"], name="event_request_id",
                         condition=~models.Q(request_id="")),
        ]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return f"{self.type} {self.timestamp:%Y-%m-%d %H:%M}"
