"""Cache headers for static files that whitenoise serves."""
from __future__ import annotations

LONG_CACHE_S = 7 * 24 * 3600
VENDOR_FILES = ("/plotly/plotly.min.js",)
"""Large files from pinned packages (4.8 MB for Plotly): they only change with a dependency upgrade."""


def add_headers(headers: dict[str, str], path: str, url: str) -> None:
    """``WHITENOISE_ADD_HEADERS_FUNCTION``: a week of browser caching for the pinned vendor files."""
    if url.endswith(VENDOR_FILES):
        headers["Cache-Control"] = f"public, max-age={LONG_CACHE_S}"
