"""Creating, checking and revoking API tokens; what the service refuses, and how it says so."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from dashboard.models import ApiToken, AuditEntry
from dashboard.services.api_tokens import (
    ApiTokenInputError,
    api_token_authenticate,
    api_token_revoke,
    clean_origin,
    cors_origins_set,
)
from tests.dashboard.api.auth_support import fresh_api_caches, make_token  # noqa: F401 (fixture)
from tests.factories import CatalogFactory


def test_a_new_token_stores_only_the_hash_of_its_key(catalog, admin_user):
    token, key = make_token([catalog], by=admin_user)
    assert key.startswith(f"fzs_{token.prefix}.") and len(token.prefix) == 10
    row = ApiToken.objects.get(pk=token.pk)
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    assert row.created_by == admin_user and list(row.catalogs.all()) == [catalog]


def test_a_public_key_says_so(catalog):
    _token, key = make_token([catalog], kind="public", scopes=["recommendations:read", "search:read"])
    assert key.startswith("fzp_")


def test_creating_and_revoking_are_audited_in_each_catalog(catalog, admin_user):
    other = CatalogFactory()
    token, _key = make_token([catalog, other], by=admin_user)
    api_token_revoke(token=token, by=admin_user)
    actions = sorted(AuditEntry.objects.values_list("action", "catalog__slug"))
    assert actions == sorted([("token.create", catalog.slug), ("token.create", other.slug),
                              ("token.revoke", catalog.slug), ("token.revoke", other.slug)])


def test_authenticate_accepts_the_key_and_refuses_others(catalog, admin_user):
    token, key = make_token([catalog])
    assert api_token_authenticate(key).pk == token.pk
    assert api_token_authenticate(key + "x") is None
    assert api_token_authenticate("fzs_" + token.prefix) is None
    api_token_revoke(token=token, by=admin_user)
    assert api_token_authenticate(key) is None


@pytest.mark.parametrize(("changes", "field", "hint"), [
    ({"scopes": ["orders:read"]}, "scopes", "recommendations:read, search:read, events:write, catalog:write"),
    ({"scopes": []}, "scopes", "at least one scope"),
    ({"kind": "public", "scopes": ["events:write"]}, "scopes", "secret token"),
    ({"catalogs": []}, "catalogs", "at least one catalog"),
    ({"expires_at": timezone.now() - dt.timedelta(days=1)}, "expires_at", "later date"),
    ({"name": "  "}, "name", "name"),
    ({"kind": "shared"}, "kind", "secret"),
    ({"throttle_per_minute": 0}, "throttle_per_minute", "at least 1"),
])
def test_a_token_that_cannot_be_made_is_refused_naming_the_field(catalog, changes, field, hint):
    args = {"catalogs": [catalog], "scopes": ["search:read"], **changes}
    with pytest.raises(ApiTokenInputError) as caught:
        make_token(args.pop("catalogs"), **args)
    assert caught.value.field == field
    assert hint in str(caught.value)
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(("raw", "clean"), [
    ("https://Shop.Example.com/", "https://shop.example.com"),
    ("http://localhost:3000", "http://localhost:3000"),
    ("http://[::1]:8080", "http://[::1]:8080"),
])
def test_origins_are_normalised(raw, clean):
    assert clean_origin(raw) == clean


@pytest.mark.parametrize("raw", ["shop.example.com", "https://shop.example.com/cart", "ftp://x.example",
                                 "https://*.example.com", "https://user@shop.example.com", "https://x:99999"])
def test_what_is_not_an_origin_is_refused(raw):
    with pytest.raises(ApiTokenInputError, match="scheme://host"):
        clean_origin(raw)


def test_saving_origins_drops_blanks_and_duplicates(catalog, admin_user):
    saved = cors_origins_set(catalog=catalog, origins=["https://a.example", "", "https://A.example/"], by=admin_user)
    assert saved == ["https://a.example"]
    catalog.refresh_from_db()
    assert catalog.cors_origins == ["https://a.example"]
    assert AuditEntry.objects.filter(action="catalog.cors").count() == 1
