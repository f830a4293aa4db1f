"""``manage.py erase_shopper --catalog SLUG SHOPPER_ID [--export FILE] [--yes]``: erase one shopper everywhere.

The database rows (shopper, events, searches, impressions), the online state, training snapshots and the raw
uploads that mention the id (see :mod:`dashboard.services.privacy`). ``--export FILE`` first writes their
data as JSON (mode 0600); without ``--yes`` the command asks before erasing.
"""
from __future__ import annotations

import json
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.models import Catalog
from dashboard.services.privacy import ShopperNotFound, shopper_erase, shopper_export


class Command(BaseCommand):
    help = "Erase one shopper's data everywhere (optionally exporting it first)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("shopper_id", help="the storefront's id of the shopper")
        parser.add_argument("--catalog", required=True, help="catalog slug")
        parser.add_argument("--export", default=None, metavar="FILE", help="write their data as JSON first")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args: Any, **opts: Any) -> None:
        catalog = Catalog.objects.filter(slug=opts["catalog"]).first()
        if catalog is None:
            raise CommandError(f"no catalog “{opts['catalog']}”; see the slugs on the dashboard's home page")
        shopper_id = opts["shopper_id"]
        if opts["export"]:
            try:
                data = shopper_export(catalog=catalog, external_id=shopper_id, via="manage.py erase_shopper")
            except ShopperNotFound as exc:
                raise CommandError(str(exc)) from None
            fd = os.open(opts["export"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(data, out, indent=2, ensure_ascii=False)
            self.stdout.write(f"exported {len(data['events'])} events to {opts['export']}")
        if not opts["yes"]:
            answer = input(f"Erase shopper “{shopper_id}” from {catalog.slug} everywhere? This cannot be undone. "
                           "Type yes: ")
            if answer.strip().lower() != "yes":
                raise CommandError("not erased")
        counts = shopper_erase(catalog=catalog, external_id=shopper_id, via="manage.py erase_shopper")
        self.stdout.write("erased: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
