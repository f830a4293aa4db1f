"""Event types and how much each one counts: the one table of default weights.

A weight is how strongly one event of a type says "this shopper wants this product" in the
user×item matrix that collaborative signals learn from (see :meth:`mlcore.data.Dataset.matrix`);
a type weighing 0 is kept (search logs, returns for cleaning) but never counts as an interaction.
Every event type in the data must have a weight: an unknown type is an error that names the
fix, never a silent 0.

>>> parse_event_weights("rating=1, view=0.5")
{'rating': 1.0, 'view': 0.5}
>>> format_event_weights({"rating": 1.0, "view": 0.5})
'rating=1,view=0.5'
>>> event_weights({"rating": 1})["rating"], event_weights()["purchase"]
(1.0, 8.0)
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

DEFAULT_EVENT_WEIGHTS: Mapping[str, float] = MappingProxyType({
    "view": 1.0,
    "click": 2.0,
    "add_to_cart": 4.0,
    "purchase": 8.0,
    "search": 0.0,
    "return": 0.0,
})
EVENT_TYPES: tuple[str, ...] = tuple(DEFAULT_EVENT_WEIGHTS)  # the types an import stores
CLI_HINT = "--event-weights"


class UnknownEventType(ValueError):
    """Events of a type that has no weight; the message lists the known types and the fix."""


def normalise_type(text: str) -> str:
    """Lower case, spaces and hyphens as ``_`` (``Add to cart`` → ``add_to_cart``)."""
    out = re.sub(r"[\s-]+", "_", str(text).strip().lower())
    return "add_to_cart" if out == "addtocart" else out


def event_weights(overrides: Mapping[str, object] | None = None) -> dict[str, float]:
    """The default table with ``overrides`` applied (new types added), checked.

    Raises ValueError naming the type when a weight is not a finite number >= 0.
    """
    out = dict(DEFAULT_EVENT_WEIGHTS)
    for raw_type, raw_weight in (overrides or {}).items():
        kind = normalise_type(raw_type)
        if not kind:
            raise ValueError("event weights: an event type name is empty; use e.g. rating=1")
        try:
            weight = float(raw_weight)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"event weights: {raw_type}={raw_weight} is not a number; use e.g. {kind}=1") from None
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"event weights: {raw_type}={raw_weight} must be a number of 0 or more "
                             f"(0 keeps the events but does not count them)")
        out[kind] = weight
    return out


def parse_event_weights(text: str) -> dict[str, float]:
    """``TYPE=W[,TYPE=W…]`` → ``{type: weight}`` (only what the text names; see :func:`event_weights`)."""
    out: dict[str, float] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        kind, eq, weight = item.partition("=")
        if not eq or not kind.strip():
            raise ValueError(f"event weights: {item!r} is not TYPE=WEIGHT; use e.g. rating=1,view=0.5")
        name = normalise_type(kind)
        out[name] = event_weights({name: weight.strip()})[name]
    return out


def format_event_weights(weights: Mapping[str, float]) -> str:
    """The ``TYPE=W,…`` text of ``weights`` (the inverse of :func:`parse_event_weights`)."""
    return ",".join(f"{kind}={weight:g}" for kind, weight in weights.items())


def unknown_type_problem(kind: str, known: Iterable[str], *, hint: str = CLI_HINT) -> str:
    """``'rating' is not a known event type (view, …); give it a weight with --event-weights rating=1``."""
    return f"{kind!r} is not a known event type ({', '.join(known)}); give it a weight with {hint} {kind}=1"


def check_event_types(types: Iterable[str], weights: Mapping[str, float], *, hint: str = CLI_HINT) -> None:
    """Raise :class:`UnknownEventType` when a type in ``types`` has no weight in ``weights``."""
    unknown = sorted({str(t) for t in types} - set(weights))
    if unknown:
        raise UnknownEventType(f"events of type {unknown_type_problem(unknown[0], weights, hint=hint)}"
                               + (f" (also unknown: {', '.join(map(repr, unknown[1:]))})" if unknown[1:] else ""))


__all__ = ["CLI_HINT", "DEFAULT_EVENT_WEIGHTS", "EVENT_TYPES", "UnknownEventType", "check_event_types",
           "event_weights", "format_event_weights", "normalise_type", "parse_event_weights", "unknown_type_problem"]
