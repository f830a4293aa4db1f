"""The audit trail: who did what, when, to which catalog (promotions, rollbacks, gate overrides, rule edits,
erasures, token and membership changes)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from dashboard.models import AuditEntry, Catalog

# The families the audit page filters on: action prefix → what the operator reads.
FAMILIES = {
    "version": _("versions (promotions, rollbacks, gate overrides)"),
    "fusion": _("fusion configs and rules"),
    "shopper": _("shopper exports and erasures"),
    "token": _("API tokens and origins"),
    "membership": _("memberships"),
    "job": _("training jobs"),
    "experiment": _("A/B experiments (create, start, stop, ship)"),
}


def audit(*, actor: Any, action: str, catalog: Catalog | None, target: str,
          detail: Mapping[str, Any] | None = None) -> AuditEntry:
    """Record who did what (``actor`` None: the system, e.g. the reaper or a schedule)."""
    return AuditEntry.objects.create(actor=actor if getattr(actor, "pk", None) else None, action=action[:40],
                                     catalog=catalog, target=target[:300], detail=dict(detail or {}))


def audit_entries(*, catalog: Catalog, family: str = "", actor: str = "") -> QuerySet[AuditEntry]:
    """The catalog's entries, newest first; ``family`` an action prefix of :data:`FAMILIES`, ``actor`` a
    user name."""
    rows = AuditEntry.objects.filter(catalog=catalog).select_related("actor")
    if family:
        rows = rows.filter(action__startswith=family)
    if actor:
        rows = rows.filter(actor__username=actor)
    return rows
