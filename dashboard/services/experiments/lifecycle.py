"""Experiments' lifecycle: create (with the power calculation), start, stop, ship the winner — each audited.

draft → running → stopped → shipped (a running experiment may be shipped directly: it is stopped first).
Only one experiment runs per surface of a catalog (a partial unique constraint backs the check); experiments
on different surfaces may overlap. Shipping promotes what the winning variant serves: its model version
through the same offline gate as a training job's (:func:`dashboard.services.versions.version_promote`;
an admin may override a refusal with a reason), its fusion config or search settings as the catalog's
default. Nothing changes when the gate refuses.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from dashboard.models import (
    Catalog,
    Experiment,
    ExperimentMetric,
    ExperimentState,
    ExperimentSurface,
    FusionConfig,
    ModelVersion,
    SearchSettings,
    Variant,
    VersionState,
)
from dashboard.services.audit import audit
from dashboard.services.experiments.assignment import cache_clear
from dashboard.services.fusion import fusion_config_update
from dashboard.services.versions import PromotionError, version_promote
from mlcore.experiments import sample_size_per_variant

# The planned sample size grows by this factor for the sequential (O'Brien–Fleming-type) bound, which spends
# its α over the looks: about 1.03–1.04 for 5–20 looks at α = 0.05 and 80 % power (Jennison & Turnbull, table 2.3).
SEQUENTIAL_INFLATION = 1.04
METRIC_KIND = {ExperimentMetric.CTR: "proportion", ExperimentMetric.CONVERSION: "proportion",
               ExperimentMetric.REVENUE: "mean"}


class ExperimentError(ValueError):
    """The experiment cannot be created or changed so; the message names the field or state and the fix."""


@dataclass(frozen=True)
class VariantSpec:
    """One variant to create: its name, share of the traffic (percent) and what it serves."""

    name: str
    allocation: float
    is_control: bool = False
    fusion_config: FusionConfig | None = None
    model_version: ModelVersion | None = None
    search_settings: SearchSettings | None = None


def planned_sample_size(*, metric: str, baseline: float, mde: float, alpha: float = 0.05, power: float = 0.8,
                        sd: float | None = None) -> int:
    """Shoppers per variant for the primary metric (the fixed-horizon size × :data:`SEQUENTIAL_INFLATION`)."""
    try:
        n = sample_size_per_variant(baseline=baseline, mde=mde, kind=METRIC_KIND[ExperimentMetric(metric)], sd=sd,
                                    alpha=alpha, power=power)
    except ValueError as exc:
        raise ExperimentError(_("minimum detectable effect: %(why)s") % {"why": exc}) from None
    return int(math.ceil(n * SEQUENTIAL_INFLATION))


def _check_variants(catalog: Catalog, surface: str, variants: Sequence[VariantSpec], holdout: float) -> None:
    if len(variants) < 2:
        raise ExperimentError(_("variants: an experiment needs a control and at least one other variant"))
    names = [v.name.strip() for v in variants]
    if any(not n for n in names) or len(set(names)) != len(names):
        raise ExperimentError(_("variants: give every variant a different, non-empty name"))
    if sum(v.is_control for v in variants) != 1:
        raise ExperimentError(_("variants: mark exactly one variant as the control"))
    if any(v.allocation <= 0 for v in variants):
        raise ExperimentError(_("variants: every variant needs a traffic share above 0 %"))
    total = sum(v.allocation for v in variants) + holdout
    if abs(total - 100) > 0.01:
        raise ExperimentError(_("traffic: the variants' shares plus the hold-out make %(total)s %%, not 100 %%")
                              % {"total": f"{total:g}"})
    for v in variants:
        owned = [o for o in (v.fusion_config, v.model_version, v.search_settings) if o is not None]
        if any(o.catalog_id != catalog.pk for o in owned):
            raise ExperimentError(_("variant %(name)s: its settings belong to another catalog") % {"name": v.name})
        if surface == ExperimentSurface.SEARCH and (v.fusion_config or v.model_version):
            raise ExperimentError(_("variant %(name)s: a search experiment compares search settings; choose "
                                    "search settings instead") % {"name": v.name})
        if surface != ExperimentSurface.SEARCH and v.search_settings is not None:
            raise ExperimentError(_("variant %(name)s: search settings apply to the search surface only")
                                  % {"name": v.name})
        if surface in (ExperimentSurface.SIMILAR, ExperimentSurface.COMPLEMENTARY) and v.fusion_config:
            raise ExperimentError(_("variant %(name)s: related items use a model version, not a fusion config")
                                  % {"name": v.name})


@transaction.atomic
def experiment_create(*, catalog: Catalog, name: str, variants: Sequence[VariantSpec], by: Any,
                      surface: str = ExperimentSurface.RECOMMENDATIONS, key: str = "",
                      primary_metric: str = ExperimentMetric.CTR, guardrails: Sequence[str] = (),
                      guardrail_tolerance: float = 0.02, holdout_percent: float = 0.0, mde: float = 0.05,
                      baseline: float = 0.05, baseline_sd: float | None = None, alpha: float = 0.05,
                      power: float = 0.8, attribution_hours: int = 24, starts_at: Any = None,
                      ends_at: Any = None) -> Experiment:
    """A draft experiment with its variants; its planned sample size from the power calculation."""
    name = name.strip()
    if not name:
        raise ExperimentError(_("name: give the experiment a name"))
    if surface not in ExperimentSurface.values:
        raise ExperimentError(_("surface: choose one of %(s)s") % {"s": ", ".join(ExperimentSurface.values)})
    if primary_metric not in ExperimentMetric.values:
        raise ExperimentError(_("primary metric: choose one of %(m)s") % {"m": ", ".join(ExperimentMetric.values)})
    bad = [g for g in guardrails if g not in ExperimentMetric.values]
    if bad:
        raise ExperimentError(_("guardrails: %(bad)s is not a metric; use %(m)s")
                              % {"bad": ", ".join(bad), "m": ", ".join(ExperimentMetric.values)})
    if not 0 <= holdout_percent < 100:
        raise ExperimentError(_("hold-out: give a share from 0 to 99 %"))
    if not 0 < alpha < 0.5 or not 0.5 <= power < 1:
        raise ExperimentError(_("significance level must lie in (0, 0.5) and power in [0.5, 1)"))
    if ends_at and starts_at and ends_at <= starts_at:
        raise ExperimentError(_("schedule: the planned end must come after the planned start"))
    _check_variants(catalog, surface, variants, holdout_percent)
    key = slugify(key or name)[:60] or "experiment"
    if Experiment.objects.filter(catalog=catalog, key=key).exists():
        raise ExperimentError(_("key: an experiment with the key “%(key)s” exists; choose another name or key")
                              % {"key": key})
    size = planned_sample_size(metric=primary_metric, baseline=baseline, mde=mde, alpha=alpha, power=power,
                               sd=baseline_sd)
    experiment = Experiment.objects.create(
        catalog=catalog, name=name[:200], key=key, surface=surface, primary_metric=primary_metric,
        guardrails=[g for g in guardrails if g != primary_metric], guardrail_tolerance=guardrail_tolerance,
        holdout_percent=holdout_percent, mde=mde, baseline=baseline, alpha=alpha, power=power, sample_size=size,
        attribution_hours=attribution_hours, starts_at=starts_at, ends_at=ends_at,
        created_by=by if getattr(by, "pk", None) else None)
    Variant.objects.bulk_create(
        Variant(experiment=experiment, name=v.name.strip()[:40], is_control=v.is_control, allocation=v.allocation,
                fusion_config=v.fusion_config, model_version=v.model_version, search_settings=v.search_settings,
                position=i) for i, v in enumerate(variants))
    audit(actor=by, action="experiment.create", catalog=catalog, target=f"experiment {key}",
          detail={"surface": surface, "metric": primary_metric, "sample_size": size,
                  "variants": {v.name: v.allocation for v in variants}, "holdout": holdout_percent})
    return experiment


def _locked(experiment: Experiment) -> Experiment:
    return Experiment.objects.select_for_update().get(pk=experiment.pk)


@transaction.atomic
def experiment_start(*, experiment: Experiment, by: Any) -> Experiment:
    """draft → running; refused while another experiment runs on the same surface of the catalog."""
    exp = _locked(experiment)
    if exp.state != ExperimentState.DRAFT:
        raise ExperimentError(_("only a draft can start; this experiment is %(state)s") % {"state": exp.state})
    other = (Experiment.objects.filter(catalog_id=exp.catalog_id, surface=exp.surface, state=ExperimentState.RUNNING)
             .exclude(pk=exp.pk).first())
    if other is not None:
        raise ExperimentError(_("“%(other)s” already runs on the %(surface)s surface; stop it first (experiments "
                                "on different surfaces may overlap)") % {"other": other.name, "surface": exp.surface})
    exp.state = ExperimentState.RUNNING
    exp.started_at = timezone.now()
    try:
        with transaction.atomic():
            exp.save(update_fields=["state", "started_at"])
    except IntegrityError:  # started in another process between the check and the save
        raise ExperimentError(_("another experiment started on the %(surface)s surface just now; stop it first")
                              % {"surface": exp.surface}) from None
    audit(actor=by, action="experiment.start", catalog=exp.catalog, target=f"experiment {exp.key}")
    cache_clear()  # this process at once; again after the commit (a read in between cached the old state)
    transaction.on_commit(cache_clear)
    return exp


@transaction.atomic
def experiment_stop(*, experiment: Experiment, by: Any) -> Experiment:
    """running → stopped: every shopper gets the catalog's defaults again; the results stay."""
    exp = _locked(experiment)
    if exp.state != ExperimentState.RUNNING:
        raise ExperimentError(_("only a running experiment can stop; this one is %(state)s") % {"state": exp.state})
    exp.state = ExperimentState.STOPPED
    exp.stopped_at = timezone.now()
    exp.save(update_fields=["state", "stopped_at"])
    audit(actor=by, action="experiment.stop", catalog=exp.catalog, target=f"experiment {exp.key}")
    cache_clear()  # this process at once; again after the commit (a read in between cached the old state)
    transaction.on_commit(cache_clear)
    return exp


