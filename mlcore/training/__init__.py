"""Training support: progress callbacks, cancellation, device choice."""
from mlcore.training.callback import Callback, Cancelled, NullCallback
from mlcore.training.device import pick_device

__all__ = ["Callback", "Cancelled", "NullCallback", "pick_device"]
