"""Reads about products: the filtered catalog browser, categories and one product's events."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from dashboard.models import Catalog, Event, Product

CATEGORY_SEPARATOR = " > "
SORTS = {
    "title": ("title", "external_id"),
    "-title": ("-title", "external_id"),
    "price": ("price", "external_id"),
    "-price": ("-price", "external_id"),
    "id": ("external_id",),
    "-events": ("-event_count", "external_id"),
}
"""Sort keys offered by the browser → ORDER BY fields (ties broken by external id)."""


@dataclass(frozen=True)
class ProductFilter:
    """What the operator asked for in the catalog browser; blank fields filter nothing."""

    q: str = ""
    category: str = ""
    in_stock: bool | None = None
    sort: str = "title"


def product_list(*, catalog: Catalog, filters: ProductFilter) -> QuerySet[Product]:
    """Products matching ``filters`` (title contains ``q``, or ``q`` is the product id; category path equals or
    starts with ``category``), ordered by ``filters.sort`` (annotated with ``event_count`` when sorting by it)."""
    qs = catalog.products.all()
    if filters.q:
        qs = qs.filter(Q(title__icontains=filters.q) | Q(external_id__iexact=filters.q))
    if filters.category:
        qs = _in_category(qs, filters.category)
    if filters.in_stock is not None:
        qs = qs.filter(in_stock=filters.in_stock)
    order = SORTS.get(filters.sort, SORTS["title"])
    if filters.sort == "-events":  # counting every product's events is the slow part: only when sorting by it
        qs = qs.annotate(event_count=Count("events"))
    return qs.order_by(*order)


def _in_category(qs: QuerySet[Product], category: str) -> QuerySet[Product]:
    return qs.filter(Q(category_path=category) | Q(category_path__startswith=category + CATEGORY_SEPARATOR))


def with_event_counts(products: Iterable[Product]) -> list[Product]:
    """The same products with ``event_count`` set, counted in one query (for one page, not the catalog)."""
    products = list(products)
    missing = [p.pk for p in products if not hasattr(p, "event_count")]
    if missing:
        counts = dict(
            Event.objects.filter(product_id__in=missing).values_list("product_id").annotate(n=Count("id"))
        )
        for product in products:
            if not hasattr(product, "event_count"):
                product.event_count = counts.get(product.pk, 0)  # type: ignore[attr-defined]
    return products


def category_choices(*, catalog: Catalog, depth: int = 2, limit: int = 500, include: str | None = None) -> list[str]:
    """Category path prefixes down to ``depth`` levels (e.g. "Home", "Home > Kitchen"), sorted, at most ``limit``;
    plus ``include`` (a deeper path asked for, e.g. from a product page) when some product is in it."""
    prefixes: set[str] = set()
    paths = catalog.products.exclude(category_path="").values_list("category_path", flat=True).distinct()
    for path in paths.iterator():
        levels = [level.strip() for level in path.split(CATEGORY_SEPARATOR.strip())]
        for n in range(1, min(depth, len(levels)) + 1):
            prefixes.add(CATEGORY_SEPARATOR.join(levels[:n]))
    ordered = sorted(prefixes)[:limit]
    if include and include not in ordered and _in_category(catalog.products.all(), include).exists():
        ordered.append(include)
    return ordered


def product_events(*, product: Product) -> QuerySet[Event]:
    """The product's events, newest first, with their shoppers loaded."""
    return product.events.select_related("shopper").order_by("-timestamp", "-id")


def products_by_external_id(*, catalog: Catalog, ids: Iterable[str]) -> dict[str, Product]:
    """The catalog's products with these external ids, by id (missing ids are left out), in one query."""
    return {p.external_id: p for p in catalog.products.filter(external_id__in=list(ids))}


def catalog_prices(*, catalog: Catalog, limit: int = 50_000) -> list[float]:
    """Prices of up to ``limit`` products (the first by primary key): the catalogue's price distribution."""
    rows = catalog.products.exclude(price=None).order_by("pk").values_list("price", flat=True)[:limit]
    return [float(p) for p in rows if p is not None]
