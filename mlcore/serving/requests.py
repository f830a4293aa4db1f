"""The typed request and response of :func:`mlcore.serving.recommend.recommend`."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mlcore.fusion import Explanation

FALLBACKS = ("session", "popular")


@dataclass(frozen=True)
class RecommendRequest:
    """What a page asks for.

    ``shopper``: a shopper id the bundle may know. ``recent_items``: an anonymous (or the live) session's
    recent item ids, newest last. ``context_item``: the product on the page. ``n`` items from ``offset``
    (page 2 is ``offset=n`` and never repeats page 1). ``filters``: product column → accepted values (any
    of; for ``category`` a value matches its path and every path below it). ``exclude``: item ids never to
    return. ``context``: the page, for pins limited to one (e.g. ``"category:Home > Kitchen"``).
    """

    shopper: str | None = None
    recent_items: tuple[str, ...] = ()
    context_item: str | None = None
    n: int = 10
    offset: int = 0
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    context: str = ""

    def __post_init__(self) -> None:
        if self.n < 0 or self.offset < 0:
            raise ValueError(f"n and offset must be >= 0, got n={self.n}, offset={self.offset}")


@dataclass(frozen=True)
class RecommendResponse:
    """The page of items (best first, already sliced to ``[offset:offset+n]``; each ``extra`` holds
    ``item_id`` and ``title``) and why it is not personalised: ``fallback`` None (a known shopper),
    ``"session"`` (a guest, ranked from the recent items) or ``"popular"`` (nothing known)."""

    items: tuple[Explanation, ...]
    fallback: str | None = None

    @property
    def item_ids(self) -> list[str]:
        return [str(e.extra["item_id"]) for e in self.items]


__all__ = ["FALLBACKS", "RecommendRequest", "RecommendResponse"]
