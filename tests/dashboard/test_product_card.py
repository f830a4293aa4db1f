"""The item card is one template: image, title, price, and optionally score and reason."""
from __future__ import annotations

from django.template.loader import render_to_string

from tests.factories import ProductFactory

CARD = "dashboard/includes/product_card.html"


def test_it_shows_image_title_price_and_links_to_the_product(catalog):
    product = ProductFactory(catalog=catalog, title="Mug", price=1234.5, currency="EUR", image_url="https://img.example/mug.jpg")
    html = render_to_string(CARD, {"product": product, "catalog": catalog})
    assert 'src="https://img.example/mug.jpg"' in html
    assert "Mug" in html and "1,234.50 EUR" in html
    assert f"/c/{catalog.slug}/products/{product.pk}/" in html
    assert "item-score" not in html and "item-reason" not in html


def test_it_shows_a_score_and_a_reason_when_given(catalog):
    product = ProductFactory(catalog=catalog)
    html = render_to_string(CARD, {"product": product, "catalog": catalog, "score": 0.87654, "reason": "bought together with Lamp"})
    assert "0.877" in html and "bought together with Lamp" in html


def test_it_falls_back_to_the_catalog_currency_and_marks_missing_stock(catalog):
    product = ProductFactory(catalog=catalog, currency="", in_stock=False)
    html = render_to_string(CARD, {"product": product, "catalog": catalog})
    assert f"9.99 {catalog.default_currency}" in html
    assert "out of stock" in html


def test_it_escapes_the_title_and_the_reason(catalog):
    product = ProductFactory(catalog=catalog, title="<img src=x onerror=alert(1)>")
    html = render_to_string(CARD, {"product": product, "catalog": catalog, "reason": "<script>x</script>"})
    assert "<img src=x" not in html and "<script>x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
