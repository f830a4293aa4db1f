"""Runtime support shared by every engine package: progress callbacks, cancellation, device choice, data parallelism.

It imports nothing else from mlcore, so recommenders, text models and the training runner can all use it.
"""
from mlcore.runtime.callback import Callback, Cancelled, NullCallback
from mlcore.runtime.device import pick_device

__all__ = ["Callback", "Cancelled", "NullCallback", "pick_device"]
