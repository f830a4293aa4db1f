"""``manage.py api_token create|list|revoke``: storefront API tokens from the command line.

``create --catalog SLUG [--catalog SLUG2] --name N --scopes recommendations:read,search:read [--public]
[--expires-days 30] [--throttle 600]`` prints the key once; ``list [--catalog SLUG]``; ``revoke PREFIX``.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from dashboard.models import ApiToken, Catalog, TokenKind
from dashboard.services.api_tokens import ApiTokenInputError, api_token_create, api_token_revoke

# the option that carries each service field, to name it in errors
OPTION_OF = {"name": "--name", "kind": "--public", "scopes": "--scopes", "catalogs": "--catalog",
             "expires_at": "--expires-days", "throttle_per_minute": "--throttle"}


class Command(BaseCommand):
    help = "Create, list or revoke storefront API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token and print its key (shown only this once)")
        create.add_argument("--catalog", action="append", required=True, help="catalog slug (repeat for more)")
        create.add_argument("--name", required=True)
        create.add_argument("--scopes", required=True, help="comma-separated, e.g. recommendations:read,search:read")
        create.add_argument("--public", action="store_true", help="a public (browser, read-only) token")
        create.add_argument("--expires-days", type=int, default=None)
        create.add_argument("--throttle", type=int, default=None, help="requests per minute (default: the site's)")
        listing = sub.add_parser("list", help="list tokens")
        listing.add_argument("--catalog", default=None, help="only tokens bound to this catalog")
        revoke = sub.add_parser("revoke", help="revoke the token with this prefix")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **opts: Any) -> None:
        getattr(self, f"_{opts['action']}")(opts)

    def _create(self, opts: dict[str, Any]) -> None:
        slugs = list(dict.fromkeys(opts["catalog"]))
        catalogs = list(Catalog.objects.filter(slug__in=slugs))
        missing = sorted(set(slugs) - {c.slug for c in catalogs})
        if missing:
            raise CommandError(f"No catalog {', '.join(missing)}. The catalogs are: "
                               f"{', '.join(Catalog.objects.values_list('slug', flat=True)) or 'none yet'}.")
        days = opts["expires_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-days must be at least 1 (leave it out for a token that never expires).")
        try:
            token, key = api_token_create(
                name=opts["name"], kind=TokenKind.PUBLIC if opts["public"] else TokenKind.SECRET,
                scopes=opts["scopes"].split(","), catalogs=catalogs, throttle_per_minute=opts["throttle"],
                expires_at=timezone.now() + dt.timedelta(days=days) if days else None)
        except ApiTokenInputError as exc:
            raise CommandError(f"{OPTION_OF.get(exc.field, exc.field)}: {exc}") from None
        self.stdout.write(f"Created {token.kind} token “{token.name}” ({token.prefix}) for "
                          f"{', '.join(c.slug for c in catalogs)} with {', '.join(token.scopes)}.")
        self.stdout.write("Key (shown only this once; store it now):")
        self.stdout.write(key)

    def _list(self, opts: dict[str, Any]) -> None:
        tokens = ApiToken.objects.prefetch_related("catalogs").order_by("-created_at")
        if opts["catalog"]:
            tokens = tokens.filter(catalogs__slug=opts["catalog"])
        now = timezone.now()
        rows = list(tokens)
        if not rows:
            self.stdout.write("No tokens.")
        for t in rows:
            state = ("revoked" if t.revoked_at else "expired" if t.expires_at and t.expires_at <= now else "active")
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
            expires = f"{t.expires_at:%Y-%m-%d}" if t.expires_at else "never"
            self.stdout.write(f"{t.prefix}  {state:<7}  {t.kind:<6}  {t.name}  scopes={','.join(t.scopes)}  "
                              f"catalogs={','.join(c.slug for c in t.catalogs.all())}  expires={expires}  "
                              f"last used={used}")

    def _revoke(self, opts: dict[str, Any]) -> None:
        prefix = opts["prefix"].split(".")[0].removeprefix("fzs_").removeprefix("fzp_")
        token = ApiToken.objects.filter(prefix=prefix).first()
        if token is None:
            raise CommandError(f"No token with prefix {prefix}; `manage.py api_token list` shows them.")
        if token.revoked_at:
            self.stdout.write(f"Token {prefix} was already revoked on {token.revoked_at:%Y-%m-%d %H:%M}.")
            return
        api_token_revoke(token=token, by=None)
        self.stdout.write(f"Revoked token “{token.name}” ({prefix}).")
