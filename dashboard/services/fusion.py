"""Fusion configs: validate, create and update them, keeping a revision per change.

A config's weights name signals of the catalog's active version; its rules are
mlcore rule dicts (checked with :func:`mlcore.fusion.rule_from_dict`): filters
(in stock, category, price range, exclude bought, exclude recently seen), boost,
bury and pins (each optionally limited to one page context). Every save writes a
:class:`FusionConfigRevision` with ``{field: [old, new]}``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy

from dashboard.models import Catalog, Fallback, FusionConfig, FusionConfigRevision
from dashboard.selectors.training import active_version
from mlcore.fusion import FUSION_MODES, NORMALIZATIONS, RULE_TYPES, Pin, Rule, rule_from_dict, rule_to_dict
from mlcore.fusion import FusionConfig as EngineFusion

FIELDS = ("name", "mode", "weights", "normalization", "diversity", "pool_size", "fallback", "rules", "is_default")
MAX_POOL = 5000
MAX_CONTEXT = 200  # characters of a pin's page context
# (kind, label) of every rule the editor offers, in the engine's order
RULE_LABELS = {
    "in_stock": gettext_lazy("In stock only"),
    "category": gettext_lazy("Category filter"),
    "price_range": gettext_lazy("Price range"),
    "exclude_bought": gettext_lazy("Exclude already bought"),
    "exclude_recent": gettext_lazy("Exclude recently seen"),
    "boost": gettext_lazy("Boost"),
    "bury": gettext_lazy("Bury"),
    "pin": gettext_lazy("Pin"),
}
RULE_CHOICES = tuple((kind, RULE_LABELS.get(kind, kind)) for kind in RULE_TYPES)


class FusionConfigError(ValueError):
    """A config setting is invalid; the message names the field (and rule) and the fix."""


@dataclass(frozen=True)
class FusionSettings:
    """Validated settings the engine takes: fusion, rules, MMR lambda (None: off), pool size, fallback."""

    fusion: EngineFusion
    rules: tuple[Rule, ...]
    diversity: float | None
    pool_size: int
    fallback: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.fusion.to_dict(), "rules": [rule_to_dict(r) for r in self.rules],
                "diversity": self.diversity, "pool_size": self.pool_size, "fallback": self.fallback}


def known_signals(catalog: Catalog) -> list[str]:
    """Signal names of the catalog's active version (empty before the first promotion)."""
    version = active_version(catalog=catalog)
    return sorted(version.signals) if version is not None else []


def version_has_learned(version: Any) -> bool:
    """Whether a model version's bundle holds a learned ranker (its job trained one on enough data)."""
    return version is not None and (getattr(version, "fusion", None) or {}).get("mode") == "learned"


def _weights(raw: Any, signals: Sequence[str] | None) -> dict[str, float]:
    if not isinstance(raw, Mapping) or not raw:
        raise FusionConfigError("weights: give at least one {signal: weight}")
    out: dict[str, float] = {}
    for name, value in raw.items():
        if signals is not None and name not in signals:
            have = ", ".join(signals) or "none (promote a model version first)"
            raise FusionConfigError(f"weights: signal {name!r} is not in the active version; signals are: {have}")
        try:
            weight = float(value)
        except (TypeError, ValueError):
            raise FusionConfigError(f"weights: {name!r} must be a number, got {value!r}") from None
        if not 0 <= weight <= 100:
            raise FusionConfigError(f"weights: {name!r} must be between 0 and 100, got {weight:g}")
        out[str(name)] = weight
    if not any(out.values()):
        raise FusionConfigError("weights: at least one signal needs a weight above 0")
    return out


def _rules(raw: Any) -> tuple[Rule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        raise FusionConfigError(f"rules: expected a list of rules, got {type(raw).__name__}")
    out = []
    for n, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping):
            raise FusionConfigError(f"rule {n}: expected an object with a 'kind', got {item!r}")
        try:
            rule = rule_from_dict(item)
        except (ValueError, TypeError) as exc:
            raise FusionConfigError(f"rule {n} ({item.get('kind', '?')}): {exc}") from None
        if isinstance(rule, Pin) and len(rule.context) > MAX_CONTEXT:
            raise FusionConfigError(f"rule {n} (pin): context is {len(rule.context)} characters long; "
                                    f"keep it to {MAX_CONTEXT}, e.g. 'category:Home > Kitchen'")
        out.append(rule)
    pins = [r for r in out if isinstance(r, Pin)]
    for i, a in enumerate(pins):
        for b in pins[i + 1:]:
            if a.position == b.position and a.overlaps(b):
                where = f" in context {a.context or b.context!r}" if a.context or b.context else ""
                raise FusionConfigError(f"rules: two pins share position {a.position}{where} ({a.item_id!r} and "
                                        f"{b.item_id!r}); give each pin its own position or another context")
    return tuple(out)


