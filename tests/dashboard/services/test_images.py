"""Product pictures: fetched only from public hosts, only pictures, within limits, kept as thumbnails."""
from __future__ import annotations

import pytest
from django.urls import reverse
from PIL import Image

from dashboard.services.images import ImageFetchError, check_url, fetch, fetch_product_images
from tests.dashboard.services.pictures import ROUTES
from tests.factories import ProductFactory


@pytest.mark.parametrize("url", ["http://127.0.0.1/a.png", "http://localhost:8000/admin/", "http://10.0.0.8/x.png",
                                 "http://169.254.169.254/latest/meta-data/", "http://[::1]/a.png", "http://[::ffff:127.0.0.1]/a.png",
                                 "http://192.168.1.1/a.png"])
def test_private_and_loopback_addresses_are_refused(url, settings):
    settings.IMAGE_FETCH_ALLOWED_HOSTS = []
    with pytest.raises(ImageFetchError, match="private or reserved"):
        check_url(url)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/a.png", "gopher://x/"])
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(ImageFetchError, match="only http"):
        check_url(url)


def test_a_redirect_to_a_private_address_is_refused_and_one_to_the_same_host_followed(picture_server):
    with pytest.raises(ImageFetchError, match="private or reserved"):
        fetch(f"{picture_server}/to-metadata")
    assert fetch(f"{picture_server}/to-mug") == ROUTES["/mug.png"][2]


def test_non_pictures_and_oversized_bodies_are_refused_with_the_reason(picture_server):
    with pytest.raises(ImageFetchError, match="not a picture: the server sent text/html"):
        fetch(f"{picture_server}/page.html")
    with pytest.raises(ImageFetchError, match="byte limit"):
        fetch(f"{picture_server}/mug.png", max_bytes=20)
    with pytest.raises(ImageFetchError, match="404"):
        fetch(f"{picture_server}/nothing.png")


def test_fetching_makes_thumbnails_records_failures_and_the_card_shows_the_thumbnail(picture_server, catalog, analyst_client,
                                                                                    settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    mug = ProductFactory(catalog=catalog, title="Mug", image_url=f"{picture_server}/mug.png")
    page = ProductFactory(catalog=catalog, title="Page", image_url=f"{picture_server}/page.html")
    ProductFactory(catalog=catalog, title="Bare", image_url="")
    assert fetch_product_images(catalog=catalog) == {"fetched": 1, "failed": 1, "cleared": 0}
    mug.refresh_from_db()
    page.refresh_from_db()
    assert mug.image_file and (tmp_path / mug.image_file).is_file() and not mug.image_error
    assert "not a picture" in page.image_error and not page.image_file
    with Image.open(tmp_path / mug.image_file) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) <= 256
    assert fetch_product_images(catalog=catalog) == {"fetched": 0, "failed": 0, "cleared": 0}, "nothing twice"
    image_url = reverse("dashboard:product_image", kwargs={"catalog": catalog.slug, "pk": mug.pk})
    listing = analyst_client.get(reverse("dashboard:products", kwargs={"catalog": catalog.slug})).content.decode()
    assert image_url in listing
    response = analyst_client.get(image_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    mug.image_url = ""
    mug.save()
    assert fetch_product_images(catalog=catalog)["cleared"] == 1
    mug.refresh_from_db()
    assert not mug.image_file and analyst_client.get(image_url).status_code == 404
