"""``manage.py bootstrap_demo``: the admin account, the demo catalog and its first training job, once.

Prints the login every run. The demo job runs on the local worker that ``make run`` starts next and
its version is promoted when it passes the gate.
"""
from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError

from dashboard.models import Catalog, ImportBatch, ImportStatus
from dashboard.services.catalogs import catalog_create
from dashboard.services.imports import import_file
from dashboard.services.training import training_demo_start

DEMO_FILE = Path(__file__).resolve().parents[2] / "demo" / "online_retail_sample.csv.gz"
DEMO_NAME, DEMO_SLUG = "UK gifts (demo)", "uk-gifts-demo"
DEMO_MAPPING = {"InvoiceNo": "session", "StockCode": "product", "Description": "title", "Quantity": "quantity",
                "InvoiceDate": "timestamp", "UnitPrice": "price", "CustomerID": "shopper"}


class Command(BaseCommand):
    help = "Create the admin account (password in VAR_DIR/admin-password.txt) and import the demo catalog."

    def handle(self, *args, **opts) -> None:
        password = self._admin()
        catalog = self._demo()
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
        if ImportBatch.objects.filter(catalog=catalog, status=ImportStatus.SUCCEEDED).exists():
            self.stdout.write(f"The demo catalog “{DEMO_NAME}” is already loaded.")
            return catalog
        self.stdout.write(f"Importing the demo data into “{DEMO_NAME}”…")
        batch = import_file(catalog=catalog, kind="events", path=DEMO_FILE, mapping=DEMO_MAPPING)
        if batch.status != ImportStatus.SUCCEEDED:
            raise CommandError(f"The demo import failed: {batch.error_message}")
        self.stdout.write(f"Imported {batch.rows_imported:,} events, {batch.products_created:,} products and "
                          f"{batch.shoppers_created:,} shoppers ({batch.rows_rejected} rows rejected, see import "
                          f"#{batch.pk}).")
        return catalog
