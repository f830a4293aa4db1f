"""Readiness of this process: the database, the broker, and every catalog's active model in memory."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection

from dashboard.models import ModelVersion, VersionState
from dashboard.services import serving

BROKER_TIMEOUT_S = 1


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return {"ok": False, "detail": f"the database does not answer: {exc}"}
    return {"ok": True, "detail": ""}


def _broker() -> dict[str, Any]:
    from recsite.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_S)
    except Exception as exc:
        return {"ok": False, "detail": f"the Celery broker ({settings.CELERY_BROKER_URL.split('@')[-1]}) does not "
                                      f"answer: {exc}"}
    return {"ok": True, "detail": ""}


def readiness() -> dict[str, Any]:
    """``{"status": "ready" | "not ready", "database", "broker", "models": {catalog slug: state}}``.

    A catalog whose active version is not in this process yet starts loading it in a background thread
    and counts as not ready until it is there (so a load balancer routes traffic elsewhere meanwhile).
    """
    database = _database()
    models: dict[str, str] = {}
    ready = database["ok"]
    if database["ok"]:
        for version in ModelVersion.objects.filter(state=VersionState.ACTIVE).select_related("catalog"):
            if serving.is_warm(version):
                models[version.catalog.slug] = f"loaded version {version.number}"
            else:
                serving.warm_in_background(version)
                models[version.catalog.slug] = f"loading version {version.number}"
                ready = False
    broker = _broker()
    return {"status": "ready" if ready and broker["ok"] else "not ready", "database": database, "broker": broker,
            "models": models}
