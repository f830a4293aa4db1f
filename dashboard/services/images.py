"""Product pictures: fetched by the worker (never in a web request), checked, and kept as thumbnails.

A fetch refuses anything but http(s), every address that is not public (loopback, private, link-local,
reserved, multicast — so a catalog file cannot make the worker call the cloud's metadata service or the
admin port of a neighbour), redirects to such addresses, bodies above ``IMAGE_MAX_BYTES``, responses that
are not ``image/*``, pictures above :data:`mlcore.image.MAX_PIXELS` and files Pillow cannot decode. The
connection goes to the address that was checked (no second DNS lookup to rebind). ``IMAGE_FETCH_ALLOWED_HOSTS``
lists ``host:port`` pairs exempt from the address check (a shop's own image server on a private network).

Thumbnails are JPEGs of at most :data:`THUMBNAIL_PX` pixels a side under ``MEDIA_ROOT/thumbnails/<catalog>/``,
written atomically; a product's ``image_error`` says why its picture was refused.
"""
from __future__ import annotations

import http.client
import io
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.db.models import F
from PIL import Image

from dashboard.models import Catalog, Product
from mlcore.image import MAX_PIXELS

THUMBNAIL_PX = 256
MAX_REDIRECTS = 3


class ImageFetchError(ValueError):
    """A picture that was not fetched; the message says why (shown on the product)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def check_url(url: str) -> Target:
    """Where ``url`` points, after the scheme and address checks; :class:`ImageFetchError` otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImageFetchError(f"only http(s) picture addresses are fetched, not {url[:80]!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ImageFetchError(f"{parts.hostname}: the host name does not resolve ({exc})") from None
    addresses = [str(info[4][0]) for info in infos]
    allowed = f"{parts.hostname}:{port}" in settings.IMAGE_FETCH_ALLOWED_HOSTS
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
        if not allowed and (not ip.is_global or ip.is_multicast):
            raise ImageFetchError(f"{parts.hostname} resolves to {address}, a private or reserved address: "
                                  "pictures are only fetched from public hosts")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, addresses[0])


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to the checked address, with the host name for SNI and the certificate."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def fetch(url: str, *, max_bytes: int | None = None, timeout: float | None = None) -> bytes:
    """The picture's bytes (redirects followed and checked, at most :data:`MAX_REDIRECTS`)."""
    limit = max_bytes if max_bytes is not None else settings.IMAGE_MAX_BYTES
    wait = timeout if timeout is not None else settings.IMAGE_FETCH_TIMEOUT_S
    for _hop in range(MAX_REDIRECTS + 1):
        target = check_url(url)
        conn: http.client.HTTPConnection
        if target.scheme == "https":
            conn = _PinnedHTTPS(target.host, target.address, target.port, wait)
        else:
            conn = http.client.HTTPConnection(target.address, target.port, timeout=wait)
        try:
            conn.request("GET", target.path, headers={"Host": target.host, "Accept": "image/*",
                                                      "User-Agent": "fusion-image-fetcher"})
            response = conn.getresponse()
            if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
                url = urljoin(url, response.getheader("Location", ""))
                continue
            if response.status != 200:
                raise ImageFetchError(f"the server answered {response.status} for {url[:120]}")
            kind = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
            if not kind.startswith("image/"):
                raise ImageFetchError(f"not a picture: the server sent {kind or 'no content type'}")
            length = response.getheader("Content-Length")
            if length and length.isdigit() and int(length) > limit:
                raise ImageFetchError(f"the picture is {int(length):,} bytes, above the {limit:,}-byte limit")
            body = response.read(limit + 1)
            if len(body) > limit:
                raise ImageFetchError(f"the picture is above the {limit:,}-byte limit")
            return body
        except (OSError, http.client.HTTPException) as exc:
            raise ImageFetchError(f"could not fetch the picture: {exc}") from None
        finally:
            conn.close()
    raise ImageFetchError(f"more than {MAX_REDIRECTS} redirects")


def thumbnail(data: bytes, dest: Path, *, size: int = THUMBNAIL_PX) -> Path:
    """Decode ``data`` (pixel limit checked before decoding) and write a JPEG thumbnail to ``dest`` atomically."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ImageFetchError(f"{img.width}×{img.height} pixels is above the {MAX_PIXELS:,}-pixel limit")
            picture = img.convert("RGB")
    except ImageFetchError:
        raise
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageFetchError(f"not a readable picture ({exc})") from None
    picture.thumbnail((size, size))
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".part")
    picture.save(tmp, "JPEG", quality=85)
    os.replace(tmp, dest)
    return dest


def thumbnail_path(product: Product) -> Path:
    """Where ``product``'s thumbnail lives (absolute), given its ``image_file``."""
    return Path(settings.MEDIA_ROOT) / product.image_file


def fetch_product_images(*, catalog: Catalog, limit: int | None = None) -> dict[str, int]:
    """Fetch the pictures of products whose ``image_url`` has no thumbnail yet (or changed since).

    Returns ``{"fetched", "failed", "cleared"}``; a product whose URL was removed loses its thumbnail.
    """
    counts = {"fetched": 0, "failed": 0, "cleared": 0}
    stale = catalog.products.filter(image_url="").exclude(image_file="")
    for product in stale.iterator():
        thumbnail_path(product).unlink(missing_ok=True)
        Product.objects.filter(pk=product.pk).update(image_file="", image_source="", image_error="")
        counts["cleared"] += 1
    todo = catalog.products.exclude(image_url="").exclude(image_source=F("image_url")).order_by("pk")
    for product in todo[:limit] if limit else todo.iterator():
        relative = f"thumbnails/{catalog.pk}/{product.pk}.jpg"
        try:
            thumbnail(fetch(product.image_url), Path(settings.MEDIA_ROOT) / relative)
        except ImageFetchError as exc:
            Product.objects.filter(pk=product.pk).update(image_source=product.image_url, image_error=str(exc)[:300])
            counts["failed"] += 1
            continue
        Product.objects.filter(pk=product.pk).update(image_file=relative, image_source=product.image_url,
                                                     image_error="")
        counts["fetched"] += 1
    return counts


__all__ = ["ImageFetchError", "check_url", "fetch", "fetch_product_images", "thumbnail", "thumbnail_path"]
