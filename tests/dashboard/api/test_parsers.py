"""Bodies with text no database can store are refused with the place named, never a failed write."""
from __future__ import annotations

import pytest

from dashboard.api.parsers import MAX_DEPTH, unstorable
from tests.dashboard.api.conftest import client_for

pytestmark = pytest.mark.django_db


def test_nul_characters_and_lone_surrogates_are_found_where_they_are():
    assert unstorable({"products": [{"title": "ok"}, {"title": "a\u0000b"}]}) == "products.1.title"
    assert unstorable({"products": [{"attributes": {"\ud9fe": 1}}]}) == "products.0.attributes.\ud9fe"
    assert unstorable({"k": ["fine", 1, None, {"x": "é"}]}) is None
    deep: dict = {}
    node = deep
    for _ in range(MAX_DEPTH + 2):
        node["a"] = {}
        node = node["a"]
    assert unstorable(deep)


def test_the_api_answers_400_naming_the_field(catalog):
    r = client_for([catalog]).put(f"/api/v1/catalogs/{catalog.slug}/products",
                                  data='{"products": [{"id": "P1", "title": "a\\u0000b"}]}',
                                  content_type="application/json")
    assert r.status_code == 400 and "products.0.title" in r.json()["detail"]
