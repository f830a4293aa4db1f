"""A benchmark's own, migrated database, so a benchmark runs from a fresh clone with nothing set up.

    from bench_db import setup_django
    setup_django("preview")   # var/bench/preview/db.sqlite3 (or DATABASE_URL when set), migrated

Without ``DATABASE_URL`` the embedded SQLite database of ``VAR_DIR`` is used, and ``VAR_DIR``
defaults to ``var/bench/<name>`` (artifacts, media and the broker folder go there too), so a
benchmark never touches the development database. ``migrate`` runs every time (a no-op when current).
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_django(name: str, *, migrate: bool = True) -> None:
    """Point Django at the benchmark's own database, set it up and migrate it (``migrate`` False: a
    benchmark that reads no table only gets its own ``VAR_DIR``)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recsite.settings")
    os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "bench" / name))
    import django
    from django.core.management import call_command

    django.setup()
    if migrate:
        call_command("migrate", verbosity=0, interactive=False)
