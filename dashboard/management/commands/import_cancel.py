"""``manage.py import_cancel ID``: cancel a queued import at once, or stop a running one (nothing it wrote is kept)."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.models import ImportBatch
from dashboard.services.imports import ImportInputError, import_cancel


class Command(BaseCommand):
    help = "Cancel an import: a draft or queued one at once, a running one at its next chunk (rolled back)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("id", type=int, help="the import's number (as on its page)")

    def handle(self, *args, **opts) -> None:
        batch = ImportBatch.objects.filter(pk=opts["id"]).first()
        if batch is None:
            raise CommandError(f"No import #{opts['id']}.")
        try:
            batch = import_cancel(batch=batch)
        except ImportInputError as exc:
            raise CommandError(str(exc)) from None
        state = "cancelled" if batch.status == "cancelled" else "asked to stop (it rolls back at its next chunk)"
        self.stdout.write(f"Import #{batch.pk} {state}.")
