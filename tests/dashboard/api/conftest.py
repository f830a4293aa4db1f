"""The API tests' cast: a small trained catalog (bundle and search index built once per module) and tokens."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from dashboard.models import PUBLIC_SCOPES, Scope, TokenKind
from dashboard.services import search_index, serving
from dashboard.services.api_tokens import api_token_create
from tests.dashboard.fusion_data import build_bundle, frames, mirror

ALL_SCOPES = [s.value for s in Scope]


@pytest.fixture(scope="module")
def api_bundle(tmp_path_factory):
    """The fusion tests' 20-product bundle with a search index of its products."""
    folder = build_bundle(tmp_path_factory.mktemp("api") / "bundle")
    _, products = frames()
    search_index.index_build(bundle=folder, products=products, attributes={})
    return folder


@pytest.fixture
def served_catalog(catalog, api_bundle, settings):
    """``catalog`` with the bundle's products, shoppers and events, and the bundle as its active version."""
    settings.API_IMPRESSION_FLUSH_S = 0
    serving.clear_cache()
    search_index.clear_cache()
    mirror(catalog, api_bundle)
    return catalog


def client_for(catalogs, scopes=ALL_SCOPES, kind=TokenKind.SECRET, **extra) -> APIClient:
    _token, key = api_token_create(name="test", kind=kind, scopes=scopes, catalogs=catalogs, **extra)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def api(served_catalog) -> APIClient:
    """A client holding a secret token with every scope, bound to the served catalog."""
    return client_for([served_catalog])


@pytest.fixture
def public_api(served_catalog) -> APIClient:
    return client_for([served_catalog], scopes=list(PUBLIC_SCOPES), kind=TokenKind.PUBLIC)
