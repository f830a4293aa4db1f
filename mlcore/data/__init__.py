"""Data: id maps, datasets, event types and weights, readers, cleaning and splits."""
from mlcore.data.cleaning import CleaningConfig, CleaningReport, clean_dataset, clean_events
from mlcore.data.dataset import IMAGE_COLUMN, MEDIA_COLUMNS, Dataset
from mlcore.data.events import DEFAULT_EVENT_WEIGHTS, EVENT_TYPES, UnknownEventType, event_weights, parse_event_weights
from mlcore.data.ids import IdMap
from mlcore.data.splits import Split, SplitSpec, leave_last_out, random_split, temporal_split

__all__ = [
    "DEFAULT_EVENT_WEIGHTS",
    "EVENT_TYPES",
    "IMAGE_COLUMN",
    "MEDIA_COLUMNS",
    "CleaningConfig",
    "CleaningReport",
    "Dataset",
    "IdMap",
    "Split",
    "SplitSpec",
    "UnknownEventType",
    "clean_dataset",
    "clean_events",
    "event_weights",
    "leave_last_out",
    "parse_event_weights",
    "random_split",
    "temporal_split",
]
