"""``manage.py bootstrap_demo``: the admin account, the demo catalog, its default fusion config and its
first training job, once.

Prints the login every run. The demo job trains every signal (popularity, repeat, item-kNN, EASE, MF, the
transformer text model and the knowledge graph) on the local worker that ``make run`` starts next, and its
version is promoted when it passes the gate. The default fusion config ("Demo default") weighs every
signal of the demo job equally (or takes the active version's tuned weights when there is one), so the
fusion preview has a config to show and edit from the first minute.
"""
from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError

from dashboard.models import Catalog, FusionConfig, ImportBatch, ImportStatus
from dashboard.selectors.training import active_version
from dashboard.services.catalogs import catalog_create
from dashboard.services.fusion import fusion_config_create, known_signals
from dashboard.services.imports import import_file
from dashboard.services.training import DEMO_PARAMS, training_demo_start

DEMO_FILE = Path(__file__).resolve().parents[2] / "demo" / "online_retail_sample.csv.gz"
DEMO_NAME, DEMO_SLUG = "UK gifts (demo)", "uk-gifts-demo"
DEMO_MAPPING = {"InvoiceNo": "session", "StockCode": "product", "Description": "title", "Quantity": "quantity",
                "InvoiceDate": "timestamp", "UnitPrice": "price", "CustomerID": "shopper"}
DEMO_FUSION = "Demo default"
LOADED = (ImportStatus.SUCCEEDED, getattr(ImportStatus, "PARTIAL", ImportStatus.SUCCEEDED))  # imported, rejects aside


class Command(BaseCommand):
    help = "Create the admin account (password in VAR_DIR/admin-password.txt) and import the demo catalog."

    def handle(self, *args, **opts) -> None:
        password = self._admin()
        catalog = self._demo()
        self._fusion(catalog)
        job = training_demo_start(catalog=catalog)
        if job is not None:
            self.stdout.write(f"Queued demo training job #{job.pk}: the worker trains it and builds its search index in about a minute "
                              f"and promotes the version when it passes (watch it under Training).")
        self.stdout.write(self.style.SUCCESS(f"Log in at http://127.0.0.1:8000 as admin / {password}"))

    def _admin(self) -> str:
        path = Path(settings.VAR_DIR) / "admin-password.txt"
        user = User.objects.filter(username="admin").first()
        if user is not None and path.exists():
            return path.read_text().strip()
        password = secrets.token_urlsafe(12)
        if user is None:
            user = User.objects.create_superuser("admin", "", password)
        else:
            user.set_password(password)
            user.save()
        user.groups.add(Group.objects.get(name="admin"))
        path.write_text(password + "\n")
        path.chmod(0o600)
        return password

    def _demo(self) -> Catalog:
        catalog = Catalog.objects.filter(slug=DEMO_SLUG).first() or catalog_create(name=DEMO_NAME, slug=DEMO_SLUG)
        if ImportBatch.objects.filter(catalog=catalog, status__in=LOADED).exists():
            self.stdout.write(f"The demo catalog “{DEMO_NAME}” is already loaded.")
            return catalog
        self.stdout.write(f"Importing the demo data into “{DEMO_NAME}”…")
        batch = import_file(catalog=catalog, kind="events", path=DEMO_FILE, mapping=DEMO_MAPPING,
                            unknown_products="create")
        if batch.status not in LOADED:  # the sample's rows without a shopper are rejected, as they should be
            raise CommandError(f"The demo import failed: {batch.error_message}")
        self.stdout.write(f"Imported {batch.rows_imported:,} events, {batch.products_created:,} products and "
                          f"{batch.shoppers_created:,} shoppers ({batch.rows_rejected} rows rejected, see import "
                          f"#{batch.pk}).")
        return catalog

    def _fusion(self, catalog: Catalog) -> None:
        """The catalog's default fusion config, unless it has one."""
        if FusionConfig.objects.filter(catalog=catalog, is_default=True).exists():
            return
        signals = known_signals(catalog)
        version = active_version(catalog=catalog) if signals else None
        tuned = dict((getattr(version, "fusion", None) or {}).get("weights") or {})
        weights = {s: float(w) for s, w in tuned.items() if s in signals} if any(tuned.values()) else {}
        if not weights:
            weights = {s: 1.0 for s in (signals or DEMO_PARAMS["signals"])}
        name = DEMO_FUSION if not FusionConfig.objects.filter(catalog=catalog, name=DEMO_FUSION).exists() \
            else f"{DEMO_FUSION} ({len(weights)} signals)"
        fusion_config_create(catalog=catalog, name=name, weights=weights, normalization="rank", is_default=True)
        self.stdout.write(f"Created the default fusion config “{name}” ({', '.join(weights)}).")
