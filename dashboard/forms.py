"""Forms for the dashboard's pages."""
from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard.models import Catalog, EventType
from dashboard.services.training_snapshot import parse_event_weights as catalog_event_weights
from mlcore.data import DEFAULT_EVENT_WEIGHTS, parse_event_weights
from mlcore.data.events import format_event_weights


class CatalogForm(forms.ModelForm):
    """Create or edit a catalog; ``event_weights`` is typed as ``TYPE=W,…`` and stored as the changed types."""

    event_weights = forms.CharField(
        label=_("Event weights"), required=False, max_length=500,
        help_text=_("How much each event type counts when training, e.g. view=0.5,add_to_cart=6. "
                    "Blank keeps the defaults: %(defaults)s. 0 keeps the events but does not count them.")
        % {"defaults": format_event_weights(DEFAULT_EVENT_WEIGHTS)})

    class Meta:
        model = Catalog
        fields = ["name", "slug", "description", "default_currency", "event_weights"]
        help_texts = {"slug": _("Short name used in addresses, e.g. uk-gifts")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["event_weights"] = format_event_weights(self.instance.event_weights or {})

    def clean_event_weights(self) -> dict[str, float]:
        try:
            overrides = parse_event_weights(self.cleaned_data.get("event_weights") or "")
            catalog_event_weights(overrides)  # only the types an import stores
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return {kind: w for kind, w in overrides.items() if DEFAULT_EVENT_WEIGHTS.get(kind) != w}


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
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    shopper = forms.CharField(label=_("Shopper id"), required=False, max_length=200)
    product = forms.CharField(label=_("Product id"), required=False, max_length=200)
    sort = forms.ChoiceField(
        label=_("Sort by"), required=False, choices=[("-time", _("Newest first")), ("time", _("Oldest first"))]
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["type"].choices = [("", _("All types")), *EventType.choices]  # type: ignore[attr-defined]
