from django.urls import path

from dashboard.views import catalog as catalog_views
from dashboard.views import experiments as experiment_views
from dashboard.views import freshness as freshness_views
from dashboard.views import fusion as fusion_views
from dashboard.views import imports as import_views
from dashboard.views import overview
from dashboard.views import privacy as privacy_views
from dashboard.views import search as search_views
from dashboard.views import storefront as storefront_views
from dashboard.views import tokens as token_views
from dashboard.views import training as training_views

app_name = "dashboard"

urlpatterns = [
    path("", overview.home, name="overview"),
    path("catalogs/new/", overview.catalog_create, name="catalog_create"),
    path("c/<slug:catalog>/", overview.catalog_overview, name="catalog_overview"),
    path("c/<slug:catalog>/settings/", overview.catalog_edit, name="catalog_edit"),
    path("c/<slug:catalog>/events-per-day.csv", overview.events_per_day_csv, name="events_per_day_csv"),
    path("c/<slug:catalog>/products/", catalog_views.products, name="products"),
    path("c/<slug:catalog>/products/<int:pk>/", catalog_views.product_detail, name="product_detail"),
    path("c/<slug:catalog>/products/<int:pk>/image.jpg", catalog_views.product_image, name="product_image"),
    path("c/<slug:catalog>/products/picture-check/", catalog_views.picture_check, name="picture_check"),
    path("c/<slug:catalog>/shoppers/", catalog_views.shoppers, name="shoppers"),
    path("c/<slug:catalog>/shoppers/<int:pk>/", catalog_views.shopper_detail, name="shopper_detail"),
    path("c/<slug:catalog>/events/", catalog_views.events, name="events"),
    path("c/<slug:catalog>/events.csv", catalog_views.events_csv, name="events_csv"),
    path("c/<slug:catalog>/real-time/", freshness_views.freshness_panel, name="freshness"),
    path("c/<slug:catalog>/real-time/settings/", freshness_views.freshness_settings, name="freshness_settings"),
    path("c/<slug:catalog>/real-time/rebuild/", freshness_views.freshness_rebuild, name="freshness_rebuild"),
]

# Imports (catalog and event files)

