"""``manage.py privacy_retention [--days N]``: delete raw events and uploaded files older than the retention
period (``RETENTION_DAYS``; run it daily, e.g. from cron or a periodic task)."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.services.privacy import retention_apply


class Command(BaseCommand):
    help = "Delete raw events and uploads older than the retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="override RETENTION_DAYS")

    def handle(self, *args: Any, **opts: Any) -> None:
        days = opts["days"] if opts["days"] is not None else settings.RETENTION_DAYS
        if days <= 0:
            raise CommandError("no retention period: set RETENTION_DAYS (or --days) to a number of days above 0")
        counts = retention_apply(days=days)
        self.stdout.write(f"removed {counts['events']} events and {counts['upload_files']} files older than "
                          f"{days} days")
