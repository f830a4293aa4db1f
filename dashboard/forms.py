"""Forms for the dashboard's pages."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard.models import Catalog


class CatalogForm(forms.ModelForm):
    class Meta:
        model = Catalog
        fields = ["name", "slug", "description", "default_currency"]
        help_texts = {"slug": _("Short name used in addresses, e.g. uk-gifts")}
