"""The promotion gate's like-with-like comparison: the active version's recipe re-scored on the candidate's split.

A version's NDCG@10 says how it did on *its own* split of *its own* snapshot. Two versions trained on
different splits (``test_days=7`` against ``test_days=29``) or different data are not comparable, so before a
promotion the active version's recipe — its signals with their settings, its event weights and its fusion
weights — is fitted again on the candidate's snapshot with the candidate's split and evaluated on the
candidate's test window. The two figures then come from the same users, items and truth.

The result is stored on the candidate (``metrics["gate"]``, keyed by the active version's pk) so a promotion
after training (the worker computes it right after registering) costs nothing; when the active version
changed since, the promotion computes it again.
"""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from django.conf import settings

from dashboard.models import ModelVersion
from dashboard.services.training_snapshot import TrainingInputError, parse_params, snapshot_read
from mlcore.data import Dataset, clean_dataset
from mlcore.recommenders import get as get_recommender
from mlcore.training.runner import FUSED, RunConfig, SignalSpec, run

log = logging.getLogger(__name__)


class GateUnavailable(LookupError):
    """The active version cannot be re-scored on the candidate's split; the message says why."""


def snapshot_folder(version: ModelVersion) -> Path | None:
    """The Parquet snapshot the version's job trained on (None: the job is gone)."""
    return Path(settings.ARTIFACTS_DIR) / "jobs" / str(version.job_id) if version.job_id else None


def _specs(params: dict[str, Any]) -> tuple[SignalSpec, ...]:
    """The recipe's signals on the CPU (a re-score never needs the GPU queue)."""
    configs = dict(params.get("configs") or {})
    out = []
    for name in params.get("signals") or []:
        overrides = dict(configs.get(name) or {})
        fields = {f.name for f in dataclasses.fields(get_recommender(name).Config)}
        if "device" in fields:
            overrides["device"] = "cpu"
        if "cache_dir" in fields and "cache_dir" not in overrides:
            overrides["cache_dir"] = str(Path(settings.ARTIFACTS_DIR) / "cache" / "embeddings")
        out.append(SignalSpec.parse(name, overrides))
    return tuple(out)


def stored_rescore(candidate: ModelVersion, active: ModelVersion) -> dict[str, Any] | None:
    """The re-score of ``active`` already stored on ``candidate`` (None when missing or for another version)."""
    gate = candidate.metrics.get("gate") if isinstance(candidate.metrics, dict) else None
    if isinstance(gate, dict) and gate.get("active_pk") == active.pk and gate.get("ndcg@10") is not None:
        return gate
    return None


def rescore_active(*, candidate: ModelVersion, active: ModelVersion) -> dict[str, Any]:
    """Fit ``active``'s recipe on ``candidate``'s snapshot and split; its headline figures on that test window.

    Returns ``{"active_pk", "active": number, "split", "ndcg@10", "scorer"}`` and stores it on the candidate.
    :class:`GateUnavailable` when a snapshot or a recipe is gone.
    """
    from dashboard.services.versions import headline_metrics

    folder = snapshot_folder(candidate)
    if folder is None or not folder.is_dir() or candidate.job is None:
        raise GateUnavailable(f"version {candidate.number}'s training snapshot is gone")
    if active.job is None or not active.job.params.get("signals"):
        raise GateUnavailable(f"version {active.number}'s training settings are gone")
    try:
        checked_candidate = parse_params({**candidate.job.params, "configs": {}})
        checked_active = parse_params({**active.job.params, "configs": {}})
        specs = _specs(active.job.params)
    except (TrainingInputError, KeyError, ValueError) as exc:
        raise GateUnavailable(f"version {active.number}'s settings no longer parse: {exc}") from None
    events, products = snapshot_read(folder)
    data, _report = clean_dataset(Dataset.from_frames(events, products, event_weights=checked_active.event_weights))
    split = checked_candidate.split.make(data)
    fusion = active.fusion or {}
    weights = fusion.get("weights") if len(specs) > 1 else None
    config = RunConfig(signals=specs, ks=checked_candidate.ks, ablation=False,
                       weights={s.name: float((weights or {}).get(s.name, 1.0)) for s in specs} if weights else None,
                       tune=False, normalization=fusion.get("normalization") or "rank",
                       learned=fusion.get("mode") == "learned")
    result = run(data, split, config)
    figures = headline_metrics(result.report.to_dict())
    gate = {"active_pk": active.pk, "active": active.number, "split": candidate.split,
            "ndcg@10": figures.get("ndcg@10"), "scorer": figures.get("scorer") or FUSED}
    metrics = dict(candidate.metrics or {})
    metrics["gate"] = gate
    ModelVersion.objects.filter(pk=candidate.pk).update(metrics=metrics)
    candidate.metrics = metrics
    return gate


def rescore_after_register(version_pk: int) -> None:
    """After a version is registered (in the worker): re-score the active version on its split, so the
    promotion page and auto-promotion find the comparison ready. A failure only logs: promotion retries."""
    from dashboard.models import VersionState

    version = ModelVersion.objects.select_related("job").filter(pk=version_pk).first()
    if version is None:
        return
    active = (ModelVersion.objects.select_related("job")
              .filter(catalog_id=version.catalog_id, state=VersionState.ACTIVE).first())
    if active is None or active.pk == version.pk:
        return
    try:
        rescore_active(candidate=version, active=active)
    except Exception:  # the promotion computes it again (and says why it cannot)
        log.exception("could not re-score version %s on version %s's split", active.number, version.number)
