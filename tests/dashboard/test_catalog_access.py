"""Per-catalog access, walked over every URL of the URL conf (so pages added later are covered too).

Install-wide roles (groups) keep working everywhere (tests/dashboard/test_roles.py); a membership gives a role
in one catalog only; a member of another catalog gets 404 on every URL of this one, GET or POST.
"""
from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from dashboard.models import ApiToken, Scope
from dashboard.services.access import membership_set, pseudonym
from dashboard.services.api_tokens import ApiTokenInputError, api_token_create
from dashboard.services.versions import version_promote
from tests.factories import CatalogFactory, EventFactory, make_user


def _walk(patterns, ns=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, p.namespace or ns)
        elif isinstance(p, URLPattern) and p.name:
            yield ns, p.name, list(p.pattern.converters)


def catalog_urls() -> list[tuple[str, tuple[str, ...]]]:
    """(url name, other keyword names) of every dashboard URL that names a catalog."""
    return [(f"{ns}:{name}", tuple(k for k in kwargs if k != "catalog"))
            for ns, name, kwargs in _walk(get_resolver().url_patterns) if ns != "api" and "catalog" in kwargs]


def api_catalog_urls() -> list[tuple[str, tuple[str, ...]]]:
    return [(f"api:{name}", tuple(k for k in kwargs if k != "slug"))
            for ns, name, kwargs in _walk(get_resolver().url_patterns) if ns == "api" and "slug" in kwargs]


CATALOG_URLS = catalog_urls()
API_URLS = api_catalog_urls()


def url_for(name: str, others: tuple[str, ...], slug: str, *, key: str = "catalog", world=None) -> str:
    values = {"pk": world.shopper_id if world is not None and "shopper" in name else 1, "run": 1,
              "product_id": "P1", "shopper_id": "U1"}
    return reverse(name, kwargs={key: slug, **{k: values.get(k, 1) for k in others}})


@pytest.fixture
def shops(db):
    mine = CatalogFactory(name="Mine", slug="mine")
    theirs = CatalogFactory(name="Theirs", slug="theirs")
    event = EventFactory(catalog=theirs)
    return mine, theirs, event


def test_the_walk_finds_the_pages():
    names = {name for name, _ in CATALOG_URLS}
    assert {"dashboard:catalog_overview", "dashboard:version_promote", "dashboard:shopper_erase",
            "dashboard:audit_log"} <= names


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_member_of_another_catalog_gets_404_on_every_url_of_this_one(client, shops, method):
    mine, theirs, event = shops
    for role in ("admin", "merchandiser", "analyst"):
        user = make_user(f"{role}-of-mine", None)
        membership_set(user=user, catalog=mine, role=role)
        client.force_login(user)
        for name, others in CATALOG_URLS:
            url = url_for(name, others, theirs.slug, world=event)
            status = getattr(client, method)(url).status_code
            assert status == 404, f"{method.upper()} {url} answered {status} to a {role} of another catalog"


def test_members_reach_their_catalog_by_role(client, shops):
    """Analysts read, merchandisers edit, admins administer — in their catalog only; no page answers 500."""
    mine, theirs, event = shops
    results = {}
    for role in ("analyst", "merchandiser", "admin"):
        user = make_user(f"{role}-of-theirs", None)
        membership_set(user=user, catalog=theirs, role=role)
        client.force_login(user)
        for name, others in CATALOG_URLS:
            response = client.get(url_for(name, others, theirs.slug, world=event))
            assert response.status_code < 500, (role, name, response.status_code)
            results[role, name] = response.status_code
    assert results["analyst", "dashboard:catalog_overview"] == 200
    assert results["analyst", "dashboard:job_new"] == 403
    assert results["merchandiser", "dashboard:job_new"] == 200
    assert results["merchandiser", "dashboard:token_create"] in (403, 405)
    assert results["merchandiser", "dashboard:shopper_erase"] == 403
    assert results["admin", "dashboard:shopper_erase"] == 200


