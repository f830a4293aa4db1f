"""Fusion configs: how a catalog's signals are weighted, normalised, diversified and ruled, with history."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dashboard.models.catalog import Catalog


class FusionMode(models.TextChoices):
    WEIGHTED = "weighted", _("weighted sum of the signals")
    LEARNED = "learned", _("learned ranker (falls back to the weights without one)")


class Fallback(models.TextChoices):
    POPULAR = "popular", _("most popular items")
    NONE = "none", _("no recommendations")


class FusionConfig(models.Model):
    """One named fusion of a catalog.

    ``mode``: ``weighted`` (the weighted sum) or ``learned`` (the active version's learned ranker, which
    the weights still back up); ``weights``: ``{signal: weight}``; ``rules``: a list of mlcore rule dicts
    (``{"kind": "pin", "item_id": "A1", "position": 1}``); ``diversity``: the MMR
    lambda in [0, 1] (1 = no diversification, null = off); ``pool_size``: candidates
    taken from the fused ranking before rules.
    """

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="fusion_configs")
    name = models.CharField(_("name"), max_length=200)
    weights = models.JSONField(_("weights"), default=dict)
    normalization = models.CharField(_("normalisation"), max_length=16, default="rank")
    mode = models.CharField(_("fusion mode"), max_length=16, choices=FusionMode.choices, default=FusionMode.WEIGHTED)
    diversity = models.FloatField(_("diversity (MMR lambda)"), null=True, blank=True)
    pool_size = models.PositiveIntegerField(_("candidate pool size"), default=200)
    fallback = models.CharField(_("fallback for new shoppers"), max_length=16, choices=Fallback.choices,
                                default=Fallback.POPULAR)
    rules = models.JSONField(_("rules"), default=list, blank=True)
    is_default = models.BooleanField(_("default"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["catalog", "name"]
        constraints = [
            models.UniqueConstraint(fields=["catalog", "name"], name="fusion_unique_name"),
            models.UniqueConstraint(fields=["catalog"], condition=models.Q(is_default=True),
                                    name="fusion_one_default_per_catalog"),
        ]
        verbose_name = _("fusion config")
        verbose_name_plural = _("fusion configs")

    def __str__(self) -> str:
        return self.name


class FusionConfigRevision(models.Model):
    """One saved change of a config: who, when, and ``changes`` = ``{field: [old, new]}``."""

    config = models.ForeignKey(FusionConfig, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("revision"))
    changes = models.JSONField(_("changes"), default=dict)
    snapshot = models.JSONField(_("settings after the change"), default=dict)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                           related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["config", "-number"]
        constraints = [models.UniqueConstraint(fields=["config", "number"], name="fusion_revision_unique_number")]
        verbose_name = _("fusion config revision")
        verbose_name_plural = _("fusion config revisions")

    def __str__(self) -> str:
        return f"{self.config} r{self.number}"
