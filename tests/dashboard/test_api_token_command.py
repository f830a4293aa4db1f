"""``manage.py api_token``: create prints the key once, list shows the tokens, revoke stops one."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dashboard.models import ApiToken
from dashboard.services.api_tokens import api_token_authenticate
from tests.dashboard.api.auth_support import fresh_api_caches  # noqa: F401 (fixture)
from tests.factories import CatalogFactory


def run(*args: str) -> str:
    out = StringIO()
    call_command("api_token", *args, stdout=out)
    return out.getvalue()


def test_create_prints_a_key_that_works(catalog):
    other = CatalogFactory(slug="us-gifts")
    out = run("create", "--catalog", catalog.slug, "--catalog", other.slug, "--name", "shop",
              "--scopes", "recommendations:read,search:read", "--public", "--expires-days", "30")
    key = out.strip().splitlines()[-1]
    token = api_token_authenticate(key)
    assert token is not None and token.kind == "public" and token.expires_at is not None
    assert sorted(c.slug for c in token.catalogs.all()) == sorted([catalog.slug, other.slug])


def test_create_names_the_option_at_fault(catalog):
    with pytest.raises(CommandError, match="--scopes: .*secret token"):
        run("create", "--catalog", catalog.slug, "--name", "shop", "--scopes", "events:write", "--public")
    with pytest.raises(CommandError, match="No catalog nowhere"):
        run("create", "--catalog", "nowhere", "--name", "shop", "--scopes", "search:read")


def test_list_shows_tokens_and_their_state(catalog):
    run("create", "--catalog", catalog.slug, "--name", "sync job", "--scopes", "events:write,catalog:write")
    out = run("list", "--catalog", catalog.slug)
    assert "sync job" in out and "active" in out and "events:write,catalog:write" in out
    assert run("list", "--catalog", CatalogFactory().slug).strip() == "No tokens."


def test_revoke_by_prefix_stops_the_key(catalog):
    key = run("create", "--catalog", catalog.slug, "--name", "shop", "--scopes", "search:read").strip()
    key = key.splitlines()[-1]
    prefix = ApiToken.objects.get().prefix
    assert "Revoked" in run("revoke", prefix)
    assert api_token_authenticate(key) is None
    assert "already revoked" in run("revoke", prefix)
    with pytest.raises(CommandError, match="No token with prefix"):
        run("revoke", "zzzzzzzzzz")
