"""Every page reads in Simplified Chinese when the operator picks it."""
from __future__ import annotations

import pytest
from django.urls import reverse

from tests.dashboard.test_roles import READ_PAGES, World
from tests.factories import EventFactory


@pytest.fixture
def world(catalog) -> World:
    event = EventFactory(catalog=catalog)
    return World(slug=catalog.slug, product=event.product_id, shopper=event.shopper_id)


HTML_PAGES = [(name, kwargs) for name, kwargs in READ_PAGES if not name.endswith("_csv")]


@pytest.mark.parametrize(("name", "kwargs"), HTML_PAGES, ids=[n.split(":")[1] for n, _ in HTML_PAGES])
def test_every_page_is_in_simplified_chinese(merch_client, world, name, kwargs):
    merch_client.cookies["django_language"] = "zh-hans"
    response = merch_client.get(reverse(name, kwargs=kwargs(world)), follow=True)
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    for english, chinese in [("Overview", "概览"), ("Products", "商品"), ("Shoppers", "顾客"), ("Log out", "退出登录")]:
        assert f">{english}<" not in html
        assert chinese in html
