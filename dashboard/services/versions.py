"""Model versions: register a job's bundle, promote a candidate (behind the offline gate), roll back.

At most one version per catalog is *active* (a partial unique constraint); switching runs
in one transaction with the catalog's versions locked, so serving (which reads the active
row) sees either the old or the new version, never none or two.

The gate compares like with like: a candidate whose NDCG@10 (``all`` slice, the fused ranking or the
single signal) is lower than the active version's *on the candidate's split* by more than
``settings.PROMOTION_MARGIN`` is refused. When both versions were evaluated on the same split of the same
data their stored figures are compared; otherwise the active version's recipe is re-scored on the
candidate's snapshot and split (:mod:`dashboard.services.gate`), so changing the split cannot pass a worse
candidate. When that re-score is impossible (a snapshot is gone) the candidate is refused too. Only an admin
may override a refusal, with a reason (recorded in the audit, action ``version.gate_override``).
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
from dashboard.models import Catalog, EvaluationReport, ModelVersion, TrainingJob, VersionState
from dashboard.services import access
from dashboard.services.audit import audit
from dashboard.services.gate import GateUnavailable, rescore_active, rescore_after_register, stored_rescore
from dashboard.services.search_index import index_catch_up_later
from mlcore.training.runner import FUSED, RunResult

HEADLINE = ("ndcg@10", "recall@10", "hit_rate@10", "mrr@10", "map@10", "coverage@10", "novelty@10",
            "diversity@10")


class PromotionError(ValueError):
    """The promotion or rollback is refused; the message says why and what to do."""


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
    transaction.on_commit(lambda: rescore_after_register(version.pk))
    return version


def _signal_configs(result: RunResult) -> dict[str, Any]:
    out = {}
    for name, model in result.models.items():
        cfg = model.config
        out[name] = dataclasses.asdict(cfg) if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type) else {}
    return out


def same_basis(candidate: ModelVersion, active: ModelVersion) -> bool:
    """Whether the stored figures of both versions come from the same split of the same data."""
    return (active.split == candidate.split and active.data_fingerprint == candidate.data_fingerprint
            and active.ndcg10 is not None)


def gate_prepare(candidate: ModelVersion, active: ModelVersion | None) -> None:
    """Re-score ``active`` on ``candidate``'s split unless it is done or not needed (outside any lock: this
    trains). Errors are left for :func:`_gate` to report."""
    if active is None or same_basis(candidate, active) or stored_rescore(candidate, active) is not None:
        return
    try:
        rescore_active(candidate=candidate, active=active)
    except GateUnavailable:
        pass


def _gate(candidate: ModelVersion, active: ModelVersion) -> dict[str, Any]:
    """The gate's verdict: ``passed``, ``comparable``, ``basis`` and the figures it compared."""
    margin = float(settings.PROMOTION_MARGIN)
    verdict: dict[str, Any] = {"margin": margin, "active": active.number, "candidate_ndcg@10": candidate.ndcg10,
                               "candidate_split": candidate.split, "active_split": active.split}
    if same_basis(candidate, active):
        verdict.update(basis="same split and data", active_ndcg=active.ndcg10)
    else:
        stored = stored_rescore(candidate, active)
        if stored is None:
            why = "its training snapshot or the active version's settings are gone"
            if candidate.job_id is not None and active.job_id is not None:
                try:
                    stored = rescore_active(candidate=candidate, active=active)
                except GateUnavailable as exc:
                    why = str(exc)
        if stored is None:
            verdict.update(passed=False, comparable=False, why=why, **{"active_ndcg@10": None})
            return verdict
        verdict.update(basis="active re-scored on the candidate's split", active_ndcg=stored["ndcg@10"])
    active_ndcg = verdict.pop("active_ndcg")
    verdict["active_ndcg@10"] = active_ndcg
    if candidate.ndcg10 is None or active_ndcg is None:
        verdict.update(passed=False, comparable=False, why="a version has no NDCG@10")
        return verdict
    verdict.update(comparable=True, passed=candidate.ndcg10 >= float(active_ndcg) - margin)
    return verdict


def _refusal(version: ModelVersion, active: ModelVersion, verdict: Mapping[str, Any]) -> str:
    if not verdict["comparable"]:
        return (f"version {version.number} cannot be compared with the active version {active.number} on the "
                f"same split ({verdict['why']}); train a new candidate, or an admin may override with a reason")
    where = "" if verdict["basis"] == "same split and data" else " re-scored on this version's split"
    return (f"version {version.number} scores NDCG@10 {version.ndcg10:.4f}, below the active version "
            f"{active.number}'s {verdict['active_ndcg@10']:.4f}{where} by more than the margin "
            f"{verdict['margin']}; train a better candidate, or an admin may override with a reason")


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


def version_promote(*, version: ModelVersion, by: Any, override_reason: str | None = None) -> ModelVersion:
    """Make ``version`` the catalog's active version, behind the offline gate (see the module doc).
    ``by``: the user (who must be an editor of the catalog) or None for the system."""
    access.require(by, version.catalog, "edit")
    current = ModelVersion.objects.filter(catalog_id=version.catalog_id, state=VersionState.ACTIVE).first()
    if current is not None and current.pk != version.pk:
        fresh = ModelVersion.objects.select_related("job").filter(pk=version.pk).first()
        if fresh is not None:
            gate_prepare(fresh, ModelVersion.objects.select_related("job").get(pk=current.pk))
    return _promote(version=version, by=by, override_reason=override_reason)


@transaction.atomic
def _promote(*, version: ModelVersion, by: Any, override_reason: str | None) -> ModelVersion:
    version, active = _locked(version)
    if version.state == VersionState.ACTIVE:
        raise PromotionError(f"version {version.number} is already active")
    detail: dict[str, Any] = {"version": version.number}
    if active is not None:
        verdict = _gate(version, active)
        detail["gate"] = verdict
        if not verdict["passed"]:
            reason = (override_reason or "").strip()
            if not reason or not roles.is_admin(by, catalog=version.catalog):
                raise PromotionError(_refusal(version, active, verdict))
            detail["override_reason"] = reason
            audit(actor=by, action="version.gate_override", catalog=version.catalog,
                  target=f"version {version.number}", detail={"reason": reason, "gate": verdict})
    previous = _switch(version, by)
    detail["previous"] = previous.number if previous else None
    audit(actor=by, action="version.promote", catalog=version.catalog, target=f"version {version.number}",
          detail=detail)
    index_catch_up_later(catalog_id=version.catalog_id)
    return version


@transaction.atomic
def version_rollback(*, catalog: Catalog, to_version: ModelVersion, by: Any) -> ModelVersion:
    """Make the earlier ``to_version`` active again (no gate); the current active one is retired."""
    access.require(by, catalog, "edit")
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
