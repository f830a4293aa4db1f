"""Storefront access: API tokens, and the log of every list the API served (impressions)."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard.models.catalog import Catalog


class Scope(models.TextChoices):
    RECOMMENDATIONS_READ = "recommendations:read", _("read recommendations and related items")
    SEARCH_READ = "search:read", _("search")
    EVENTS_WRITE = "events:write", _("send events")
    CATALOG_WRITE = "catalog:write", _("change products")


PUBLIC_SCOPES = (Scope.RECOMMENDATIONS_READ, Scope.SEARCH_READ)


class TokenKind(models.TextChoices):
    SECRET = "secret", _("secret (server to server)")
    PUBLIC = "public", _("public (browser storefront, read only)")


class ApiToken(models.Model):
    """A machine's key to the API: scopes × catalogs. Only a hash of the key is stored.

    The key is ``<prefix>.<secret>``; ``prefix`` finds the row, ``key_hash`` (SHA-256 of the whole
    key) checks it. Public tokens hold read scopes only and may be embedded in a web page.
    """

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=TokenKind.choices, default=TokenKind.SECRET)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    catalogs = models.ManyToManyField(Catalog, related_name="api_tokens", verbose_name=_("catalogs"))
    throttle_per_minute = models.PositiveIntegerField(_("requests per minute"), null=True, blank=True,
                                                      help_text=_("Empty: the site's default."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())


class Impression(models.Model):
    """One list the API served: which items, in which order, to whom, by which model and config.

    Written in batches off the request path (see ``dashboard.services.impressions``). Events that
    carry the ``request_id`` attribute to it.
    """

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="+", db_constraint=False,
                                db_index=False)
    request_id = models.UUIDField(_("request id"), default=uuid.uuid4, unique=True)
    surface = models.CharField(_("surface"), max_length=40)
    shopper_id = models.CharField(_("shopper id"), max_length=200, blank=True)
    session_id = models.CharField(_("session id"), max_length=200, blank=True)
    items = models.JSONField(_("items"), default=list)  # product external ids, position 1 first
    model_version = models.PositiveIntegerField(_("model version"), null=True, blank=True)
    fusion_config = models.CharField(_("fusion config"), max_length=200, blank=True)
    variant = models.CharField(_("variant"), max_length=200, blank=True)
    fallback = models.CharField(_("fallback"), max_length=40, blank=True)
    token = models.ForeignKey(ApiToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              db_constraint=False)
    created_at = models.DateTimeField(_("served at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["catalog", "created_at"]),
            models.Index(fields=["catalog", "shopper_id", "created_at"]),
        ]
        verbose_name = _("impression")
        verbose_name_plural = _("impressions")

    def __str__(self) -> str:
        return f"{self.surface} {self.request_id}"
