"""A/B experiments: sticky assignment (:mod:`.assignment`), the lifecycle with its audit (:mod:`.lifecycle`),
attribution from the impression log (:mod:`.attribution`) and the results with their verdict (:mod:`.results`).
The statistics themselves live in :mod:`mlcore.experiments` (pure functions, shared with the benchmark)."""
from dashboard.services.experiments.assignment import Arm, arm_for, bucket, choose, surface_of, unit_of
from dashboard.services.experiments.lifecycle import (
    ExperimentError,
    VariantSpec,
    experiment_create,
    experiment_ship,
    experiment_start,
    experiment_stop,
    planned_sample_size,
)
from dashboard.services.experiments.results import Results, VariantResult, experiment_results

__all__ = [
    "Arm",
    "ExperimentError",
    "Results",
    "VariantResult",
    "VariantSpec",
    "arm_for",
    "bucket",
    "choose",
    "experiment_create",
    "experiment_results",
    "experiment_ship",
    "experiment_start",
    "experiment_stop",
    "planned_sample_size",
    "surface_of",
    "unit_of",
]
