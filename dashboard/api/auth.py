"""Who is calling: ``Authorization: Bearer <key>`` → an :class:`ApiToken`; what it may do: scopes × catalogs.

Authentication costs no query while the token is in the in-process cache of
:mod:`dashboard.services.api_tokens` (``TOKEN_CACHE_TTL_S``, a few seconds; revocation made in another
process takes effect within that time), and :func:`catalog_for` answers from the catalogs read with it.
"""
from __future__ import annotations

import copy
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated, NotFound, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from dashboard.models import ApiToken, Catalog
from dashboard.services.api_tokens import api_token_lookup, api_token_touch

HOW_TO_SEND = "Authorization: Bearer <key>"


class TokenPrincipal:
    """``request.user`` for a token: authenticated, but nobody in the user table (``request.auth`` is the token)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, token: ApiToken) -> None:
        self.token = token
        self.username = f"token:{token.prefix}"

    def __str__(self) -> str:
        return self.username


class TokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <key>``. No header: anonymous (public views allow it, the rest answer 401)."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[TokenPrincipal, ApiToken] | None:
        header = get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() != self.keyword or len(header) != 2:
            raise AuthenticationFailed(_("Send the key as “%(how)s”, with nothing else in the header.")
                                       % {"how": HOW_TO_SEND}, code="token_malformed")
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(_("The key contains characters no key has; copy it again from the "
                                         "dashboard."), code="token_invalid") from None
        token = api_token_lookup(key)
        if token is None:
            raise AuthenticationFailed(_("This key is not valid. Check that it was copied whole, or create a new "
                                         "token on the dashboard's API tokens page."), code="token_invalid")
        if token.revoked_at is not None:
            raise AuthenticationFailed(_("This token was revoked on %(when)s. Create a new token on the dashboard's "
                                         "API tokens page.") % {"when": f"{token.revoked_at:%Y-%m-%d %H:%M} UTC"},
                                       code="token_revoked")
        if token.expires_at is not None and token.expires_at <= timezone.now():
            raise AuthenticationFailed(_("This token expired on %(when)s. Create a new token on the dashboard's "
                                         "API tokens page.") % {"when": f"{token.expires_at:%Y-%m-%d %H:%M} UTC"},
                                       code="token_expired")
        api_token_touch(token)
        return TokenPrincipal(token), token

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


def request_token(request: Request) -> ApiToken:
    """The calling token (``request.auth``, typed); 401 when the request carries none."""
    token = request.auth
    if not isinstance(token, ApiToken):
        raise NotAuthenticated(_("This endpoint needs a token: send “%(how)s”.") % {"how": HOW_TO_SEND},
                               code="token_missing")
    return token


class HasScope(BasePermission):
    """A valid token, holding the scope the view's ``scope_for(method)`` names (None: any valid token; a tuple
    of scopes: any one of them)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request_token(request)
        scope_for = getattr(view, "scope_for", None)
        needed = scope_for(request.method) if scope_for is not None else None
        if not needed:
            return True
        options = (needed,) if isinstance(needed, str) else tuple(needed)
        if not any(scope in token.scopes for scope in options):
            raise PermissionDenied(
                _("This token lacks the scope %(scope)s (it holds: %(held)s). Create a token with that scope on "
                  "the dashboard's API tokens page.")
                % {"scope": _(" or ").join(f"“{s}”" for s in options), "held": ", ".join(token.scopes) or "—"},
                code="missing_scope")
        return True


def token_catalogs(token: ApiToken) -> dict[str, Catalog]:
    """``{slug: Catalog}`` of the catalogs ``token`` is bound to, read once per token object."""
    cached = getattr(token, "api_catalogs", None)
    if cached is None:
        cached = {c.slug: c for c in token.catalogs.all()}
        token.api_catalogs = cached  # type: ignore[attr-defined]
    return cached


def catalog_for(request: Request, slug: str) -> Catalog:
    """The catalog ``slug`` if the calling token is bound to it, else 404 (the same answer as for no such catalog).

    The catalog was read with the token (at most ``TOKEN_CACHE_TTL_S`` old); each call returns its own copy.
    """
    found = token_catalogs(request_token(request)).get(slug)
    if found is None:
        raise NotFound(_("No catalog “%(slug)s” for this token. Check the address, or bind the token to the catalog "
                         "on the dashboard.") % {"slug": slug}, code="catalog_not_found")
    return copy.copy(found)
