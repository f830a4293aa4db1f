"""The demo storefront: a short-lived public token per operator and catalog, and the events its page sends.

API keys are stored hashed and shown once, so the demo page cannot look one up: it creates a public
token (read scopes only) the first time an operator opens a catalog's storefront and keeps the plain
key in the operator's Django session until shortly before it expires; later visits reuse it.

A public token may not write events — in a real shop the storefront's server sends them with a
secret token. The demo mirrors that: its page posts clicks and add-to-carts to a same-origin
endpoint behind the operator's login, which hands them to :func:`events_ingest`, the service the
API's ``POST events`` calls.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard.models import PUBLIC_SCOPES, ApiToken, Catalog, TokenKind
from dashboard.services.api_tokens import api_token_create
from dashboard.services.events_ingest import IngestResult, events_ingest

TOKEN_LIFETIME = dt.timedelta(hours=12)
RENEW_BEFORE = dt.timedelta(minutes=15)  # a key this close to expiry is replaced, so an open page keeps working
SESSION_KEY = "storefront_demo_tokens"  # {catalog pk (str): {"token": pk, "key": plain key, "expires_at": iso}}
EVENT_TYPES = ("click", "add_to_cart", "view")


@dataclass(frozen=True)
class DemoToken:
    token: ApiToken
    key: str

    @property
    def expires_at(self) -> dt.datetime:
        assert self.token.expires_at is not None  # demo tokens always expire
        return self.token.expires_at


class DemoEventsError(ValueError):
    """A body the demo events endpoint cannot take; the message says how to fix it."""


def _remembered(session: MutableMapping[str, Any], catalog: Catalog) -> DemoToken | None:
    entry = (session.get(SESSION_KEY) or {}).get(str(catalog.pk))
    if not isinstance(entry, dict) or not entry.get("key") or not entry.get("token"):
        return None
    token = ApiToken.objects.filter(pk=entry["token"], catalogs=catalog, kind=TokenKind.PUBLIC).first()
    if token is None or not token.is_active or token.expires_at is None:
        return None  # revoked or deleted on the token page, or gone
    if token.expires_at - timezone.now() < RENEW_BEFORE:
        return None
    return DemoToken(token=token, key=str(entry["key"]))


def demo_token(*, session: MutableMapping[str, Any], catalog: Catalog, user: Any) -> DemoToken:
    """The operator's public token for ``catalog``'s demo storefront: the one kept in ``session`` while it is
    active and not about to expire, else a new one (expiring in :data:`TOKEN_LIFETIME`), remembered there."""
    found = _remembered(session, catalog)
    if found is not None:
        return found
    username = user.get_username() if getattr(user, "is_authenticated", False) else "?"
    token, key = api_token_create(
        name=f"Demo storefront ({username})", kind=TokenKind.PUBLIC, scopes=[str(s) for s in PUBLIC_SCOPES],
        catalogs=[catalog], expires_at=timezone.now() + TOKEN_LIFETIME, by=user)
    kept = dict(session.get(SESSION_KEY) or {})
    kept[str(catalog.pk)] = {"token": token.pk, "key": key, "expires_at": token.expires_at.isoformat()
                             if token.expires_at else None}
    session[SESSION_KEY] = kept  # a new dict, so the session notices the change
    return DemoToken(token=token, key=key)


def demo_events_parse(body: Any) -> list[dict[str, Any]]:
    """The events of a demo POST body: one event object, a list of them, or ``{"events": [...]}``.

    Only the storefront's own event types are accepted here; field-level checks are the ingest service's.
    """
    events = body.get("events") if isinstance(body, dict) and "events" in body else body
    if isinstance(events, dict):
        events = [events]
    if not isinstance(events, list) or not events or not all(isinstance(e, dict) for e in events):
        raise DemoEventsError(_("Send a JSON event object, a list of them, or {\"events\": [...]}."))
    limit = int(getattr(settings, "API_EVENTS_MAX_BATCH", 1000))
    if len(events) > limit:
        raise DemoEventsError(_("Send at most %(limit)s events at once.") % {"limit": limit})
    wrong = sorted({str(e.get("type")) for e in events if e.get("type") not in EVENT_TYPES})
    if wrong:
        raise DemoEventsError(_("The demo storefront sends %(types)s events, not %(wrong)s.")
                              % {"types": ", ".join(EVENT_TYPES), "wrong": ", ".join(wrong)})
    return events


def demo_events_record(*, catalog: Catalog, body: Any) -> IngestResult:
    """Store the events of a demo POST body through the API's ingest service.

    Raises :class:`DemoEventsError` for a body of the wrong shape and
    :class:`~dashboard.services.events_ingest.EventsInputError` (nothing stored) for invalid events.
    """
    return events_ingest(catalog=catalog, events=demo_events_parse(body), token_id=None)
