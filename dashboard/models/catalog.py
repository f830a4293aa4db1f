"""Catalogs, their products and their shoppers."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Catalog(models.Model):
    """One storefront's product range; an install may hold several."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    default_currency = models.CharField(_("default currency"), max_length=3, default="GBP")
    cors_origins = models.JSONField(
        _("storefront origins"), default=list, blank=True,
        help_text=_("Web origins (e.g. https://shop.example.com) whose pages may call the API from the browser."))
    event_weights = models.JSONField(
        _("event weights"), default=dict, blank=True,
        help_text=_("How much each event type counts when training, over the engine's defaults "
                    "(``{type: weight}``; only the types changed are stored)."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("catalog")
        verbose_name_plural = _("catalogs")

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """A product, identified by the storefront's own id within its catalog."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="products")
    external_id = models.CharField(_("product id"), max_length=200)
    title = models.CharField(_("title"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    category_path = models.CharField(
        _("category path"), max_length=500, blank=True, help_text=_("Levels separated by ' > '")
    )
    brand = models.CharField(_("brand"), max_length=200, blank=True)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    image_url = models.URLField(_("image URL"), max_length=1000, blank=True)
    # The worker's thumbnail of ``image_url`` (a path under MEDIA_ROOT), the URL it came from (fetched again
    # when the URL changes) and, when fetching failed, why.
    image_file = models.CharField(_("image thumbnail"), max_length=300, blank=True)
    image_source = models.URLField(_("image fetched from"), max_length=1000, blank=True)
    image_error = models.CharField(_("image problem"), max_length=300, blank=True)
    in_stock = models.BooleanField(_("in stock"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["catalog", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["catalog", "external_id"], name="product_unique_external_id")
        ]
        indexes = [models.Index(fields=["catalog", "category_path"])]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.external_id} {self.title}"


class Shopper(models.Model):
    """A storefront user, known by the storefront's own id within a catalog."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="shoppers")
    external_id = models.CharField(_("shopper id"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["catalog", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["catalog", "external_id"], name="shopper_unique_external_id")
        ]
        verbose_name = _("shopper")
        verbose_name_plural = _("shoppers")

    def __str__(self) -> str:
        return self.external_id
