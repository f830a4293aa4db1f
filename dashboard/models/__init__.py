"""The dashboard's data model: catalogs, their products, shoppers and events, and imports."""
from dashboard.models.catalog import Catalog, Product, Shopper
from dashboard.models.events import Event, EventType
from dashboard.models.fusion import Fallback, FusionConfig, FusionConfigRevision
from dashboard.models.imports import ColumnMapping, ImportBatch, ImportKind, ImportPolicy, ImportStatus
from dashboard.models.training import (
    AuditEntry,
    EvaluationReport,
    JobQueue,
    JobStatus,
    ModelVersion,
    TrainingJob,
    VersionState,
)

__all__ = [
    "AuditEntry",
    "EvaluationReport",
    "JobQueue",
    "JobStatus",
    "ModelVersion",
    "TrainingJob",
    "VersionState",
    "Catalog",
    "ColumnMapping",
    "Event",
    "EventType",
    "ImportBatch",
    "ImportKind",
    "ImportPolicy",
    "ImportStatus",
    "Product",
    "Shopper",
    "Fallback",
    "FusionConfig",
    "FusionConfigRevision",
]
from dashboard.models.search import SearchFusion, SearchMode, SearchSettings  # noqa: E402

__all__ += ["SearchFusion", "SearchMode", "SearchSettings"]
from dashboard.models.autotune import AutoTuneRun, Decision  # noqa: E402

__all__ += ["AutoTuneRun", "Decision"]