def _row_counts() -> dict[str, int]:
    from django.apps import apps

    made_on_first_read = {"SearchSettings", "OnlineState", "ApiToken"}  # defaults; the demo storefront's public token
    counts = {m.__name__: m.objects.count() for m in apps.get_app_config("dashboard").get_models()
              if m.__name__ not in made_on_first_read}
    counts["secret tokens"] = ApiToken.objects.filter(kind="secret").count()
    return counts


def test_analysts_cannot_change_anything_in_their_catalog(client, shops):
    mine, theirs, event = shops
    user = make_user("analyst-of-theirs", None)
    membership_set(user=user, catalog=theirs, role="analyst")
    client.force_login(user)
    before = _row_counts()
    for name, others in CATALOG_URLS:
        response = client.post(url_for(name, others, theirs.slug, world=event), {"name": "x", "confirm": "U1"})
        assert response.status_code != 302 or "/accounts/login/" in response["Location"], (name, response["Location"])
    assert _row_counts() == before


def test_a_user_sees_only_their_catalogs(client, shops):
    mine, theirs, _event = shops
    CatalogFactory(name="Third", slug="third")
    user = make_user("two-shops", None)
    membership_set(user=user, catalog=mine, role="analyst")
    membership_set(user=user, catalog=theirs, role="merchandiser")
    client.force_login(user)
    page = client.get(reverse("dashboard:overview")).content.decode()
    assert "Mine" in page and "Theirs" in page and "Third" not in page
    nav = client.get(reverse("dashboard:catalog_overview", kwargs={"catalog": "mine"})).content.decode()
    assert "Third" not in nav


def test_analysts_see_pseudonymous_shopper_ids_unless_granted(client, shops):
    _mine, theirs, event = shops
    real = event.shopper.external_id
    analyst = make_user("pseudo", None)
    membership_set(user=analyst, catalog=theirs, role="analyst")
    client.force_login(analyst)
    for name in ("dashboard:shoppers", "dashboard:events"):
        page = client.get(reverse(name, kwargs={"catalog": theirs.slug})).content.decode()
        assert real not in page and pseudonym(theirs.pk, real) in page
    membership_set(user=analyst, catalog=theirs, role="analyst", shopper_ids=True)
    assert real in client.get(reverse("dashboard:shoppers", kwargs={"catalog": theirs.slug})).content.decode()
    merch = make_user("merch", None)
    membership_set(user=merch, catalog=theirs, role="merchandiser")
    client.force_login(merch)
    assert real in client.get(reverse("dashboard:shoppers", kwargs={"catalog": theirs.slug})).content.decode()


def test_services_check_the_catalog_too(shops, tmp_path):
    mine, theirs, _event = shops
    admin_of_mine = make_user("admin-of-mine", None)
    membership_set(user=admin_of_mine, catalog=mine, role="admin")
    with pytest.raises(ApiTokenInputError, match="not an admin of theirs"):
        api_token_create(name="x", kind="secret", scopes=[Scope.CATALOG_WRITE], catalogs=[mine, theirs],
                         by=admin_of_mine)
    from django.core.exceptions import PermissionDenied

    from dashboard.models import ModelVersion

    folder = tmp_path / "v1"
    folder.mkdir()
    (folder / "meta.json").write_text("{}")
    version = ModelVersion.objects.create(catalog=theirs, number=1, artifact_path=str(folder),
                                          metrics={"ndcg@10": 0.2}, data_fingerprint="f", split="s")
    with pytest.raises(PermissionDenied):
        version_promote(version=version, by=admin_of_mine)


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_api_token_reaches_only_its_catalogs_on_every_api_url(client, shops, method):
    mine, theirs, _event = shops
    _token, key = api_token_create(name="mine only", kind="secret", scopes=[s.value for s in Scope],
                                   catalogs=[mine])
    assert ApiToken.objects.count() == 1
    for name, others in API_URLS:
        url = url_for(name, others, theirs.slug, key="slug")
        response = getattr(client, method)(url, HTTP_AUTHORIZATION=f"Bearer {key}", content_type="application/json")
        assert response.status_code in (404, 405), f"{method.upper()} {url} answered {response.status_code}"
