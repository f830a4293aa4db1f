"""Model versions: register a job's bundle, promote a candidate (behind the offline gate), roll back.

At most one version per catalog is *active* (a partial unique constraint); switching runs
in one transaction with the catalog's versions locked, so serving (which reads the active
row) sees either the old or the new version, never none or two.

The gate: a candidate whose NDCG@10 (``all`` slice, the fused ranking or the single signal)
is lower than the active version's by more than ``settings.PROMOTION_MARGIN`` on the same
split is refused, unless an admin gives a reason (recorded in the audit). Versions evaluated
on different splits are not comparable: promotion is then allowed and the audit says so.
A rollback returns to an earlier version the operator already trusted: no gate.

Registering, promoting or rolling back queues the search index catch-up (after the commit): a worker
adds the products imported while the version trained, so web processes never encode them.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from dashboard import roles
from dashboard.models import AuditEntry, Catalog, EvaluationReport, ModelVersion, TrainingJob, VersionState
from dashboard.services.search_index import index_catch_up_later
from mlcore.training.runner import FUSED, RunResult

HEADLINE = ("ndcg@10", "recall@10", "hit_rate@10", "mrr@10", "map@10", "coverage@10", "novelty@10",
            "diversity@10")


class PromotionError(ValueError):
    """The promotion or rollback is refused; the message says why and what to do."""


def audit(*, actor: Any, action: str, catalog: Catalog | None, target: str,
          detail: Mapping[str, Any] | None = None) -> AuditEntry:
    """Record who did what (``actor`` None: the system, e.g. the reaper or a schedule)."""
    return AuditEntry.objects.create(actor=actor if getattr(actor, "pk", None) else None, action=action,
                                     catalog=catalog, target=target, detail=dict(detail or {}))


def headline_metrics(report: Mapping[str, Any]) -> dict[str, Any]:
    """The headline figures of a report dict: the fused ranking's (or the single signal's) ``all`` slice."""
    by = report.get("metrics", {}).get("all", {})
    scorer = FUSED if FUSED in by else next(iter(by), None)
    values = by.get(scorer, {}) if scorer else {}
    out: dict[str, Any] = {k: float(values[k]) for k in HEADLINE if k in values}
    out["scorer"] = scorer
    return out


def split_label(split_spec: Mapping[str, Any], name: str) -> str:
    """A stable description of a split: the engine's name plus the spec that made it."""
    spec = ",".join(f"{k}={v}" for k, v in sorted(split_spec.items()))
    return f"{name} [{spec}]"[:200]


def version_register(*, job: TrainingJob, result: RunResult, folder: Path,
                     split_spec: Mapping[str, Any]) -> ModelVersion:
    """Register the bundle at ``folder`` as the catalog's next candidate (call inside a transaction)."""
    Catalog.objects.select_for_update().filter(pk=job.catalog_id).first()  # serialises the numbering
    number = (ModelVersion.objects.filter(catalog_id=job.catalog_id).aggregate(n=Max("number"))["n"] or 0) + 1
    report = result.report.to_dict()
    version = ModelVersion.objects.create(
        catalog_id=job.catalog_id, job=job, number=number, artifact_path=str(folder),
        metrics=headline_metrics(report), signals={name: spec for name, spec in _signal_configs(result).items()},
        fusion=result.fusion.to_dict(), data_fingerprint=result.fitted_on.fingerprint(),
        split=split_label(split_spec, result.split_name),
    )
    EvaluationReport.objects.create(
        version=version, report=report, timings=dict(result.timings),
        tuning=result.tuning.to_dict() if result.tuning else None,
    )
    index_catch_up_later(catalog_id=job.catalog_id)
    return version


def _signal_configs(result: RunResult) -> dict[str, Any]:
    out = {}
    for name, model in result.models.items():
        cfg = model.config
        out[name] = dataclasses.asdict(cfg) if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type) else {}
    return out


