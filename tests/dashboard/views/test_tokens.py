"""The API tokens page: viewers list, admins create (the key shown once, only its hash kept) and revoke."""
from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse

from dashboard.models import ApiToken
from tests.dashboard.api.auth_support import fresh_api_caches, make_token  # noqa: F401 (fixture)
from tests.factories import CatalogFactory


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def url(name: str, catalog, **kwargs) -> str:
    return reverse(f"dashboard:{name}", kwargs={"catalog": catalog.slug, **kwargs})


def create(client, catalog, **fields):
    data = {"name": "web shop", "kind": "public", "scopes": ["recommendations:read", "search:read"],
            "catalogs": [catalog.slug], **fields}
    return client.post(url("token_create", catalog), data)


def test_an_analyst_sees_the_tokens_but_no_create_form(analyst_client, catalog):
    token, _key = make_token([catalog], name="warehouse sync")
    page = analyst_client.get(url("tokens", catalog)).content.decode()
    assert "warehouse sync" in page and token.prefix in page and "secret" in page
    assert 'name="kind"' not in page and "Revoke" not in page


def test_the_page_lists_only_tokens_of_its_catalog_in_constant_queries(analyst_client, catalog,
                                                                       django_assert_max_num_queries):
    other = CatalogFactory()
    make_token([other], name="other shop")
    for n in range(5):
        make_token([catalog, other], name=f"shop {n}")
    with django_assert_max_num_queries(12):
        page = analyst_client.get(url("tokens", catalog)).content.decode()
    assert "shop 4" in page and "other shop" not in page


def test_creating_a_token_shows_its_key_once_and_stores_only_its_hash(admin_client, catalog):
    response = create(admin_client, catalog)
    assert response.status_code == 200
    token = ApiToken.objects.get()
    key = response.context["new_key"]
    assert key.startswith(f"fzp_{token.prefix}.")
    assert key in response.content.decode() and "shown only this once" in response.content.decode()
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.kind == "public" and list(token.catalogs.all()) == [catalog]
    assert key not in admin_client.get(url("tokens", catalog)).content.decode()


def test_the_form_preselects_the_current_catalog(admin_client, catalog):
    page = admin_client.get(url("tokens", catalog)).content.decode()
    assert f'value="{catalog.slug}" checked' in page


def test_a_public_token_with_a_write_scope_is_refused_with_the_reason(admin_client, catalog):
    response = create(admin_client, catalog, scopes=["events:write"])
    assert response.status_code == 400
    assert "secret token" in response.context["error"]
    assert not ApiToken.objects.exists()


def test_an_expiry_in_days_is_kept(admin_client, catalog):
    create(admin_client, catalog, kind="secret", scopes=["events:write"], expires_days="30", throttle="120")
    token = ApiToken.objects.get()
    assert token.expires_at is not None and token.throttle_per_minute == 120


def test_an_analyst_cannot_create_or_revoke(analyst_client, catalog):
    assert create(analyst_client, catalog).status_code == 403
    token, _key = make_token([catalog])
    assert analyst_client.post(url("token_revoke", catalog, pk=token.pk)).status_code == 403
    assert not ApiToken.objects.filter(revoked_at__isnull=False).exists()


def test_a_merchandiser_cannot_create(merch_client, catalog):
    assert create(merch_client, catalog).status_code == 403


def test_revoking_asks_first_then_revokes(admin_client, catalog):
    token, _key = make_token([catalog], name="old shop")
    confirm = admin_client.get(url("token_revoke", catalog, pk=token.pk))
    assert "Revoke token “old shop”?" in confirm.content.decode()
    response = admin_client.post(url("token_revoke", catalog, pk=token.pk), follow=True)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "revoked" in response.content.decode()


def test_a_token_of_another_catalog_cannot_be_revoked_from_this_one(admin_client, catalog):
    token, _key = make_token([CatalogFactory()])
    assert admin_client.post(url("token_revoke", catalog, pk=token.pk)).status_code == 404


def test_admins_save_the_storefront_origins(admin_client, catalog):
    response = admin_client.post(url("token_origins", catalog),
                                 {"cors_origins": "https://Shop.example.com/\n\nhttp://localhost:3000\n"})
    assert response.status_code == 302
    catalog.refresh_from_db()
    assert catalog.cors_origins == ["https://shop.example.com", "http://localhost:3000"]


def test_an_origin_with_a_path_is_refused_and_the_text_kept(admin_client, catalog):
    response = admin_client.post(url("token_origins", catalog), {"cors_origins": "https://shop.example.com/cart"})
    assert response.status_code == 400
    assert "scheme://host" in response.context["origins_error"]
    assert "https://shop.example.com/cart" in response.content.decode()
    catalog.refresh_from_db()
    assert catalog.cors_origins == []


def test_the_nav_links_to_the_tokens_page(analyst_client, catalog):
    page = analyst_client.get(reverse("dashboard:catalog_overview", kwargs={"catalog": catalog.slug}))
    assert url("tokens", catalog) in page.content.decode()
