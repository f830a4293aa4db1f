"""The picture server the image tests fetch from (a thread on loopback, allowed as a shop's private server)."""
from __future__ import annotations

import http.server
import io
import threading
from collections.abc import Iterator

import pytest
from PIL import Image


def png(size: tuple[int, int] = (40, 30), colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


ROUTES: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/mug.png": (200, {"Content-Type": "image/png"}, png()),
    "/page.html": (200, {"Content-Type": "text/html"}, b"<html></html>"),
    "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
    "/to-mug": (302, {"Location": "/mug.png"}, b""),
}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        status, headers, body = ROUTES.get(self.path, (404, {"Content-Type": "text/plain"}, b"missing"))
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def picture_server(settings) -> Iterator[str]:
    """A picture server on loopback, allowed by IMAGE_FETCH_ALLOWED_HOSTS as a shop's private server is."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    host = f"127.0.0.1:{httpd.server_address[1]}"
    settings.IMAGE_FETCH_ALLOWED_HOSTS = [host]
    yield f"http://{host}"
    httpd.shutdown()
