"""The catalog browser and product detail: search, filters, sort, pagination, escaping, query counts."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from dashboard.services.access import pseudonym
from tests.factories import EventFactory, ProductFactory, ShopperFactory


def browse(client, catalog, **params):
    return client.get(reverse("dashboard:products", kwargs={"catalog": catalog.slug}), params)


def titles(response):
    return [p.title for p in response.context["page"].object_list]


def test_it_searches_titles_case_insensitively(analyst_client, catalog):
    ProductFactory(catalog=catalog, title="WHITE HANGING HEART T-LIGHT HOLDER")
    ProductFactory(catalog=catalog, title="Red retrospot mug")
    assert titles(browse(analyst_client, catalog, q="heart")) == ["WHITE HANGING HEART T-LIGHT HOLDER"]


def test_it_filters_by_a_category_prefix_from_the_select(analyst_client, catalog):
    ProductFactory(catalog=catalog, title="Pan", category_path="Home > Kitchen > Pans")
    ProductFactory(catalog=catalog, title="Rug", category_path="Home > Living")
    ProductFactory(catalog=catalog, title="Homeware book", category_path="Homeware")
    ProductFactory(catalog=catalog, title="Ball", category_path="Toys")
    response = browse(analyst_client, catalog, category="Home")
    assert sorted(titles(response)) == ["Pan", "Rug"]
    choices = [value for value, _ in response.context["form"].fields["category"].choices]
    assert choices == ["", "Home", "Home > Kitchen", "Home > Living", "Homeware", "Toys"]
    assert titles(browse(analyst_client, catalog, category="Home > Kitchen")) == ["Pan"]


def test_it_ignores_a_category_that_is_not_offered(analyst_client, catalog):
    ProductFactory(catalog=catalog, title="Pan")
    response = browse(analyst_client, catalog, category="Nope")
    assert titles(response) == ["Pan"]
    assert response.context["form"].errors


def test_it_filters_by_stock(analyst_client, catalog):
    ProductFactory(catalog=catalog, title="Here", in_stock=True)
    ProductFactory(catalog=catalog, title="Gone", in_stock=False)
    assert titles(browse(analyst_client, catalog, in_stock="no")) == ["Gone"]
    assert titles(browse(analyst_client, catalog, in_stock="yes")) == ["Here"]


def test_it_sorts_by_price_and_by_events(analyst_client, catalog):
    cheap = ProductFactory(catalog=catalog, title="Cheap", price=1)
    ProductFactory(catalog=catalog, title="Dear", price=100)
    EventFactory.create_batch(2, catalog=catalog, product=cheap)
    assert titles(browse(analyst_client, catalog, sort="-price")) == ["Dear", "Cheap"]
    assert titles(browse(analyst_client, catalog, sort="price")) == ["Cheap", "Dear"]
    assert titles(browse(analyst_client, catalog, sort="-events"))[0] == "Cheap"


def test_it_paginates_fifty_a_page_with_the_total_count(analyst_client, catalog):
    ProductFactory.create_batch(120, catalog=catalog)
    first = browse(analyst_client, catalog)
    assert len(first.context["page"].object_list) == 50
    assert "Showing 1–50 of 120" in first.content.decode()
    last = browse(analyst_client, catalog, page=3)
    assert len(last.context["page"].object_list) == 20


def test_pagination_links_keep_the_filters(analyst_client, catalog):
    ProductFactory.create_batch(60, catalog=catalog, title="Mug")
    html = browse(analyst_client, catalog, q="mug").content.decode()
    assert "?q=mug&amp;page=2" in html


def test_it_only_lists_its_own_catalog(analyst_client, catalog):
    ProductFactory(title="Elsewhere")
    ProductFactory(catalog=catalog, title="Here")
    assert titles(browse(analyst_client, catalog)) == ["Here"]


def test_titles_with_html_are_shown_escaped(analyst_client, catalog):
    product = ProductFactory(catalog=catalog, title='<script>alert("x")</script><b>bold</b>')
    for response in (
        browse(analyst_client, catalog),
        analyst_client.get(reverse("dashboard:product_detail", kwargs={"catalog": catalog.slug, "pk": product.pk})),
    ):
        html = response.content.decode()
        assert "<script>alert" not in html and "<b>bold" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_the_empty_catalog_says_to_import_a_file(merch_client, catalog):
    html = browse(merch_client, catalog).content.decode()
    assert "No products yet — import a catalog file" in html
    assert reverse("dashboard:import_new", kwargs={"catalog": catalog.slug}) in html


def test_no_match_says_so_and_offers_to_clear_filters(analyst_client, catalog):
    ProductFactory(catalog=catalog, title="Mug")
    html = browse(analyst_client, catalog, q="zebra").content.decode()
    assert "No product matches these filters." in html


@pytest.mark.parametrize("sort", ["title", "-events"])
def test_the_list_runs_a_fixed_number_of_queries(analyst_client, catalog, django_assert_max_num_queries, sort):
    for product in ProductFactory.create_batch(50, catalog=catalog, category_path="Home > Kitchen"):
        EventFactory(catalog=catalog, product=product)
    with django_assert_max_num_queries(10):
        response = browse(analyst_client, catalog, category="Home", sort=sort)
    products = response.context["page"].object_list
    assert len(products) == 50
    assert all(p.event_count == 1 for p in products)
    assert "1 event<" in response.content.decode()


def test_a_product_id_finds_its_product(analyst_client, catalog):
    ProductFactory(catalog=catalog, external_id="85123A", title="Holder")
    ProductFactory(catalog=catalog, title="Other")
    assert titles(browse(analyst_client, catalog, q="85123a")) == ["Holder"]


def test_the_detail_shows_fields_attributes_and_events_with_shopper_links(analyst_client, catalog):
    product = ProductFactory(catalog=catalog, title="Mug", brand="Acme", attributes={"colour": "red", "size": "L"})
    shopper = ShopperFactory(catalog=catalog, external_id="12346")
    EventFactory(catalog=catalog, product=product, shopper=shopper, quantity=7)
    response = analyst_client.get(reverse("dashboard:product_detail", kwargs={"catalog": catalog.slug, "pk": product.pk}))
    html = response.content.decode()
    assert "Acme" in html and "colour" in html and "red" in html
    assert reverse("dashboard:shopper_detail", kwargs={"catalog": catalog.slug, "pk": shopper.pk}) in html
    assert ">12346<" not in html and f">{pseudonym(catalog.pk, '12346')}<" in html  # analysts: pseudonyms


def test_the_detail_paginates_its_events_without_extra_queries(analyst_client, catalog, django_assert_max_num_queries):
    product = ProductFactory(catalog=catalog)
    base = dt.datetime(2011, 1, 1, tzinfo=dt.UTC)
    for i in range(60):
        EventFactory(catalog=catalog, product=product, timestamp=base + dt.timedelta(hours=i))
    url = reverse("dashboard:product_detail", kwargs={"catalog": catalog.slug, "pk": product.pk})
    with django_assert_max_num_queries(11):  # 10 + the per-catalog membership look-up
        response = analyst_client.get(url)
    events = response.context["page"].object_list
    assert len(events) == 50 and events[0].timestamp > events[1].timestamp
    assert len(analyst_client.get(url, {"page": 2}).context["page"].object_list) == 10


def test_a_product_of_another_catalog_is_not_found(analyst_client, catalog):
    other = ProductFactory()
    url = reverse("dashboard:product_detail", kwargs={"catalog": catalog.slug, "pk": other.pk})
    assert analyst_client.get(url).status_code == 404


@pytest.mark.parametrize("page", ["0", "999", "abc"])
def test_odd_page_numbers_fall_back_to_a_real_page(analyst_client, catalog, page):
    ProductFactory(catalog=catalog)
    assert browse(analyst_client, catalog, page=page).status_code == 200


def test_the_category_link_on_a_deep_product_filters_by_its_full_path(analyst_client, catalog):
    ProductFactory(catalog=catalog, title="Pan", category_path="Home > Kitchen > Pans")
    ProductFactory(catalog=catalog, title="Pot", category_path="Home > Kitchen > Pots")
    response = browse(analyst_client, catalog, category="Home > Kitchen > Pans")
    assert titles(response) == ["Pan"]
    assert not response.context["form"].errors


def test_the_table_view_lists_category_price_with_currency_and_keeps_filters(analyst_client, catalog):
    ProductFactory(catalog=catalog, title="Blue mug", category_path="Home > Kitchen", price=4.5)
    ProductFactory(catalog=catalog, title="Red mug", category_path="Home > Kitchen", price=2.0)
    ProductFactory(catalog=catalog, title="Spade", category_path="Garden", price=9.0)
    response = browse(analyst_client, catalog, view="table", q="mug", sort="price")
    html = response.content.decode()
    assert response.context["layout"] == "table" and "product-table" in html and "item-grid" not in html
    rows = re.findall(r"<tr>\s*<td class=\"mono\">.*?</tr>", html, re.S)
    assert len(rows) == 2 and "Red mug" in rows[0] and "Home &gt; Kitchen" in rows[0]
    assert f"2.00 {catalog.default_currency}" in rows[0]
    assert 'name="view" value="table"' in html, "applying filters stays in the table"
    assert "item-grid" in browse(analyst_client, catalog, q="mug").content.decode(), "cards by default"
