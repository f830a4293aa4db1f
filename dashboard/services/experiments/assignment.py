"""Which variant a shopper is in: a deterministic hash, identical in every process, sticky for the experiment.

``bucket = SHA-256(salt ":" unit) mod 10 000``; the variants own consecutive ranges of buckets in their
order (a share of 12.5 % is 1 250 buckets) and the hold-out the top of the range. The unit is the shopper id
(``shopper:<id>``) or, for a guest, the session id (``session:<id>``). Shares cannot change while an
experiment runs, so a shopper never changes variant; a new experiment has a new salt, so the split of one
experiment says nothing about another's (overlapping experiments on different surfaces are independent).

The serving path reads the running experiment of a surface at most every :data:`CACHE_TTL_S` seconds per
process (the same rule as the active version's cache); a start or stop in this process is seen at once.
Past its planned end (``ends_at``) a running experiment serves nobody: shoppers get the catalog's defaults.
"""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

from django.utils import timezone

from dashboard.models import (
    Catalog,
    Experiment,
    ExperimentState,
    ExperimentSurface,
    FusionConfig,
    ModelVersion,
    SearchSettings,
    Variant,
)

BUCKETS = 10_000
CACHE_TTL_S = 2.0

_LOCK = threading.Lock()
_RUNNING: dict[tuple[int, str], tuple[float, Running | None]] = {}


@dataclass(frozen=True)
class Arm:
    """One variant as the serving path needs it (plain rows, read once per cache refresh)."""

    label: str  # "<experiment key>:<variant name>", what the API's variant field says
    name: str
    is_control: bool
    allocation: float
    fusion_config: FusionConfig | None
    model_version: ModelVersion | None
    search_settings: SearchSettings | None


@dataclass(frozen=True)
class Running:
    """The running experiment of a surface."""

    experiment_id: int
    key: str
    salt: str
    arms: tuple[Arm, ...]


def unit_of(*, shopper: str = "", session: str = "") -> str:
    """The id a split is made on ("" when the request names neither a shopper nor a session)."""
    if shopper:
        return f"shopper:{shopper}"
    return f"session:{session}" if session else ""


def bucket(salt: str, unit: str) -> int:
    """The unit's bucket in ``[0, BUCKETS)`` (the same in every process and on every machine)."""
    digest = hashlib.sha256(f"{salt}:{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def choose(salt: str, unit: str, shares: list[tuple[str, float]]) -> str | None:
    """The name of the share (``(name, percent)`` in order) whose range holds the unit's bucket; None for the
    hold-out (the buckets past the last share)."""
    b = bucket(salt, unit)
    edge = 0
    for name, percent in shares:
        edge += round(percent * BUCKETS / 100)
        if b < edge:
            return name
    return None


def surface_of(api_surface: str) -> str:
    """The experiment surface of an API list: search, similar, complementary; anything else (the caller's
    own names such as ``home`` or ``cart``) is a recommendations list."""
    return api_surface if api_surface in ExperimentSurface.values else ExperimentSurface.RECOMMENDATIONS


def _load(catalog_id: int, surface: str) -> Running | None:
    experiment = Experiment.objects.filter(catalog_id=catalog_id, surface=surface,
                                           state=ExperimentState.RUNNING).first()
    if experiment is None or (experiment.ends_at is not None and experiment.ends_at <= timezone.now()):
        return None  # past its planned end, shoppers get the defaults until an operator stops or ships it
    variants = Variant.objects.filter(experiment=experiment).select_related(
        "fusion_config", "model_version", "search_settings").order_by("position", "pk")
    arms = tuple(Arm(f"{experiment.key}:{v.name}", v.name, v.is_control, v.allocation, v.fusion_config,
                     v.model_version, v.search_settings) for v in variants)
    return Running(experiment.pk, experiment.key, experiment.salt, arms)


def running(catalog: Catalog | int, surface: str, *, fresh: bool = False) -> Running | None:
    """The running experiment of ``surface`` (read again when older than :data:`CACHE_TTL_S`, or ``fresh``)."""
    catalog_id = catalog if isinstance(catalog, int) else catalog.pk
    key = (catalog_id, surface)
    now = time.monotonic()
    found = _RUNNING.get(key)
    if fresh or found is None or found[0] < now:
        value = _load(catalog_id, surface)
        with _LOCK:
            _RUNNING[key] = found = (now + CACHE_TTL_S, value)
    return found[1]


def cache_clear() -> None:
    """Forget the running experiments read by this process (after a start, stop or ship here)."""
    with _LOCK:
        _RUNNING.clear()


def arm_for(catalog: Catalog | int, surface: str, *, shopper: str = "", session: str = "",
            fresh: bool = False) -> Arm | None:
    """The variant that serves this shopper (or guest session) on ``surface``; None when no experiment runs
    there, the request names neither, or the unit is in the hold-out."""
    experiment = running(catalog, surface, fresh=fresh)
    unit = unit_of(shopper=shopper, session=session)
    if experiment is None or not unit:
        return None
    name = choose(experiment.salt, unit, [(a.name, a.allocation) for a in experiment.arms])
    return next((a for a in experiment.arms if a.name == name), None)


def experiment_version_keys() -> set[tuple[int, str]]:
    """``(version pk, artifact path)`` of every model version a running experiment serves (the serving cache
    keeps their bundles loaded next to the active ones)."""
    rows = Variant.objects.filter(experiment__state=ExperimentState.RUNNING, model_version__isnull=False)
    return set(rows.values_list("model_version_id", "model_version__artifact_path"))


def assignments_for(catalog: Catalog, *, shopper: str = "", session: str = "") -> list[dict[str, object]]:
    """The unit's variant in each running experiment of the catalog (the API's assignment answer)."""
    out: list[dict[str, object]] = []
    for surface in ExperimentSurface.values:
        experiment = running(catalog, surface)
        if experiment is None:
            continue
        arm = arm_for(catalog, surface, shopper=shopper, session=session)
        out.append({"experiment": experiment.key, "surface": surface, "variant": arm.label if arm else None,
                    "variant_name": arm.name if arm else None, "is_control": arm.is_control if arm else None,
                    "fusion_config": arm.fusion_config.name if arm and arm.fusion_config else "",
                    "model_version": arm.model_version.number if arm and arm.model_version else None,
                    "search_settings": arm.search_settings.name if arm and arm.search_settings else ""})
    return out
