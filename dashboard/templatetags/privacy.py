"""``{% shopper_id shopper %}``: a shopper's id as the viewer may see it (analysts: a pseudonym unless granted).

A builtin (settings ``TEMPLATES.OPTIONS.builtins``): every template may use it without ``{% load %}``.
"""
from __future__ import annotations

from typing import Any

from django import template

from dashboard.services.access import shopper_label

register = template.Library()


@register.simple_tag(takes_context=True)
def shopper_id(context: Any, shopper: Any) -> str:
    """``shopper``: a Shopper (or its external id as text) of the page's ``catalog``."""
    request = context.get("request")
    catalog = context.get("catalog")
    external = shopper if isinstance(shopper, str) else getattr(shopper, "external_id", "")
    if request is None:
        return external
    return shopper_label(request.user, catalog, external)
