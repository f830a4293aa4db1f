"""Progress reporting and cooperative cancellation for long work.

Engines call ``callback.progress(...)`` as they go and ``callback.check()`` at
safe points; the dashboard's service layer subclasses :class:`Callback` to write
progress to a job row and to ask the row whether the operator cancelled.
"""
from __future__ import annotations

import logging

log = logging.getLogger("mlcore")


class Cancelled(Exception):
    """Raised at a safe point when the callback asks to stop."""


class Callback:
    """Receives progress; the default implementation logs at DEBUG and never stops."""

    def progress(
        self,
        *,
        phase: str,
        done: int,
        total: int,
        metrics: dict[str, float] | None = None,
    ) -> None:
        """``done`` of ``total`` units (epochs, batches, rows) finished in ``phase``.

        ``metrics`` carries figures such as ``loss``, ``val_ndcg@10`` or ``samples_per_s``.
        """
        log.debug("%s %d/%d %s", phase, done, total, metrics or "")

    def log(self, message: str) -> None:
        """A human-readable line for the job's log."""
        log.info("%s", message)

    def should_stop(self) -> bool:
        return False

    def check(self) -> None:
        """Raise :class:`Cancelled` if the work should stop now."""
        if self.should_stop():
            raise Cancelled("cancelled by request")


class NullCallback(Callback):
    """Reports nowhere."""

    def log(self, message: str) -> None:
        log.debug("%s", message)
