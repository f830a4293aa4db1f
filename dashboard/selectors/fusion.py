"""Read side of fusion configs: lists, history, the default config and the signals an editor shows."""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from dashboard.models import Catalog, FusionConfig, FusionConfigRevision
from dashboard.selectors.training import active_version


def fusion_config_list(*, catalog: Catalog) -> QuerySet[FusionConfig]:
    return FusionConfig.objects.filter(catalog=catalog).select_related("updated_by").order_by("-is_default", "name")


def fusion_config_default(*, catalog: Catalog) -> FusionConfig | None:
    return FusionConfig.objects.filter(catalog=catalog, is_default=True).first()


def fusion_revisions(*, config: FusionConfig, limit: int = 20) -> list[FusionConfigRevision]:
    return list(config.revisions.select_related("by")[:limit])


def editor_signals(*, catalog: Catalog, weights: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """``[{"name", "weight"}]`` for each signal of the active version (weights of a config, else the version's)."""
    version = active_version(catalog=catalog)
    if version is None:
        return []
    base = weights if weights is not None else dict(version.fusion.get("weights", {}))
    return [{"name": name, "weight": float(base.get(name, 0.0))} for name in sorted(version.signals)]
