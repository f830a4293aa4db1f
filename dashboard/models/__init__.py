"""The dashboard's data model: catalogs, their products, shoppers and events, imports, training, fusion,
search settings and storefront access."""
from dashboard.models.access import Membership, MembershipRole
from dashboard.models.api import PUBLIC_SCOPES, ApiToken, Impression, Scope, TokenKind
from dashboard.models.autotune import AutoTuneRun, Decision
from dashboard.models.catalog import Catalog, Product, Shopper
from dashboard.models.events import Event, EventType
from dashboard.models.experiments import (
    Experiment,
    ExperimentMetric,
    ExperimentState,
    ExperimentSurface,
    Variant,
)
from dashboard.models.fusion import Fallback, FusionConfig, FusionConfigRevision, FusionMode
from dashboard.models.imports import (
    ColumnMapping,
    ImportBatch,
    ImportKind,
    ImportPolicy,
    ImportStatus,
    UnknownProducts,
)
from dashboard.models.online import OnlineState
from dashboard.models.search import SearchFusion, SearchMode, SearchSettings
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
    "PUBLIC_SCOPES",
    "ApiToken",
    "AuditEntry",
    "AutoTuneRun",
    "Catalog",
    "ColumnMapping",
    "Decision",
    "EvaluationReport",
    "Event",
    "EventType",
    "Experiment",
    "ExperimentState",
    "Fallback",
    "FusionMode",
    "FusionConfig",
    "FusionConfigRevision",
    "ImportBatch",
    "ImportKind",
    "ImportPolicy",
    "ImportStatus",
    "ExperimentMetric",
    "Membership",
    "MembershipRole",
    "OnlineState",
    "Impression",
    "JobQueue",
    "JobStatus",
    "ModelVersion",
    "Product",
    "Scope",
    "SearchFusion",
    "SearchMode",
    "SearchSettings",
    "Shopper",
    "ExperimentSurface",
    "TokenKind",
    "TrainingJob",
    "Variant",
    "UnknownProducts",
    "VersionState",
]
