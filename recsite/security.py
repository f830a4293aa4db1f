"""Production safety: the secret key's checks and the Content-Security-Policy every page is served with.

``SECRET_KEY``: with DEBUG on, a fixed development key is used when none is set. With DEBUG off a key
that is set must be strong (50+ characters, 5+ distinct ones, not Django's ``django-insecure-`` kind nor a
known default), or the process refuses to start. With DEBUG off and no key: a site declared production
(``HTTPS=true``) refuses to start; otherwise (a local install, the test suite) a random key is generated once
into ``VAR_DIR/secret_key`` (mode 0600) and reused by every process sharing that folder.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

DEV_KEY = "dev-only-insecure-key-change-me"
KNOWN_WEAK = {DEV_KEY, "changeme", "change-me", "secret", "django-insecure", "dev", "test"}
MIN_LENGTH = 50
MIN_UNIQUE = 5
HOW_TO_MAKE = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'


def weak_reason(key: str) -> str | None:
    """Why ``key`` is too weak for production (None: strong enough)."""
    if key.strip().lower() in KNOWN_WEAK:
        return "it is a known default"
    if key.startswith("django-insecure-"):
        return "it is Django's development key"
    if len(key) < MIN_LENGTH:
        return f"it has {len(key)} characters, fewer than {MIN_LENGTH}"
    if len(set(key)) < MIN_UNIQUE:
        return f"it has fewer than {MIN_UNIQUE} distinct characters"
    return None


def _generated(var_dir: Path) -> str:
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(key)
    return key


def secret_key(raw: str, *, debug: bool, https: bool, var_dir: Path) -> str:
    """The SECRET_KEY to use (see the module doc); ImproperlyConfigured names the fix."""
    if debug:
        return raw or DEV_KEY
    if raw:
        why = weak_reason(raw)
        if why:
            raise ImproperlyConfigured(f"SECRET_KEY is too weak for DEBUG=false ({why}); set a random one, "
                                       f"e.g. from: {HOW_TO_MAKE}")
        return raw
    if https:
        raise ImproperlyConfigured(f"SECRET_KEY must be set when HTTPS=true; make one with: {HOW_TO_MAKE}")
    return _generated(var_dir)


# Scripts only from this site (or with the request's nonce): no inline handlers, no eval. Styles allow inline
# because Plotly styles its charts through style attributes and a generated stylesheet; styles cannot run code.
# Product images may come from the merchant's CDN (https:).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:", "https:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
