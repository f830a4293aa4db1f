"""Token auth: 401 for a missing, wrong, revoked or expired key; 403 for a missing scope; 404 for another catalog;
429 past the token's rate."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dashboard.api.throttles import retry_after
from dashboard.models import ApiToken
from dashboard.services.api_tokens import api_token_revoke
from tests.dashboard.api.auth_support import bearer, fresh_api_caches, make_token  # noqa: F401 (fixture)
from tests.factories import CatalogFactory

pytestmark = pytest.mark.urls("tests.dashboard.api.urls_for_tests")


def probe(catalog) -> str:
    return f"/api/v1/catalogs/{catalog.slug}/probe"


def test_a_token_with_the_scope_reaches_its_catalog(client, catalog):
    token, key = make_token([catalog])
    response = client.get(probe(catalog), **bearer(key))
    assert response.status_code == 200
    body = response.json()
    assert body["catalog"] == catalog.slug and body["prefix"] == token.prefix
    assert body["request_id"] == response["X-Request-Id"]


def test_a_request_without_a_token_gets_401_with_a_bearer_challenge(client, catalog):
    response = client.get(probe(catalog))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body["type"].endswith("/token-missing")
    assert "Authorization: Bearer" in body["detail"]
    assert body["request_id"] == response["X-Request-Id"]


def test_a_wrong_key_gets_401(client, catalog):
    _token, key = make_token([catalog])
    response = client.get(probe(catalog), **bearer(key[:-2] + ("aa" if not key.endswith("aa") else "bb")))
    assert response.status_code == 401
    assert response.json()["type"].endswith("/token-invalid")


@pytest.mark.parametrize("header", ["Bearer fzs_nosuchprefix.secret", "Bearer not-a-key", "Token abc", "Bearer a b"])
def test_a_made_up_or_malformed_key_gets_401(client, catalog, header):
    response = client.get(probe(catalog), HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_gets_401_at_once(client, catalog, admin_user):
    token, key = make_token([catalog])
    assert client.get(probe(catalog), **bearer(key)).status_code == 200
    api_token_revoke(token=token, by=admin_user)
    response = client.get(probe(catalog), **bearer(key))
    assert response.status_code == 401
    body = response.json()
    assert body["type"].endswith("/token-revoked")
    assert "revoked" in body["detail"] and "Create a new token" in body["detail"]


def test_an_expired_token_gets_401(client, catalog):
    token, key = make_token([catalog], expires_at=timezone.now() + dt.timedelta(days=1))
    token.expires_at = timezone.now() - dt.timedelta(minutes=1)
    token.save()
    response = client.get(probe(catalog), **bearer(key))
    assert response.status_code == 401
    assert response.json()["type"].endswith("/token-expired")


def test_a_token_without_the_scope_gets_403_naming_it(client, catalog):
    _token, key = make_token([catalog], scopes=["search:read"])
    response = client.get(probe(catalog), **bearer(key))
    assert response.status_code == 403
    body = response.json()
    assert body["type"].endswith("/missing-scope")
    assert "events:write" in body["detail"]


def test_a_token_bound_to_one_catalog_gets_404_on_another(client, catalog):
    other = CatalogFactory(slug="us-gifts")
    _token, key = make_token([catalog])
    response = client.get(probe(other), **bearer(key))
    assert response.status_code == 404
    assert response.json()["status"] == 404
    assert client.get("/api/v1/catalogs/no-such-catalog/probe", **bearer(key)).json()["type"] == \
        response.json()["type"]


def test_a_view_without_a_scope_needs_only_a_valid_token(client, catalog):
    _token, key = make_token([catalog], scopes=["search:read"], name="reader")
    assert client.get("/api/v1/whoami", **bearer(key)).json() == {"name": "reader"}
    assert client.get("/api/v1/whoami").status_code == 401


def test_a_view_may_accept_any_of_several_scopes(client, catalog):
    _reader, reader = make_token([catalog], scopes=["recommendations:read"])
    _writer, writer = make_token([catalog], scopes=["catalog:write"])
    _other, other = make_token([catalog], scopes=["search:read"])
    assert client.get("/api/v1/either", **bearer(reader)).status_code == 200
    assert client.get("/api/v1/either", **bearer(writer)).status_code == 200
    response = client.get("/api/v1/either", **bearer(other))
    assert response.status_code == 403
    assert "“recommendations:read” or “catalog:write”" in response.json()["detail"]


def test_a_public_view_needs_no_token(client, db):
    assert client.get("/api/v1/health").json() == {"status": "ok"}


def test_authentication_reads_the_database_only_when_the_cache_is_cold(client, catalog, django_assert_num_queries):
    _token, key = make_token([catalog])
    with django_assert_num_queries(3):  # the token, its catalogs, and the first last_used_at
        assert client.get(probe(catalog), **bearer(key)).status_code == 200
    with django_assert_num_queries(0):
        assert client.get(probe(catalog), **bearer(key)).status_code == 200


def test_using_a_token_records_when(client, catalog):
    token, key = make_token([catalog])
    client.get(probe(catalog), **bearer(key))
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_a_token_past_its_rate_gets_429_with_retry_after(client, catalog):
    _token, key = make_token([catalog], throttle_per_minute=2)
    assert [client.get(probe(catalog), **bearer(key)).status_code for _ in range(2)] == [200, 200]
    response = client.get(probe(catalog), **bearer(key))
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert 1 <= int(response["Retry-After"]) <= 120
    assert response.json()["type"].endswith("/throttled")


def test_tokens_are_throttled_separately(client, catalog):
    _a, key_a = make_token([catalog], throttle_per_minute=1)
    _b, key_b = make_token([catalog], throttle_per_minute=1)
    assert client.get(probe(catalog), **bearer(key_a)).status_code == 200
    assert client.get(probe(catalog), **bearer(key_b)).status_code == 200
    assert client.get(probe(catalog), **bearer(key_a)).status_code == 429


def test_retry_after_waits_for_the_previous_window_to_slide_out():
    # 10 allowed, 5 so far, 10 last minute, 30 s in: 5 + 10 * 0.5 = 10 → the 11th fits once 0.6 of last minute left
    assert retry_after(limit=10, current=5, previous=10, elapsed=30) == pytest.approx(6)


def test_retry_after_waits_into_the_next_window_when_this_one_is_full():
    assert retry_after(limit=2, current=3, previous=0, elapsed=20) == pytest.approx(40 + 60 * (1 - 1 / 3))
