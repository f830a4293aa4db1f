from django.urls import path

from dashboard.views import overview

app_name = "dashboard"

urlpatterns = [
    path("", overview.home, name="overview"),
    path("catalogs/new/", overview.catalog_create, name="catalog_create"),
    path("c/<slug:catalog>/", overview.catalog_overview, name="catalog_overview"),
]
