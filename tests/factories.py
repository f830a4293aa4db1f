"""factory_boy factories: the small cast every dashboard test draws from."""
from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth.models import Group, User

from dashboard.models import Catalog, Event, EventType, Product, Shopper

PASSWORD = "correct horse battery staple"


class CatalogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Catalog

    name = factory.Sequence(lambda n: f"Catalog {n}")
    slug = factory.Sequence(lambda n: f"catalog-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    catalog = factory.SubFactory(CatalogFactory)
    external_id = factory.Sequence(lambda n: f"P{n:05d}")
    title = factory.Sequence(lambda n: f"Product {n}")
    price = 9.99
    category_path = "Home > Kitchen"


class ShopperFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shopper

    catalog = factory.SubFactory(CatalogFactory)
    external_id = factory.Sequence(lambda n: f"U{n:05d}")


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    catalog = factory.SubFactory(CatalogFactory)
    type = EventType.PURCHASE
    shopper = factory.SubFactory(ShopperFactory, catalog=factory.SelfAttribute("..catalog"))
    product = factory.SubFactory(ProductFactory, catalog=factory.SelfAttribute("..catalog"))
    timestamp = factory.LazyFunction(lambda: dt.datetime(2011, 6, 1, 12, tzinfo=dt.UTC))


def make_user(username: str, role: str | None, *, superuser: bool = False) -> User:
    """A user with ``role`` (admin, merchandiser, analyst or None) and the shared password."""
    user = User.objects.create_user(username=username, password=PASSWORD, is_superuser=superuser, is_staff=superuser)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user
