"""``manage.py fetch_images SLUG [--limit N]``: fetch the pictures of a catalog's products into thumbnails.

The worker does the same after product imports; this is the operator's way to run it now (or again after
fixing URLs). Prints how many were fetched, failed (each product's reason is on its page) and cleared.
"""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.models import Catalog
from dashboard.services.images import fetch_product_images


class Command(BaseCommand):
    help = "Fetch product pictures (image_url) into local thumbnails for the cards and the image signal."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("catalog", help="catalog slug")
        parser.add_argument("--limit", type=int, default=None, help="at most this many products (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        catalog = Catalog.objects.filter(slug=options["catalog"]).first()
        if catalog is None:
            raise CommandError(f"no catalog {options['catalog']!r}; see the dashboard for slugs")
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        counts = fetch_product_images(catalog=catalog, limit=options["limit"])
        self.stdout.write(f"{counts['fetched']} fetched, {counts['failed']} failed, {counts['cleared']} cleared")
