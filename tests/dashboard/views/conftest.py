"""Fixtures shared by the fusion page tests."""
from __future__ import annotations

import pytest

from dashboard.services import serving
from dashboard.services.fusion import fusion_config_create
from tests.dashboard.fusion_data import FUSION_WEIGHTS, build_bundle, mirror


@pytest.fixture(scope="module")
def fusion_bundle(tmp_path_factory):
    return build_bundle(tmp_path_factory.mktemp("fusion-views") / "bundle")


@pytest.fixture
def fusion_config(catalog, fusion_bundle, merchandiser):
    """The catalog mirroring a small trained bundle, with a default fusion config (:data:`FUSION_WEIGHTS`)."""
    serving.clear_cache()
    mirror(catalog, fusion_bundle)
    return fusion_config_create(catalog=catalog, by=merchandiser, name="Default", weights=FUSION_WEIGHTS,
                                is_default=True)
