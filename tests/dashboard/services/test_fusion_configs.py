"""Fusion configs are validated against the active version and every change leaves a revision."""
from __future__ import annotations

import pytest

from dashboard.models import FusionConfig, ModelVersion, VersionState
from dashboard.services.fusion import FusionConfigError, fusion_config_create, fusion_config_update, parse_settings

WEIGHTS = {"popularity": 0.2, "ease": 1.0}


@pytest.fixture
def version(catalog, tmp_path):
    return ModelVersion.objects.create(catalog=catalog, number=1, artifact_path=str(tmp_path), state=VersionState.ACTIVE,
                                       signals={"popularity": {}, "ease": {}}, data_fingerprint="f", split="t")


def test_creating_a_config_records_a_first_revision(catalog, merchandiser, version):
    config = fusion_config_create(catalog=catalog, by=merchandiser, name="Default", weights=WEIGHTS, is_default=True)
    assert config.created_by == merchandiser and config.is_default and config.pool_size == 200
    revision = config.revisions.get()
    assert revision.number == 1 and revision.by == merchandiser and revision.changes["weights"] == [None, WEIGHTS]


def test_an_update_records_only_what_changed_and_who_changed_it(catalog, merchandiser, admin_user, version):
    config = fusion_config_create(catalog=catalog, by=merchandiser, name="Default", weights=WEIGHTS)
    fusion_config_update(config=config, by=admin_user, weights={"popularity": 0.5, "ease": 1.0}, diversity=0.7)
    latest = config.revisions.first()
    assert latest is not None
    assert latest.number == 2 and latest.by == admin_user
    assert latest.changes == {"weights": [WEIGHTS, {"popularity": 0.5, "ease": 1.0}], "diversity": [None, 0.7]}
    fusion_config_update(config=config, by=admin_user, diversity=0.7)  # no change, no revision
    assert config.revisions.count() == 2


def test_it_rejects_a_signal_the_active_version_does_not_have(catalog, merchandiser, version):
    with pytest.raises(FusionConfigError, match=r"signal 'text' is not in the active version; signals are: ease, pop"):
        fusion_config_create(catalog=catalog, by=merchandiser, name="X", weights={"text": 1.0})
    assert not FusionConfig.objects.exists()


def test_it_names_the_rule_and_field_that_is_wrong(catalog, merchandiser, version):
    rules = [{"kind": "in_stock"}, {"kind": "boost", "column": "brand", "value": "Acme", "factor": 0.5}]
    with pytest.raises(FusionConfigError, match=r"rule 2 \(boost\): boost factor must be > 1"):
        fusion_config_create(catalog=catalog, by=merchandiser, name="X", weights=WEIGHTS, rules=rules)
    with pytest.raises(FusionConfigError, match=r"rule 1 \(pin\): .*position"):
        fusion_config_create(catalog=catalog, by=merchandiser, name="X", weights=WEIGHTS,
                             rules=[{"kind": "pin", "item_id": "P1"}])


def test_a_failed_update_leaves_the_stored_config_untouched(catalog, merchandiser, version):
    config = fusion_config_create(catalog=catalog, by=merchandiser, name="Default", weights=WEIGHTS)
    with pytest.raises(FusionConfigError, match="diversity: must be between 0 and 1"):
        fusion_config_update(config=config, by=merchandiser, weights={"ease": 2.0}, diversity=3)
    config.refresh_from_db()
    assert config.weights == WEIGHTS and config.revisions.count() == 1


def test_only_one_config_per_catalog_is_the_default(catalog, merchandiser, version):
    a = fusion_config_create(catalog=catalog, by=merchandiser, name="A", weights=WEIGHTS, is_default=True)
    b = fusion_config_create(catalog=catalog, by=merchandiser, name="B", weights=WEIGHTS, is_default=True)
    a.refresh_from_db()
    assert not a.is_default and b.is_default


def test_settings_parse_without_a_database():
    s = parse_settings({"weights": {"ease": "1.5"}, "normalization": "minmax", "pool_size": "50", "diversity": ""})
    assert dict(s.fusion.weights) == {"ease": 1.5} and s.pool_size == 50 and s.diversity is None
    with pytest.raises(FusionConfigError, match="at least one signal needs a weight above 0"):
        parse_settings({"weights": {"ease": 0}})
