"""Who may do what in which catalog: memberships (user × catalog × role).

Django's groups named after a role stay *install-wide* roles (that role in every catalog, present and
future; superusers are admins everywhere). A membership gives a user a role in one catalog only — the way to
run several shops in one install. A user's role in a catalog is the stronger of the two.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dashboard.models.catalog import Catalog


class MembershipRole(models.TextChoices):
    ADMIN = "admin", _("admin")
    MERCHANDISER = "merchandiser", _("merchandiser")
    ANALYST = "analyst", _("analyst")


class Membership(models.Model):
    """``user`` holds ``role`` in ``catalog``. ``shopper_ids``: an analyst sees the storefront's shopper ids
    (otherwise pseudonyms); editors always see them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=MembershipRole.choices)
    shopper_ids = models.BooleanField(_("sees shopper ids"), default=False,
                                      help_text=_("Analysts see pseudonymous shopper ids unless this is set."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["catalog", "user"]
        constraints = [models.UniqueConstraint(fields=["user", "catalog"], name="membership_unique_user_catalog")]
        permissions = [("view_shopper_ids", "Can see shoppers' storefront ids in every catalog")]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} · {self.catalog} · {self.role}"
