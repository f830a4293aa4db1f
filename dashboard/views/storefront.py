"""The demo storefront: a shop page that calls the real REST API from the browser, and its events endpoint."""
from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dashboard import roles
from dashboard.models import Product
from dashboard.selectors.training import active_version
from dashboard.services.events_ingest import EventsInputError
from dashboard.services.storefront_demo import DemoEventsError, demo_events_record, demo_token
from dashboard.views.common import catalog_or_404

PRODUCT_PLACEHOLDER = "__product__"  # the page's script puts the product id here


def _api_urls(slug: str) -> dict[str, str]:
    """The API endpoints the page calls; product ones hold :data:`PRODUCT_PLACEHOLDER` for the product id."""
    one = {"slug": slug}
    product = {"slug": slug, "product_id": PRODUCT_PLACEHOLDER}
    return {
        "recommendations": reverse("api:recommendations", kwargs=one),
        "search": reverse("api:search", kwargs=one),
        "product": reverse("api:product", kwargs=product),
        "similar": reverse("api:similar", kwargs=product),
        "complementary": reverse("api:complementary", kwargs=product),
        "docs": reverse("api:docs"),
    }


@require_GET
@roles.viewer_required
def storefront(request: HttpRequest, catalog: str) -> HttpResponse:
    cat = catalog_or_404(catalog)
    return render(request, "dashboard/storefront/shop.html", {
        "catalog": cat, "api": _api_urls(cat.slug), "placeholder": PRODUCT_PLACEHOLDER,
        "token": demo_token(session=request.session, catalog=cat, user=request.user),
        "version": active_version(catalog=cat), "has_products": Product.objects.filter(catalog=cat).exists(),
    })


@require_POST
@roles.viewer_required
def storefront_events(request: HttpRequest, catalog: str) -> JsonResponse:
    """A JSON event (or a list, or ``{"events": [...]}``) → ``{"stored", "duplicates"}``; 400 with ``error``
    (and ``errors`` per field) for a body it cannot store."""
    cat = catalog_or_404(catalog)
    try:
        body = json.loads(request.body or b"null")
        result = demo_events_record(catalog=cat, body=body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return JsonResponse({"error": _("The body is not JSON; send a JSON event object.")}, status=400)
    except DemoEventsError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except EventsInputError as exc:
        return JsonResponse({"error": _("Nothing was stored: some events are invalid."), "errors": exc.errors},
                            status=400)
    return JsonResponse({"stored": result.stored, "duplicates": result.duplicates})
