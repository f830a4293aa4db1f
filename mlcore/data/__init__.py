"""Data: id maps, datasets, readers, cleaning and splits."""
from mlcore.data.cleaning import CleaningConfig, CleaningReport, clean_dataset, clean_events
from mlcore.data.dataset import DEFAULT_EVENT_WEIGHTS, Dataset
from mlcore.data.ids import IdMap
from mlcore.data.splits import Split, leave_last_out, random_split, temporal_split

__all__ = [
    "DEFAULT_EVENT_WEIGHTS",
    "CleaningConfig",
    "CleaningReport",
    "Dataset",
    "IdMap",
    "Split",
    "clean_dataset",
    "clean_events",
    "leave_last_out",
    "random_split",
    "temporal_split",
]
