"""API tokens: create, revoke and check them; and the storefront origins a catalog allows.

A key looks like ``fzs_k3j9x0a2bq.<43 url-safe characters>`` (``fzp_`` for a public token): the
marker says the kind at a glance (and lets secret scanners spot leaked keys), the 10-character
prefix finds the row, and only the SHA-256 hex of the whole key is stored. The plain key is
returned once, by :func:`api_token_create`.

Checking a key is on every API request's path, so :func:`api_token_lookup` keeps what it read in
a small in-process cache for :data:`TOKEN_CACHE_TTL_S` seconds: a revocation or a change of the
token's catalogs made in another process takes effect within that time (in this process at once,
through :func:`token_cache_clear`, which ``dashboard.apps`` connects to the model signals).
"""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import secrets
import string
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard import roles
from dashboard.models import PUBLIC_SCOPES, ApiToken, Catalog, Scope, TokenKind
from dashboard.services.audit import audit

TOKEN_CACHE_TTL_S = 5.0  # how long a process trusts what it read about a token (revocation delay across processes)
TOUCH_EVERY_S = 60.0  # last_used_at is written at most this often per token and process
PREFIX_LENGTH = 10
MARKERS = {TokenKind.SECRET: "fzs_", TokenKind.PUBLIC: "fzp_"}
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_CACHE_MAX = 10_000  # entries; unknown prefixes are cached too, so a flood of made-up keys cannot grow it forever
_DUMMY_HASH = hashlib.sha256(b"no such token").hexdigest()

# prefix → (monotonic time read, the token with ``api_catalogs`` filled in, or None when no row has that prefix)
_cache: dict[str, tuple[float, ApiToken | None]] = {}
_touched: dict[int, float] = {}  # token pk → monotonic time of the last last_used_at write


