"""Search settings: named ways to run the catalog's search index, compared side by side in the preview."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dashboard.models.catalog import Catalog
from dashboard.models.fusion import FusionConfig


class SearchMode(models.TextChoices):
    BM25 = "bm25", _("keywords only (BM25)")
    DENSE = "dense", _("meaning only (dense)")
    HYBRID = "hybrid", _("keywords + meaning")
    HYBRID_QU = "hybrid+qu", _("keywords + meaning + query understanding")


class SearchFusion(models.TextChoices):
    RRF = "rrf", _("reciprocal rank fusion")
    WEIGHTED = "weighted", _("weighted scores")


class SearchSettings(models.Model):
    """One named search configuration of a catalog.

    ``synonyms``: one line per term, ``term: synonym one, synonym two``. ``fusion_config``: whose
    business rules (filters, boosts, pins) apply to results; empty = the catalog's default config.
    ``profile_weight``: how much a shopper's profile re-ranks results (0 = not personalised).
    """

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="search_settings")
    name = models.CharField(_("name"), max_length=200)
    mode = models.CharField(_("mode"), max_length=16, choices=SearchMode.choices, default=SearchMode.HYBRID_QU)
    fusion = models.CharField(_("fusion"), max_length=16, choices=SearchFusion.choices,
                              default=SearchFusion.WEIGHTED)
    lexical_weight = models.FloatField(_("keyword weight"), default=1.0)
    dense_weight = models.FloatField(_("meaning weight"), default=0.5)
    profile_weight = models.FloatField(_("personalisation weight"), default=0.0)
    boost = models.FloatField(_("brand/colour boost"), default=1.2)
    synonyms = models.TextField(_("synonyms"), blank=True)
    fusion_config = models.ForeignKey(FusionConfig, on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+", verbose_name=_("business rules from"))
    is_default = models.BooleanField(_("default"), default=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["catalog", "-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["catalog", "name"], name="search_settings_unique_name"),
            models.UniqueConstraint(fields=["catalog"], condition=models.Q(is_default=True),
                                    name="search_settings_one_default_per_catalog"),
        ]
        verbose_name = _("search settings")
        verbose_name_plural = _("search settings")

    def __str__(self) -> str:
        return self.name
