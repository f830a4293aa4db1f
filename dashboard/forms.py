"""Forms for the dashboard's pages."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard.models import Catalog, EventType


class CatalogForm(forms.ModelForm):
    class Meta:
        model = Catalog
        fields = ["name", "slug", "description", "default_currency"]
        help_texts = {"slug": _("Short name used in addresses, e.g. uk-gifts")}


class ProductFilterForm(forms.Form):
    """The catalog browser's filters (GET). ``category`` choices come from the catalog itself."""

    q = forms.CharField(label=_("Search titles"), required=False, max_length=200)
    category = forms.ChoiceField(label=_("Category"), required=False)
    in_stock = forms.ChoiceField(
        label=_("Stock"),
        required=False,
        choices=[("", _("Any")), ("yes", _("In stock")), ("no", _("Out of stock"))],
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("title", _("Title A–Z")),
            ("-title", _("Title Z–A")),
            ("price", _("Price, low to high")),
            ("-price", _("Price, high to low")),
            ("id", _("Product id")),
            ("-events", _("Most events")),
        ],
    )

    def __init__(self, *args: object, categories: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["category"].choices = [("", _("All categories"))] + [(c, c) for c in categories]  # type: ignore[attr-defined]


class ShopperFilterForm(forms.Form):
    q = forms.CharField(label=_("Shopper id"), required=False, max_length=200)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[("id", _("Shopper id")), ("-events", _("Most events")), ("-last_seen", _("Recently active"))],
    )


class EventFilterForm(forms.Form):
    type = forms.ChoiceField(label=_("Type"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"), required=False, choices=[("-time", _("Newest first")), ("time", _("Oldest first"))]
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["type"].choices = [("", _("All types")), *EventType.choices]  # type: ignore[attr-defined]