def _gate(candidate: ModelVersion, active: ModelVersion) -> dict[str, Any]:
    """The gate's verdict: ``passed`` and the figures it compared."""
    margin = float(settings.PROMOTION_MARGIN)
    verdict: dict[str, Any] = {"margin": margin, "active": active.number, "active_ndcg@10": active.ndcg10,
                               "candidate_ndcg@10": candidate.ndcg10}
    if active.split != candidate.split or active.ndcg10 is None or candidate.ndcg10 is None:
        verdict.update(passed=True, comparable=False)
        return verdict
    verdict.update(comparable=True, passed=candidate.ndcg10 >= active.ndcg10 - margin)
    return verdict


def _switch(version: ModelVersion, by: Any) -> ModelVersion | None:
    """Make ``version`` active and retire the current one (caller holds the locks)."""
    previous = ModelVersion.objects.filter(catalog_id=version.catalog_id, state=VersionState.ACTIVE).first()
    if previous is not None:
        previous.state = VersionState.RETIRED
        previous.save(update_fields=["state"])
    version.state = VersionState.ACTIVE
    version.promoted_at = timezone.now()
    version.promoted_by = by if getattr(by, "pk", None) else None
    version.save(update_fields=["state", "promoted_at", "promoted_by"])
    return previous


def _locked(version: ModelVersion) -> tuple[ModelVersion, ModelVersion | None]:
    rows = list(ModelVersion.objects.select_for_update().filter(catalog_id=version.catalog_id).order_by("pk"))
    current = next(v for v in rows if v.pk == version.pk)
    active = next((v for v in rows if v.state == VersionState.ACTIVE), None)
    if not Path(current.artifact_path, "meta.json").exists():
        raise PromotionError(f"version {current.number}'s artifacts are missing from {current.artifact_path}; "
                             "train a new version")
    return current, active


@transaction.atomic
def version_promote(*, version: ModelVersion, by: Any, override_reason: str | None = None) -> ModelVersion:
    """Make ``version`` the catalog's active version, behind the offline gate (see the module doc)."""
    version, active = _locked(version)
    if version.state == VersionState.ACTIVE:
        raise PromotionError(f"version {version.number} is already active")
    detail: dict[str, Any] = {"version": version.number}
    if active is not None:
        verdict = _gate(version, active)
        detail["gate"] = verdict
        if not verdict["passed"]:
            reason = (override_reason or "").strip()
            if not reason or not roles.is_admin(by):
                raise PromotionError(
                    f"version {version.number} scores NDCG@10 {version.ndcg10:.4f}, below the active version "
                    f"{active.number}'s {active.ndcg10:.4f} by more than the margin {verdict['margin']}; "
                    "train a better candidate, or an admin may override with a reason")
            detail["override_reason"] = reason
    previous = _switch(version, by)
    detail["previous"] = previous.number if previous else None
    audit(actor=by, action="version.promote", catalog=version.catalog, target=f"version {version.number}",
          detail=detail)
    index_catch_up_later(catalog_id=version.catalog_id)
    return version


@transaction.atomic
def version_rollback(*, catalog: Catalog, to_version: ModelVersion, by: Any) -> ModelVersion:
    """Make the earlier ``to_version`` active again (no gate); the current active one is retired."""
    if to_version.catalog_id != catalog.pk:
        raise PromotionError(f"version {to_version.number} belongs to another catalog")
    version, active = _locked(to_version)
    if active is None:
        raise PromotionError("no version is active: promote one instead of rolling back")
    if version.pk == active.pk:
        raise PromotionError(f"version {version.number} is already active")
    if version.number > active.number:
        raise PromotionError(f"version {version.number} is newer than the active {active.number}: promote it")
    previous = _switch(version, by)
    audit(actor=by, action="version.rollback", catalog=catalog, target=f"version {version.number}",
          detail={"version": version.number, "previous": previous.number if previous else None})
    index_catch_up_later(catalog_id=catalog.pk)
    return version
