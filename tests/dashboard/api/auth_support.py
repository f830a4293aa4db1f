"""What the token tests share: a token maker, the Bearer header, and fresh API caches."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from dashboard.api.cors import origins_cache_clear
from dashboard.api.throttles import throttle_cache
from dashboard.models import ApiToken, Catalog
from dashboard.services.api_tokens import api_token_create, token_cache_clear


def make_token(catalogs: Sequence[Catalog], *, scopes: Sequence[str] = ("events:write",), kind: str = "secret",
               **kwargs: Any) -> tuple[ApiToken, str]:
    return api_token_create(name=kwargs.pop("name", "web shop"), kind=kind, scopes=scopes, catalogs=catalogs,
                            **kwargs)


def bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture(autouse=True)
def fresh_api_caches() -> Iterator[None]:
    token_cache_clear()
    origins_cache_clear()
    throttle_cache().clear()
    yield
    token_cache_clear()
    origins_cache_clear()
