"""``manage.py rebuild_online_state [--catalog SLUG …] [--catch-up] [--half-life HOURS] [--status]``.

Rebuilds the online state (recent items, trending counters, co-occurrence counts) of each catalog (all
by default) from its stored events; ``--catch-up`` only applies the events it lacks (what every process
does on its own a few seconds after an outage); ``--half-life`` sets the trending half-life first;
``--status`` prints where each catalog's state stands and changes nothing.
"""
from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.models import Catalog
from dashboard.services import online_state
from dashboard.services.online_state_store import StoreDown
from dashboard.services.trending import TrendingInputError, half_life_set


class Command(BaseCommand):
    help = "Rebuild (or catch up) the online state of catalogs from their stored events."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--catalog", action="append", default=[], help="catalog slug (repeat; default: all)")
        parser.add_argument("--catch-up", action="store_true", help="only apply the stored events the state lacks")
        parser.add_argument("--half-life", type=float, default=None, help="set the trending half-life (hours)")
        parser.add_argument("--status", action="store_true", help="print each catalog's state; change nothing")

    def handle(self, *args: Any, **opts: Any) -> None:
        catalogs = list(Catalog.objects.filter(slug__in=opts["catalog"]) if opts["catalog"] else Catalog.objects.all())
        missing = set(opts["catalog"]) - {c.slug for c in catalogs}
        if missing:
            raise CommandError(f"no catalog {', '.join(sorted(missing))}; see the slugs on the dashboard")
        self.stdout.write(f"online state: {online_state.state_url().split('@')[-1]}")
        for catalog in catalogs:
            started = time.monotonic()
            try:
                self._one(catalog, opts)
            except StoreDown as exc:
                raise CommandError(f"{exc}; start Redis (or fix ONLINE_STATE_URL) and run this again") from None
            except TrendingInputError as exc:
                raise CommandError(f"--half-life: {exc}") from None
            except (RuntimeError, TimeoutError) as exc:  # another process is applying; writers held the table
                raise CommandError(str(exc)) from None
            self.stdout.write(f"  {catalog.slug}: done in {time.monotonic() - started:.1f} s")

    def _one(self, catalog: Catalog, opts: dict[str, Any]) -> None:
        if opts["status"]:
            row = online_state.settings_of(catalog, fresh=True)
            self.stdout.write(f"{catalog.slug}: applied through event {row.applied_event_id}, "
                              f"{row.events_applied} events applied, last {row.last_applied_at or 'never'}, "
                              f"pending since {row.pending_since or '-'}, half-life {row.trending_half_life_hours} h"
                              + (f", last error: {row.last_error}" if row.last_error else ""))
            return
        if opts["half_life"] is not None:
            half_life_set(catalog, opts["half_life"])  # rebuilds
            self.stdout.write(f"{catalog.slug}: half-life {opts['half_life']} h, state rebuilt")
            return
        if opts["catch_up"]:
            total = 0
            while True:
                applied = online_state.catch_up_now(catalog.pk)
                if applied is None:
                    raise StoreDown(f"the online state of {catalog.slug} could not be written")
                total += applied.events
                if applied.busy:
                    time.sleep(0.2)
                    continue
                if applied.events < online_state.PASS_EVENTS:
                    break
            self.stdout.write(f"{catalog.slug}: {total} events applied (through event {applied.cursor})")
            return
        applied = online_state.rebuild(catalog)
        self.stdout.write(f"{catalog.slug}: rebuilt from {applied.events} events (through event {applied.cursor})")
