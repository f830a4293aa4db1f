"""Promotion behind the offline gate, admin overrides, and rollbacks."""
from __future__ import annotations

import pytest

from dashboard.models import AuditEntry, ModelVersion, VersionState
from dashboard.services.versions import PromotionError, version_promote, version_rollback
from tests.factories import CatalogFactory

SPLIT = "temporal:2011-11-10 [kind=temporal,test_days=20,validation_days=15]"


@pytest.fixture(autouse=True)
def _margin(settings):
    settings.PROMOTION_MARGIN = 0.01


def make_version(catalog, tmp_path, number: int, ndcg: float, *, split: str = SPLIT,
                 state: str = VersionState.CANDIDATE) -> ModelVersion:
    folder = tmp_path / f"v{number}"
    folder.mkdir()
    (folder / "meta.json").write_text("{}")
    return ModelVersion.objects.create(catalog=catalog, number=number, artifact_path=str(folder), state=state,
                                       metrics={"ndcg@10": ndcg, "scorer": "fused"}, data_fingerprint="f",
                                       split=split)


def states(catalog) -> dict[int, str]:
    return dict(ModelVersion.objects.filter(catalog=catalog).values_list("number", "state"))


def test_promoting_the_first_version_makes_it_active(catalog, merchandiser, tmp_path):
    v1 = make_version(catalog, tmp_path, 1, 0.2)
    version_promote(version=v1, by=merchandiser)
    v1.refresh_from_db()
    assert v1.state == VersionState.ACTIVE and v1.promoted_by == merchandiser and v1.promoted_at
    assert AuditEntry.objects.get(action="version.promote").actor == merchandiser


def test_a_better_candidate_retires_the_active_version(catalog, merchandiser, tmp_path):
    make_version(catalog, tmp_path, 1, 0.20, state=VersionState.ACTIVE)
    v2 = make_version(catalog, tmp_path, 2, 0.195)  # within the margin
    version_promote(version=v2, by=merchandiser)
    assert states(catalog) == {1: VersionState.RETIRED, 2: VersionState.ACTIVE}


def test_the_gate_refuses_a_clearly_worse_candidate_on_the_same_split(catalog, merchandiser, tmp_path):
    make_version(catalog, tmp_path, 1, 0.20, state=VersionState.ACTIVE)
    v2 = make_version(catalog, tmp_path, 2, 0.15)
    with pytest.raises(PromotionError, match=r"NDCG@10 0.1500, below the active version 1's 0.2000"):
        version_promote(version=v2, by=merchandiser, override_reason="I like it")  # not an admin
    assert states(catalog) == {1: VersionState.ACTIVE, 2: VersionState.CANDIDATE}


def test_an_admin_may_override_the_gate_with_a_reason_that_is_audited(catalog, admin_user, tmp_path):
    make_version(catalog, tmp_path, 1, 0.20, state=VersionState.ACTIVE)
    v2 = make_version(catalog, tmp_path, 2, 0.15)
    with pytest.raises(PromotionError):
        version_promote(version=v2, by=admin_user, override_reason="  ")
    version_promote(version=v2, by=admin_user, override_reason="new season's catalogue")
    assert states(catalog) == {1: VersionState.RETIRED, 2: VersionState.ACTIVE}
    entry = AuditEntry.objects.get(action="version.promote")
    assert entry.detail["override_reason"] == "new season's catalogue" and entry.detail["gate"]["passed"] is False


def test_a_worse_candidate_on_another_split_is_refused_when_the_active_cannot_be_rescored(catalog, merchandiser,
                                                                                           tmp_path):
    make_version(catalog, tmp_path, 1, 0.20, state=VersionState.ACTIVE)
    v2 = make_version(catalog, tmp_path, 2, 0.05, split="random:0.8:0.1:0.1:0 [kind=random]")
    with pytest.raises(PromotionError, match="cannot be compared with the active version 1 on the same split"):
        version_promote(version=v2, by=merchandiser)
    assert states(catalog) == {1: VersionState.ACTIVE, 2: VersionState.CANDIDATE}


def test_only_an_admin_overrides_an_incomparable_gate_and_the_override_is_audited(catalog, merchandiser,
                                                                                   admin_user, tmp_path):
    make_version(catalog, tmp_path, 1, 0.20, state=VersionState.ACTIVE)
    v2 = make_version(catalog, tmp_path, 2, 0.05, split="random:0.8:0.1:0.1:0 [kind=random]")
    with pytest.raises(PromotionError):
        version_promote(version=v2, by=merchandiser, override_reason="trust me")
    version_promote(version=v2, by=admin_user, override_reason="new catalogue, old split is meaningless")
    override = AuditEntry.objects.get(action="version.gate_override")
    assert override.actor == admin_user and override.detail["gate"]["comparable"] is False
    assert override.detail["reason"] == "new catalogue, old split is meaningless"


def test_a_version_whose_artifacts_are_gone_cannot_be_promoted(catalog, merchandiser, tmp_path):
    v1 = make_version(catalog, tmp_path, 1, 0.2)
    (tmp_path / "v1" / "meta.json").unlink()
    with pytest.raises(PromotionError, match="artifacts are missing"):
        version_promote(version=v1, by=merchandiser)


def test_rolling_back_reactivates_an_earlier_version(catalog, merchandiser, tmp_path):
    v1 = make_version(catalog, tmp_path, 1, 0.20, state=VersionState.RETIRED)
    make_version(catalog, tmp_path, 2, 0.25, state=VersionState.ACTIVE)
    v3 = make_version(catalog, tmp_path, 3, 0.30)
    version_rollback(catalog=catalog, to_version=v1, by=merchandiser)
    assert states(catalog) == {1: VersionState.ACTIVE, 2: VersionState.RETIRED, 3: VersionState.CANDIDATE}
    with pytest.raises(PromotionError, match="newer than the active 1: promote it"):
        version_rollback(catalog=catalog, to_version=v3, by=merchandiser)
    with pytest.raises(PromotionError, match="already active"):
        version_rollback(catalog=catalog, to_version=v1, by=merchandiser)
    assert AuditEntry.objects.filter(action="version.rollback", actor=merchandiser).count() == 1


def test_a_rollback_needs_an_active_version_of_the_same_catalog(catalog, merchandiser, tmp_path):
    v1 = make_version(catalog, tmp_path, 1, 0.20)
    with pytest.raises(PromotionError, match="no version is active"):
        version_rollback(catalog=catalog, to_version=v1, by=merchandiser)
    with pytest.raises(PromotionError, match="another catalog"):
        version_rollback(catalog=CatalogFactory.create(), to_version=v1, by=merchandiser)