def parse_settings(data: Mapping[str, Any], *, signals: Sequence[str] | None = None) -> FusionSettings:
    """Validate a plain settings dict (a saved config's fields or the editor's unsaved form)."""
    mode = str(data.get("mode") or "weighted")
    if mode not in FUSION_MODES:
        raise FusionConfigError(f"mode: {mode!r} is unknown; use one of {', '.join(FUSION_MODES)}")
    normalization = str(data.get("normalization") or "rank")
    if normalization not in NORMALIZATIONS:
        raise FusionConfigError(f"normalization: {normalization!r} is unknown; use one of {', '.join(NORMALIZATIONS)}")
    diversity = data.get("diversity")
    if diversity in ("", None):
        diversity = None
    else:
        try:
            diversity = float(diversity)
        except (TypeError, ValueError):
            raise FusionConfigError(f"diversity: must be a number between 0 and 1, got {diversity!r}") from None
        if not 0 <= diversity <= 1:
            raise FusionConfigError(f"diversity: must be between 0 and 1 (1 = no diversification), got {diversity:g}")
    try:
        pool = int(data.get("pool_size") or 200)
    except (TypeError, ValueError):
        raise FusionConfigError(f"pool_size: must be a whole number, got {data.get('pool_size')!r}") from None
    if not 1 <= pool <= MAX_POOL:
        raise FusionConfigError(f"pool_size: must be between 1 and {MAX_POOL}, got {pool}")
    fallback = str(data.get("fallback") or Fallback.POPULAR)
    if fallback not in Fallback.values:
        raise FusionConfigError(f"fallback: {fallback!r} is unknown; use one of {', '.join(Fallback.values)}")
    fusion = EngineFusion(weights=_weights(data.get("weights"), signals), normalization=normalization,  # type: ignore[arg-type]
                          mode=mode)  # type: ignore[arg-type]
    return FusionSettings(fusion=fusion, rules=_rules(data.get("rules")), diversity=diversity, pool_size=pool,
                          fallback=fallback)


def config_settings(config: FusionConfig) -> dict[str, Any]:
    """A saved config as the plain dict :func:`parse_settings` takes."""
    return {f: getattr(config, f) for f in FIELDS}


def _clean(catalog: Catalog, values: Mapping[str, Any]) -> dict[str, Any]:
    name = str(values.get("name", "")).strip()
    if not name:
        raise FusionConfigError("name: give the config a name")
    parsed = parse_settings(values, signals=known_signals(catalog) or None)
    out = parsed.to_dict()
    return {"name": name[:200], "mode": out["mode"], "weights": out["weights"], "normalization": out["normalization"],
            "diversity": out["diversity"], "pool_size": out["pool_size"], "fallback": out["fallback"],
            "rules": out["rules"], "is_default": bool(values.get("is_default", False))}


def _revise(config: FusionConfig, changes: dict[str, Any], by: Any) -> FusionConfigRevision:
    last = config.revisions.aggregate(n=Max("number"))["n"] or 0
    return FusionConfigRevision.objects.create(config=config, number=last + 1, changes=changes,
                                               snapshot=config_settings(config), by=by if getattr(by, "pk", None) else None)


@transaction.atomic
def fusion_config_create(*, catalog: Catalog, by: Any = None, **values: Any) -> FusionConfig:
    """Create a config from ``name, weights, normalization, diversity, pool_size, fallback, rules, is_default``."""
    clean = _clean(catalog, values)
    if FusionConfig.objects.filter(catalog=catalog, name=clean["name"]).exists():
        raise FusionConfigError(f"name: a config called {clean['name']!r} already exists; choose another name")
    user = by if getattr(by, "pk", None) else None
    if clean["is_default"]:
        FusionConfig.objects.filter(catalog=catalog, is_default=True).update(is_default=False)
    config = FusionConfig.objects.create(catalog=catalog, created_by=user, updated_by=user, **clean)
    _revise(config, {f: [None, clean[f]] for f in FIELDS}, by)
    return config


@transaction.atomic
def fusion_config_update(*, config: FusionConfig, by: Any = None, **values: Any) -> FusionConfig:
    """Change some fields of ``config`` (others kept); a revision records what changed. No change: no revision."""
    config = FusionConfig.objects.select_for_update().get(pk=config.pk)
    merged = {**config_settings(config), **values}
    clean = _clean(config.catalog, merged)
    if clean["name"] != config.name and FusionConfig.objects.filter(
            catalog=config.catalog, name=clean["name"]).exclude(pk=config.pk).exists():
        raise FusionConfigError(f"name: a config called {clean['name']!r} already exists; choose another name")
    changes = {f: [getattr(config, f), clean[f]] for f in FIELDS if getattr(config, f) != clean[f]}
    if not changes:
        return config
    if clean["is_default"] and not config.is_default:
        FusionConfig.objects.filter(catalog=config.catalog, is_default=True).update(is_default=False)
    for f, value in clean.items():
        setattr(config, f, value)
    config.updated_by = by if getattr(by, "pk", None) else None
    config.save()
    _revise(config, changes, by)
    return config
