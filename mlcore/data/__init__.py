"""Data: id maps, datasets, readers, cleaning and splits."""
from mlcore.data.dataset import DEFAULT_EVENT_WEIGHTS, Dataset
from mlcore.data.ids import IdMap

__all__ = ["DEFAULT_EVENT_WEIGHTS", "Dataset", "IdMap"]
