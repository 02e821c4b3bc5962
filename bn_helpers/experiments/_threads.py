"""One BLAS thread for the experiments: OpenBLAS on two threads makes small matmuls erratic here."""
from __future__ import annotations

import contextlib
from typing import Iterator

_DEPTH = [0]


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Limit BLAS to one thread inside the block (threadpoolctl, shipped with scikit-learn).

    Entered once: a nested block (an evaluation inside a training loop) costs nothing.
    """
    if _DEPTH[0]:
        _DEPTH[0] += 1
        try:
            yield
        finally:
            _DEPTH[0] -= 1
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - shipped with scikit-learn
        yield
        return
    _DEPTH[0] = 1
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        _DEPTH[0] = 0