def experiment_ship(*, experiment: Experiment, variant: Variant, by: Any, override_reason: str | None = None) -> Experiment:
    """Promote what ``variant`` serves and mark the experiment shipped (stopping it first when it runs).

    The model version goes through the promotion gate (:class:`ExperimentError` with the gate's reason when
    refused, nothing changed); the fusion config or search settings become the catalog's default.
    """
    exp = Experiment.objects.get(pk=experiment.pk)
    if variant.experiment_id != exp.pk:
        raise ExperimentError(_("variant %(name)s belongs to another experiment") % {"name": variant.name})
    if exp.state not in (ExperimentState.RUNNING, ExperimentState.STOPPED):
        raise ExperimentError(_("only a running or stopped experiment can ship; this one is %(state)s")
                              % {"state": exp.state})
    promoted: dict[str, Any] = {}
    version = variant.model_version
    if version is not None and version.state != VersionState.ACTIVE:
        try:
            version_promote(version=version, by=by, override_reason=override_reason)
        except PromotionError as exc:
            raise ExperimentError(_("the promotion gate refused variant %(name)s: %(why)s")
                                  % {"name": variant.name, "why": exc}) from None
        promoted["model_version"] = version.number
    with transaction.atomic():
        exp = _locked(exp)
        if variant.fusion_config is not None and not variant.fusion_config.is_default:
            fusion_config_update(config=variant.fusion_config, by=by, is_default=True)
            promoted["fusion_config"] = variant.fusion_config.name
        settings = variant.search_settings
        if settings is not None and not settings.is_default:
            SearchSettings.objects.filter(catalog_id=exp.catalog_id, is_default=True).update(is_default=False)
            SearchSettings.objects.filter(pk=settings.pk).update(is_default=True)
            promoted["search_settings"] = settings.name
        now = timezone.now()
        if exp.state == ExperimentState.RUNNING:
            exp.stopped_at = now
        exp.state = ExperimentState.SHIPPED
        exp.shipped_at = now
        exp.shipped_variant = variant
        exp.save(update_fields=["state", "stopped_at", "shipped_at", "shipped_variant"])
        audit(actor=by, action="experiment.ship", catalog=exp.catalog, target=f"experiment {exp.key}",
              detail={"variant": variant.name, "promoted": promoted,
                      **({"override_reason": override_reason} if override_reason else {})})
        cache_clear()  # this process at once; again after the commit (a read in between cached the old state)
    transaction.on_commit(cache_clear)
    return exp
