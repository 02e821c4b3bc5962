"""The one exception of the instructor's tool (the bottom layer: imports nothing of this package)."""
from __future__ import annotations

__all__ = ["GradingError"]


class GradingError(RuntimeError):
    """A step of the pipeline failed; the message says which and why."""