urlpatterns += [
    path("c/<slug:catalog>/imports/", import_views.imports, name="imports"),
    path("c/<slug:catalog>/imports/new/", import_views.import_new, name="import_new"),
    path("c/<slug:catalog>/imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("c/<slug:catalog>/imports/<int:pk>/start/", import_views.import_begin, name="import_start"),
    path("c/<slug:catalog>/imports/<int:pk>/cancel/", import_views.import_cancel_view, name="import_cancel"),
    path("c/<slug:catalog>/imports/<int:pk>/progress.json", import_views.import_progress_json,
         name="import_progress"),
    path("c/<slug:catalog>/imports/<int:pk>/errors.csv", import_views.import_errors_csv, name="import_errors_csv"),
]

# Training jobs and model versions

urlpatterns += [
    path("c/<slug:catalog>/jobs/", training_views.jobs, name="jobs"),
    path("c/<slug:catalog>/jobs/new/", training_views.job_new, name="job_new"),
    path("c/<slug:catalog>/jobs/schedule/", training_views.job_schedule, name="job_schedule"),
    path("c/<slug:catalog>/jobs/<int:pk>/", training_views.job_detail, name="job_detail"),
    path("c/<slug:catalog>/jobs/<int:pk>/progress.json", training_views.job_progress_json, name="job_progress"),
    path("c/<slug:catalog>/jobs/<int:pk>/cancel/", training_views.job_cancel, name="job_cancel"),
    path("c/<slug:catalog>/versions/", training_views.versions, name="versions"),
    path("c/<slug:catalog>/versions/<int:pk>/", training_views.version_detail, name="version_detail"),
    path("c/<slug:catalog>/versions/<int:pk>/promote/", training_views.version_promote_view, name="version_promote"),
    path("c/<slug:catalog>/versions/<int:pk>/rollback/", training_views.version_rollback_view,
         name="version_rollback"),
]

# Fusion configs and the live preview

urlpatterns += [
    path("c/<slug:catalog>/fusion/", fusion_views.fusion_configs, name="fusion_configs"),
    path("c/<slug:catalog>/fusion/new/", fusion_views.fusion_config_new, name="fusion_new"),
    path("c/<slug:catalog>/fusion/<int:pk>/", fusion_views.fusion_config_edit, name="fusion_edit"),
    path("c/<slug:catalog>/fusion/preview.json", fusion_views.fusion_preview_json, name="fusion_preview"),
    path("c/<slug:catalog>/fusion/random-shopper.json", fusion_views.fusion_random_shopper,
         name="fusion_random_shopper"),
]

# Fusion auto-tune
urlpatterns += [
    path("c/<slug:catalog>/fusion/<int:pk>/autotune/", fusion_views.fusion_autotune_start, name="fusion_autotune"),
    path("c/<slug:catalog>/fusion/<int:pk>/autotune/<int:run>/progress.json", fusion_views.fusion_autotune_progress,
         name="fusion_autotune_progress"),
    path("c/<slug:catalog>/fusion/<int:pk>/autotune/<int:run>/accept/", fusion_views.fusion_autotune_accept,
         name="fusion_autotune_accept"),
    path("c/<slug:catalog>/fusion/<int:pk>/autotune/<int:run>/dismiss/", fusion_views.fusion_autotune_dismiss,
         name="fusion_autotune_dismiss"),
]

# Search: preview, settings and analytics

urlpatterns += [
    path("c/<slug:catalog>/search/", search_views.search_preview, name="search_preview"),
    path("c/<slug:catalog>/search/results.json", search_views.search_results_json, name="search_results"),
    path("c/<slug:catalog>/search/settings/", search_views.search_settings_list, name="search_settings"),
    path("c/<slug:catalog>/search/settings/new/", search_views.search_settings_new, name="search_settings_new"),
    path("c/<slug:catalog>/search/settings/<int:pk>/", search_views.search_settings_edit,
         name="search_settings_edit"),
    path("c/<slug:catalog>/search/analytics/", search_views.search_analytics, name="search_analytics"),
    path("c/<slug:catalog>/search/analytics/queries.csv", search_views.search_analytics_csv,
         name="search_analytics_csv"),
]

# Demo storefront: a shop page calling the REST API with a public token

urlpatterns += [
    path("c/<slug:catalog>/storefront/", storefront_views.storefront, name="storefront"),
    path("c/<slug:catalog>/storefront/events", storefront_views.storefront_events, name="storefront_events"),
]

# API tokens and the storefront origins (CORS) of a catalog

urlpatterns += [
    path("c/<slug:catalog>/tokens/", token_views.tokens, name="tokens"),
    path("c/<slug:catalog>/tokens/new/", token_views.token_create, name="token_create"),
    path("c/<slug:catalog>/tokens/<int:pk>/revoke/", token_views.token_revoke, name="token_revoke"),
    path("c/<slug:catalog>/tokens/origins/", token_views.cors_origins, name="token_origins"),
]

# Privacy: one shopper's data (export, erase) and the audit log

urlpatterns += [
    path("c/<slug:catalog>/shoppers/<int:pk>/export.json", privacy_views.shopper_export_json, name="shopper_export"),
    path("c/<slug:catalog>/shoppers/<int:pk>/erase/", privacy_views.shopper_erase_view, name="shopper_erase"),
    path("c/<slug:catalog>/audit/", privacy_views.audit_log, name="audit_log"),
]

# A/B experiments

urlpatterns += [
    path("c/<slug:catalog>/experiments/", experiment_views.experiments, name="experiments"),
    path("c/<slug:catalog>/experiments/new/", experiment_views.experiment_new, name="experiment_new"),
    path("c/<slug:catalog>/experiments/<int:pk>/", experiment_views.experiment_detail, name="experiment_detail"),
    path("c/<slug:catalog>/experiments/<int:pk>/start/", experiment_views.experiment_start_view,
         name="experiment_start"),
    path("c/<slug:catalog>/experiments/<int:pk>/stop/", experiment_views.experiment_stop_view, name="experiment_stop"),
    path("c/<slug:catalog>/experiments/<int:pk>/ship/", experiment_views.experiment_ship_view, name="experiment_ship"),
]
