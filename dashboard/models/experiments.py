"""A/B experiments: variants of what a surface serves, split by a sticky hash of the shopper, and their audit."""
from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from dashboard.models.catalog import Catalog
from dashboard.models.fusion import FusionConfig
from dashboard.models.search import SearchSettings
from dashboard.models.training import ModelVersion


class ExperimentSurface(models.TextChoices):
    RECOMMENDATIONS = "recommendations", _("recommendations")
    SEARCH = "search", _("search")
    SIMILAR = "similar", _("similar items")
    COMPLEMENTARY = "complementary", _("complementary items")


class ExperimentState(models.TextChoices):
    DRAFT = "draft", _("draft")
    RUNNING = "running", _("running")
    STOPPED = "stopped", _("stopped")
    SHIPPED = "shipped", _("shipped")


class ExperimentMetric(models.TextChoices):
    CTR = "ctr", _("click-through rate")
    CONVERSION = "conversion", _("conversion rate")
    REVENUE = "revenue", _("revenue per shopper")


def new_salt() -> str:
    return secrets.token_hex(8)


class Experiment(models.Model):
    """One A/B test on one surface of a catalog.

    Shoppers (or guests' sessions) are split by ``hash(salt, id)`` into the variants' shares (percent) and
    a ``holdout_percent`` that gets the catalog's defaults and is not analysed. ``mde``: the smallest
    relative change of the primary metric worth detecting (0.05 = 5 %); ``baseline``: the primary metric's
    expected control value; ``sample_size``: shoppers per variant from the power calculation at creation.
    ``guardrails``: metrics that must not fall by more than ``guardrail_tolerance`` (relative).
    ``attribution_hours``: an event without a request id counts for a list shown to that shopper this long
    before it.
    """

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="experiments")
    name = models.CharField(_("name"), max_length=200)
    key = models.SlugField(_("key"), max_length=60,
                           help_text=_("Names the experiment in the API's variant field (key:variant)."))
    surface = models.CharField(_("surface"), max_length=20, choices=ExperimentSurface.choices,
                               default=ExperimentSurface.RECOMMENDATIONS)
    state = models.CharField(_("state"), max_length=10, choices=ExperimentState.choices,
                             default=ExperimentState.DRAFT)
    salt = models.CharField(max_length=32, default=new_salt, editable=False)
    holdout_percent = models.FloatField(_("hold-out (%)"), default=0.0,
                                        validators=[MinValueValidator(0.0), MaxValueValidator(99.0)])
    primary_metric = models.CharField(_("primary metric"), max_length=12, choices=ExperimentMetric.choices,
                                      default=ExperimentMetric.CTR)
    guardrails = models.JSONField(_("guardrail metrics"), default=list, blank=True)
    guardrail_tolerance = models.FloatField(_("guardrail tolerance"), default=0.02)
    mde = models.FloatField(_("minimum detectable effect"), default=0.05)
    baseline = models.FloatField(_("expected control value"), default=0.05)
    alpha = models.FloatField(_("significance level"), default=0.05)
    power = models.FloatField(_("power"), default=0.8)
    sample_size = models.PositiveIntegerField(_("shoppers per variant"), default=0)
    attribution_hours = models.PositiveIntegerField(_("attribution window (hours)"), default=24)
    starts_at = models.DateTimeField(_("planned start"), null=True, blank=True)
    ends_at = models.DateTimeField(_("planned end"), null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    shipped_variant = models.ForeignKey("dashboard.Variant", on_delete=models.SET_NULL, null=True, blank=True,
                                        related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["catalog", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["catalog", "key"], name="experiment_unique_key"),
            models.UniqueConstraint(fields=["catalog", "surface"], condition=models.Q(state="running"),
                                    name="experiment_one_running_per_surface"),
        ]
        verbose_name = _("experiment")
        verbose_name_plural = _("experiments")

    def __str__(self) -> str:
        return f"{self.name} ({self.state})"


class Variant(models.Model):
    """One arm of an experiment: what its shoppers are served, and its share of the traffic (percent).

    Recommendations use ``fusion_config`` and/or ``model_version`` (empty: the catalog's default config or
    active version); similar/complementary items use ``model_version``; search uses ``search_settings``.
    """

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(_("name"), max_length=40)
    is_control = models.BooleanField(_("control"), default=False)
    allocation = models.FloatField(_("traffic (%)"), validators=[MinValueValidator(0.0), MaxValueValidator(100.0)])
    fusion_config = models.ForeignKey(FusionConfig, on_delete=models.RESTRICT, null=True, blank=True, related_name="+",
                                      verbose_name=_("fusion config"))
    model_version = models.ForeignKey(ModelVersion, on_delete=models.RESTRICT, null=True, blank=True, related_name="+",
                                      verbose_name=_("model version"))
    search_settings = models.ForeignKey(SearchSettings, on_delete=models.RESTRICT, null=True, blank=True,
                                        related_name="+", verbose_name=_("search settings"))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["experiment", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["experiment", "name"], name="variant_unique_name")]
        verbose_name = _("variant")
        verbose_name_plural = _("variants")

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """What the API's ``variant`` field says: ``<experiment key>:<variant name>``."""
        return f"{self.experiment.key}:{self.name}"
