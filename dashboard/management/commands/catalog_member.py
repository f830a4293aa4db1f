"""``manage.py catalog_member set|remove|list``: per-catalog roles.

``set USER --catalog SLUG --role admin|merchandiser|analyst [--shopper-ids]``, ``remove USER --catalog SLUG``,
``list [--catalog SLUG]``. Install-wide roles stay Django groups (the admin site).
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.models import Catalog, Membership, MembershipRole
from dashboard.services.access import membership_remove, membership_set


class Command(BaseCommand):
    help = "Give users roles in single catalogs."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        put = sub.add_parser("set", help="give USER a role in a catalog")
        put.add_argument("username")
        put.add_argument("--catalog", required=True)
        put.add_argument("--role", required=True, choices=MembershipRole.values)
        put.add_argument("--shopper-ids", action="store_true", help="an analyst sees real shopper ids")
        drop = sub.add_parser("remove", help="take USER's role in a catalog away")
        drop.add_argument("username")
        drop.add_argument("--catalog", required=True)
        listing = sub.add_parser("list", help="list memberships")
        listing.add_argument("--catalog", default=None)

    def _catalog(self, slug: str) -> Catalog:
        catalog = Catalog.objects.filter(slug=slug).first()
        if catalog is None:
            raise CommandError(f"no catalog “{slug}”")
        return catalog

    def _user(self, name: str) -> Any:
        user = get_user_model().objects.filter(username=name).first()
        if user is None:
            raise CommandError(f"no user “{name}”; create one with manage.py createsuperuser or the admin site")
        return user

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "set":
            row = membership_set(user=self._user(opts["username"]), catalog=self._catalog(opts["catalog"]),
                                 role=opts["role"], shopper_ids=opts["shopper_ids"])
            self.stdout.write(f"{row.user} is {row.role} of {row.catalog.slug}")
        elif opts["action"] == "remove":
            if not membership_remove(user=self._user(opts["username"]), catalog=self._catalog(opts["catalog"])):
                raise CommandError("no such membership")
            self.stdout.write("removed")
        else:
            rows = Membership.objects.select_related("user", "catalog")
            if opts["catalog"]:
                rows = rows.filter(catalog__slug=opts["catalog"])
            for m in rows:
                flag = "\tshopper ids" if m.shopper_ids else ""
                self.stdout.write(f"{m.catalog.slug}\t{m.user}\t{m.role}{flag}")
