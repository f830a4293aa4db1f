from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _forget_tokens(**kwargs: Any) -> None:
    # Imported on first use: importing the services at start-up would pull in the whole engine.
    from dashboard.services.api_tokens import token_cache_clear

    token_cache_clear()


def _forget_origins(**kwargs: Any) -> None:
    from dashboard.api.cors import origins_cache_clear

    origins_cache_clear()


def _forget_serving_state(**kwargs: Any) -> None:
    from dashboard.services.serving import state_cache_clear

    state_cache_clear()


def _allow_catalog_origin(sender: Any, request: Any, **kwargs: Any) -> bool:
    from dashboard.api.cors import allow_catalog_origin

    return allow_catalog_origin(sender, request, **kwargs)


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = _("Dashboard")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here: the models exist only once the app registry is ready.
        from corsheaders.signals import check_request_enabled
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from dashboard.models import ApiToken, Catalog, FusionConfig, ModelVersion

        check_request_enabled.connect(_allow_catalog_origin, dispatch_uid="dashboard.cors")
        # The API caches tokens (with their catalogs) and origin lists for a few seconds; a change made in this
        # process is seen at once, one made in another process within that TTL.
        for name, signal in (("save", post_save), ("delete", post_delete)):
            signal.connect(_forget_tokens, sender=ApiToken, dispatch_uid=f"dashboard.tokens.token_{name}")
            signal.connect(_forget_tokens, sender=Catalog, dispatch_uid=f"dashboard.tokens.catalog_{name}")
            signal.connect(_forget_origins, sender=Catalog, dispatch_uid=f"dashboard.cors.catalog_{name}")
            # serving caches each catalog's active version and default config for a moment, likewise
            signal.connect(_forget_serving_state, sender=ModelVersion, dispatch_uid=f"dashboard.serving.version_{name}")
            signal.connect(_forget_serving_state, sender=FusionConfig, dispatch_uid=f"dashboard.serving.config_{name}")
        m2m_changed.connect(_forget_tokens, sender=ApiToken.catalogs.through, dispatch_uid="dashboard.tokens.m2m")
