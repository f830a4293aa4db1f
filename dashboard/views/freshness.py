"""The freshness panel: events per minute, event-to-effect lag, last refresh and trending now, per catalog;
editors set the trending half-life and the live signals' shares, and rebuild the online state."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from dashboard import roles
from dashboard.models import OnlineState
from dashboard.services import online_state
from dashboard.services.online_state_freshness import freshness, live_settings_save
from dashboard.services.online_state_store import StoreDown
from dashboard.services.trending import TrendingInputError
from dashboard.views.common import catalog_or_404


class LiveSettingsForm(forms.ModelForm):
    class Meta:
        model = OnlineState
        fields = ["trending_half_life_hours", "trending_share", "co_occurrence_share"]
        labels = {"trending_share": gettext_lazy("Trending share"),
                  "co_occurrence_share": gettext_lazy("Live co-occurrence share")}


@roles.viewer_required
def freshness_panel(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    category = request.GET.get("category", "").strip()[:500]
    figures = freshness(cat, category=category)
    return render(request, "dashboard/freshness.html", {
        "catalog": cat, "f": figures, "category": category, "form": LiveSettingsForm(instance=figures.state)})


@roles.editor_required
@require_POST
def freshness_settings(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    form = LiveSettingsForm(request.POST, instance=online_state.settings_of(cat, fresh=True))
    if not form.is_valid():
        figures = freshness(cat)
        return render(request, "dashboard/freshness.html", {"catalog": cat, "f": figures, "category": "",
                                                             "form": form}, status=400)
    try:
        live_settings_save(cat, form.cleaned_data)
    except (StoreDown, TrendingInputError) as exc:
        messages.error(request, _("Not saved: %(error)s") % {"error": exc})
    else:
        messages.success(request, _("Live settings saved; they apply to the next recommendations."))
    return redirect("dashboard:freshness", catalog=cat.slug)


@roles.editor_required
@require_POST
def freshness_rebuild(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    try:
        applied = online_state.rebuild(cat)
    except (StoreDown, RuntimeError, TimeoutError) as exc:
        messages.error(request, _("Not rebuilt: %(error)s") % {"error": exc})
    else:
        messages.success(request, _("Online state rebuilt from %(n)s stored events.") % {"n": applied.events})
    return redirect("dashboard:freshness", catalog=cat.slug)