class ApiTokenInputError(ValueError):
    """A token (or origin list) the caller asked for that cannot be made; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def known_scopes() -> list[str]:
    return [str(s) for s in Scope.values]


def _clean_scopes(kind: str, scopes: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(s.strip() for s in scopes if s and s.strip()))
    if not chosen:
        raise ApiTokenInputError("scopes", _("Choose at least one scope: %(known)s.")
                                 % {"known": ", ".join(known_scopes())})
    unknown = [s for s in chosen if s not in Scope.values]
    if unknown:
        raise ApiTokenInputError("scopes", _("Unknown scope %(scope)s; the scopes are %(known)s.")
                                 % {"scope": ", ".join(unknown), "known": ", ".join(known_scopes())})
    if kind == TokenKind.PUBLIC:
        extra = [s for s in chosen if s not in PUBLIC_SCOPES]
        if extra:
            raise ApiTokenInputError("scopes", _(
                "A public token is visible in web pages, so it may only read (%(public)s); %(extra)s needs a "
                "secret token.") % {"public": ", ".join(str(s) for s in PUBLIC_SCOPES), "extra": ", ".join(extra)})
    return chosen


def _clean(*, name: str, kind: str, scopes: Iterable[str], catalogs: Iterable[Catalog],
           expires_at: dt.datetime | None, throttle_per_minute: int | None) -> tuple[str, list[str], list[Catalog]]:
    name = (name or "").strip()
    if not name:
        raise ApiTokenInputError("name", _("Give the token a name that says where it is used, e.g. “web shop”."))
    if len(name) > 200:
        raise ApiTokenInputError("name", _("The name is longer than 200 characters; shorten it."))
    if kind not in TokenKind.values:
        raise ApiTokenInputError("kind", _("The kind must be “secret” or “public”, not “%(kind)s”.") % {"kind": kind})
    chosen = _clean_scopes(kind, scopes)
    cats = list(dict.fromkeys(catalogs))
    if not cats:
        raise ApiTokenInputError("catalogs", _("Choose at least one catalog the token may use."))
    if expires_at is not None and expires_at <= timezone.now():
        raise ApiTokenInputError("expires_at", _("The expiry is in the past; choose a later date or none."))
    if throttle_per_minute is not None and throttle_per_minute < 1:
        raise ApiTokenInputError("throttle_per_minute", _(
            "Requests per minute must be at least 1; leave it empty for the site's default."))
    return name, chosen, cats


def _new_prefix() -> str:
    for _attempt in range(8):
        prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _i in range(PREFIX_LENGTH))
        if not ApiToken.objects.filter(prefix=prefix).exists():
            return prefix
    raise RuntimeError("could not find a free token prefix in 8 attempts")  # 36**10 prefixes: practically never


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _detail(token: ApiToken, cats: list[Catalog]) -> dict[str, Any]:
    return {"prefix": token.prefix, "kind": token.kind, "scopes": token.scopes, "catalogs": [c.slug for c in cats],
            "expires_at": token.expires_at.isoformat() if token.expires_at else None}


def api_token_create(*, name: str, kind: str, scopes: Iterable[str], catalogs: Iterable[Catalog],
                     expires_at: dt.datetime | None = None, throttle_per_minute: int | None = None,
                     by: Any = None) -> tuple[ApiToken, str]:
    """A new token and its plain key (the only time the key exists outside the caller's hands).

    Raises :class:`ApiTokenInputError` for an empty name, an unknown kind or scope, a write scope on a
    public token, no catalog, an expiry in the past or a throttle below 1.
    """
    name, chosen, cats = _clean(name=name, kind=kind, scopes=scopes, catalogs=catalogs, expires_at=expires_at,
                                throttle_per_minute=throttle_per_minute)
    # A secret token reaches only catalogs its creator administers; a public (read-only) one those they may view.
    allowed = roles.is_admin if kind == TokenKind.SECRET else roles.can_view
    refused = [c.slug for c in cats if getattr(by, "pk", None) and not allowed(by, c)]
    if refused:
        raise ApiTokenInputError("catalogs", _("You are not an admin of %(slugs)s: bind the token to your catalogs only.")
                                 % {"slugs": ", ".join(refused)})
    with transaction.atomic():
        prefix = _new_prefix()
        key = f"{MARKERS[TokenKind(kind)]}{prefix}.{secrets.token_urlsafe(32)}"
        token = ApiToken.objects.create(
            name=name, kind=kind, prefix=prefix, key_hash=hash_key(key), scopes=chosen, expires_at=expires_at,
            throttle_per_minute=throttle_per_minute, created_by=by if getattr(by, "pk", None) else None)
        token.catalogs.set(cats)
        for cat in cats:
            audit(actor=by, action="token.create", catalog=cat, target=str(token), detail=_detail(token, cats))
    _cache.pop(prefix, None)
    return token, key


def api_token_revoke(*, token: ApiToken, by: Any) -> ApiToken:
    """Revoke ``token`` now (revoking twice keeps the first time). Other processes notice within the cache TTL."""
    if token.revoked_at is not None:
        return token
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        cats = list(token.catalogs.all())
        for cat in cats:
            audit(actor=by, action="token.revoke", catalog=cat, target=str(token), detail=_detail(token, cats))
    _cache.pop(token.prefix, None)
    return token


def split_key(key: str) -> tuple[str, str] | None:
    """``"fzs_abc.secret"`` → ``("abc", "secret")``; None for anything not shaped like a key."""
    if key[:4] not in MARKERS.values():
        return None
    prefix, dot, secret = key[4:].partition(".")
    if not dot or not prefix or not secret or len(prefix) > 16:
        return None
    return prefix, secret


def _load(prefix: str) -> ApiToken | None:
    token = ApiToken.objects.filter(prefix=prefix).prefetch_related("catalogs").first()
    if token is not None:
        token.api_catalogs = {c.slug: c for c in token.catalogs.all()}  # type: ignore[attr-defined]
    return token


def api_token_lookup(key: str) -> ApiToken | None:
    """The token whose key is ``key`` — revoked and expired ones included, so the caller can say which — else None.

    The token comes with ``api_catalogs`` (``{slug: Catalog}`` of the catalogs it is bound to). Each call
    returns its own copy, so callers may set attributes on it. Reads at most two indexed queries, and
    none while the token is in the cache.
    """
    parts = split_key(key)
    if parts is None:
        return None
    prefix = parts[0]
    now = time.monotonic()
    hit = _cache.get(prefix)
    if hit is None or now - hit[0] > TOKEN_CACHE_TTL_S:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        hit = (now, _load(prefix))
        _cache[prefix] = hit
    token = hit[1]
    # compare even when no row matched, so an unknown prefix takes as long as a wrong secret
    if not hmac.compare_digest(hash_key(key), token.key_hash if token else _DUMMY_HASH) or token is None:
        return None
    return copy.copy(token)


def api_token_touch(token: ApiToken) -> None:
    """Record that ``token`` was used: at most one UPDATE per token per :data:`TOUCH_EVERY_S` in this process."""
    now = time.monotonic()
    if now - _touched.get(token.pk, -TOUCH_EVERY_S) < TOUCH_EVERY_S:
        return
    if len(_touched) >= _CACHE_MAX:
        _touched.clear()
    _touched[token.pk] = now
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())  # no signals: the cache stays warm


def api_token_authenticate(key: str) -> ApiToken | None:
    """The active (not revoked, not expired) token whose key is ``key``, else None; records its use."""
    token = api_token_lookup(key)
    if token is None or not token.is_active:
        return None
    api_token_touch(token)
    return token


def token_cache_clear(**_signal_kwargs: Any) -> None:
    """Forget every cached token (connected to ApiToken and Catalog changes; also handy in tests)."""
    _cache.clear()


def clean_origin(raw: str) -> str:
    """``"https://Shop.example.com/"`` → ``"https://shop.example.com"``; ApiTokenInputError unless scheme://host[:port]."""
    text = raw.strip()
    text = text[:-1] if text.endswith("/") else text
    problem = _("“%(origin)s” is not an origin; write scheme://host[:port], e.g. https://shop.example.com, "
                "without a path.") % {"origin": raw.strip()}
    try:
        url = urlsplit(text)
        port = url.port
    except ValueError:
        raise ApiTokenInputError("cors_origins", problem) from None
    if url.scheme not in ("http", "https") or not url.hostname or url.path or url.query or url.fragment \
            or url.username or url.password or "*" in text:
        raise ApiTokenInputError("cors_origins", problem)
    host = url.hostname if ":" not in url.hostname else f"[{url.hostname}]"
    return f"{url.scheme}://{host}" + (f":{port}" if port is not None else "")


def cors_origins_set(*, catalog: Catalog, origins: Iterable[str], by: Any) -> list[str]:
    """Replace the web origins whose pages may call the API for ``catalog`` (blank lines ignored, duplicates dropped)."""
    cleaned = list(dict.fromkeys(clean_origin(o) for o in origins if o.strip()))
    old = list(catalog.cors_origins or [])
    catalog.cors_origins = cleaned
    catalog.save(update_fields=["cors_origins", "updated_at"])
    audit(actor=by, action="catalog.cors", catalog=catalog, target=catalog.slug,
          detail={"cors_origins": [old, cleaned]})
    return cleaned
