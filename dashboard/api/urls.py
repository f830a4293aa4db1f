"""The storefront API, version 1: ``/api/v1/…``."""
from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from dashboard.api import openapi  # noqa: F401 - registers the token scheme with drf-spectacular
from dashboard.api.views import (
    events,
    experiments,
    health,
    privacy,
    products,
    recommendations,
    related,
    search,
    shoppers,
    trending,
)

app_name = "api"

CATALOG = "catalogs/<slug:slug>/"

urlpatterns = [
    path("health/live", health.LiveView.as_view(), name="health_live"),
    path("health/ready", health.ReadyView.as_view(), name="health_ready"),
    path("schema/", SpectacularAPIView.as_view(api_version="v1", authentication_classes=[], permission_classes=[],
                                               throttle_classes=[]), name="schema"),
    # Swagger UI with its start-up script served as a file (the Content-Security-Policy allows no inline script)
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", authentication_classes=[],
                                                      permission_classes=[], throttle_classes=[]), name="docs"),
    # ReDoc's template starts it with an inline script: allowed on this page only
    path("redoc/", csp_replace({"script-src": [SELF, UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})(
        SpectacularRedocView.as_view(url_name="api:schema", authentication_classes=[], permission_classes=[],
                                     throttle_classes=[])), name="redoc"),
    path(CATALOG + "token", health.TokenView.as_view(), name="token"),
    path(CATALOG + "recommendations", recommendations.RecommendationsView.as_view(), name="recommendations"),
    path(CATALOG + "search", search.SearchView.as_view(), name="search"),
    path(CATALOG + "trending", trending.TrendingView.as_view(), name="trending"),
    path(CATALOG + "events", events.EventsView.as_view(), name="events"),
    path(CATALOG + "experiments/assignment", experiments.AssignmentView.as_view(), name="experiment_assignment"),
    path(CATALOG + "products", products.ProductsView.as_view(), name="products"),
    path(CATALOG + "products/<str:product_id>", products.ProductDetailView.as_view(), name="product"),
    path(CATALOG + "products/<str:product_id>/similar", related.SimilarView.as_view(), name="similar"),
    path(CATALOG + "products/<str:product_id>/complementary", related.ComplementaryView.as_view(),
         name="complementary"),
    path(CATALOG + "shoppers/<str:shopper_id>/profile", shoppers.ShopperProfileView.as_view(),
         name="shopper_profile"),
    path(CATALOG + "shoppers/<str:shopper_id>/data", privacy.ShopperDataView.as_view(), name="shopper_data"),
]
