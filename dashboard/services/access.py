"""Per-catalog access: which catalogs a user sees, memberships, and shopper ids shown as pseudonyms.

The rules live in :mod:`dashboard.roles` (install-wide groups plus per-catalog memberships); this module
holds what pages and services ask of them.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from dashboard import roles
from dashboard.models import Catalog, Membership, MembershipRole
from dashboard.services.audit import audit

PSEUDONYM_PREFIX = "anon-"


def visible_catalogs(user: Any) -> QuerySet[Catalog]:
    """The catalogs ``user`` holds a role in (all of them for an install-wide role)."""
    if roles.global_role(user) is not None:
        return Catalog.objects.all()
    if getattr(user, "pk", None) is None:
        return Catalog.objects.none()
    return Catalog.objects.filter(memberships__user_id=user.pk).distinct()


def require(user: Any, catalog: Catalog, need: str) -> None:
    """PermissionDenied unless ``user`` holds ``need`` (``view``, ``edit`` or ``admin``) in ``catalog``.
    ``user`` None is the system (a schedule, the reaper), a user without a pk an API token (its catalogs were
    checked when the request was authenticated): both allowed."""
    if user is None or getattr(user, "pk", None) is None:
        return
    check = {"view": roles.can_view, "edit": roles.can_edit, "admin": roles.is_admin}[need]
    if not check(user, catalog):
        raise PermissionDenied(f"{user} may not {need} catalog {catalog.slug}")


def membership_set(*, user: Any, catalog: Catalog, role: str, shopper_ids: bool = False,
                   by: Any = None) -> Membership:
    """Give ``user`` ``role`` in ``catalog`` (replacing an earlier one); audited."""
    if role not in MembershipRole.values:
        raise ValueError(f"role {role!r}: use one of {', '.join(MembershipRole.values)}")
    row, _created = Membership.objects.update_or_create(user=user, catalog=catalog,
                                                        defaults={"role": role, "shopper_ids": shopper_ids})
    audit(actor=by, action="membership.set", catalog=catalog, target=str(user),
          detail={"role": role, "shopper_ids": shopper_ids})
    return row


def membership_remove(*, user: Any, catalog: Catalog, by: Any = None) -> bool:
    deleted, _ = Membership.objects.filter(user=user, catalog=catalog).delete()
    if deleted:
        audit(actor=by, action="membership.remove", catalog=catalog, target=str(user))
    return bool(deleted)


def sees_shopper_ids(user: Any, catalog: Catalog | None) -> bool:
    """Editors see shopper ids; analysts only when granted: their membership's flag, or a group holding the
    permission ``dashboard.view_shopper_ids`` (install-wide)."""
    if catalog is None or roles.can_edit(user, catalog):
        return True
    if getattr(user, "pk", None) is None:
        return False
    held = roles.memberships(user).get(catalog.pk)
    return bool(held and held[1]) or roles.sees_shopper_ids_everywhere(user)


def pseudonym(catalog_id: int, external_id: str) -> str:
    """A stable pseudonym of a shopper id within a catalog (keyed by SECRET_KEY: not reversible without it)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{catalog_id}:{external_id}".encode(), hashlib.sha256)
    return PSEUDONYM_PREFIX + digest.hexdigest()[:12]


def shopper_label(user: Any, catalog: Catalog | None, external_id: str) -> str:
    """What ``user`` is shown for a shopper id: the id itself or its pseudonym."""
    if catalog is None or sees_shopper_ids(user, catalog):
        return external_id
    return pseudonym(catalog.pk, external_id)


TRACEBACK = "Traceback (most recent call last):"
SERVER_PATH = re.compile(r"(?<![\w.])/(?:[\w.@+-]+/)+[\w.@+-]*")


def for_viewer(user: Any, catalog: Catalog | None, text: str) -> str:
    """A job's error or log as ``user`` may read it: whole for admins; for everyone else without Python
    tracebacks and with server paths replaced (they tell an analyst nothing and an attacker a lot)."""
    if not text or roles.is_admin(user, catalog):
        return text
    kept = text.split(TRACEBACK, 1)[0].rstrip()
    if TRACEBACK in text:
        last = [line for line in text.strip().splitlines() if line and not line.startswith(" ")][-1:]
        kept = "\n".join([kept, *[line for line in last if line not in kept]]).strip()
    return SERVER_PATH.sub("[server path]", kept)
