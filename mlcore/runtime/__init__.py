"""Runtime support shared by every engine package: progress callbacks, cancellation, device choice, data parallelism.

It imports nothing else from mlcore, so recommenders, text models and the training runner can all use it.
``pick_device`` (and the ``device`` and ``distributed`` modules) load torch on first use only, so code that
needs only callbacks (the site's services) does not pay torch's half a gigabyte.
"""
from typing import Any

from mlcore.runtime.callback import Callback, Cancelled, NullCallback


def __getattr__(name: str) -> Any:
    if name == "pick_device":
        from mlcore.runtime.device import pick_device

        return pick_device
    if name in ("device", "distributed"):
        import importlib

        return importlib.import_module(f"mlcore.runtime.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Callback", "Cancelled", "NullCallback", "pick_device"]
