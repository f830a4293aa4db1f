"""``manage.py import_file FILE --catalog SLUG --kind products|events [--map A=id,B=title] [--policy …]``."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.models import Catalog, ImportPolicy, ImportStatus, UnknownProducts
from dashboard.services.imports import ImportInputError, import_file


def parse_mapping(text: str) -> dict[str, str]:
    """``"StockCode=id,Description=title"`` → ``{"StockCode": "id", "Description": "title"}``."""
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        column, sep, field = part.rpartition("=")
        if not sep or not column.strip():
            raise CommandError(f"--map entry “{part}” must look like COLUMN=field, e.g. StockCode=id")
        mapping[column.strip()] = field.strip()
    return mapping


class Command(BaseCommand):
    help = "Import a products or events file (CSV, JSON Lines or Parquet, optionally .gz) into a catalog."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--catalog", required=True, help="catalog slug")
        parser.add_argument("--kind", required=True, choices=["products", "events"])
        parser.add_argument("--map", default=None, help="column mapping, e.g. StockCode=id,Description=title "
                            "(default: the catalog's saved mapping and similar column names)")
        parser.add_argument("--policy", default=ImportPolicy.VALID_ROWS, choices=ImportPolicy.values)
        parser.add_argument("--unknown-products", default=UnknownProducts.REJECT, choices=UnknownProducts.values,
                            help="events whose product is not in the catalog: reject the row (default) or create "
                            "a placeholder product")
        parser.add_argument("--skip-stored", action="store_true", help="deduplicate events without an event id "
                            "on (shopper, product, timestamp, type)")
        parser.add_argument("--again", action="store_true", help="import a file whose bytes were imported before")

    def handle(self, *args, **opts) -> None:
        catalog = Catalog.objects.filter(slug=opts["catalog"]).first()
        if catalog is None:
            raise CommandError(f"No catalog “{opts['catalog']}”. Create it in the dashboard first.")
        mapping = parse_mapping(opts["map"]) if opts["map"] is not None else None
        try:
            batch = import_file(catalog=catalog, kind=opts["kind"], path=opts["path"], mapping=mapping,
                                policy=opts["policy"], unknown_products=opts["unknown_products"],
                                natural_key=opts["skip_stored"], allow_same_file=opts["again"])
        except (ImportInputError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Import #{batch.pk} {batch.status}: {batch.rows_total or 0} rows read, {batch.rows_imported} imported, "
            f"{batch.rows_rejected} rejected, {batch.rows_duplicate} duplicates dropped; products "
            f"{batch.products_created} created / {batch.products_updated} updated; "
            f"{batch.shoppers_created} shoppers created.")
        for error in batch.errors[:10]:
            self.stdout.write(f"  row {error['row']} ({error['field']}): {error['problem']}")
        if batch.error_report:
            self.stdout.write(f"Error report: {batch.error_report.path}")
        if batch.created_products:
            self.stdout.write(f"Placeholder products created: {', '.join(batch.created_products[:50])}")
        if batch.status not in (ImportStatus.SUCCEEDED, ImportStatus.PARTIAL):
            raise CommandError(batch.error_message or "The import failed.")
