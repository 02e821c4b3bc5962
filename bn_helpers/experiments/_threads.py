"""One BLAS thread for the experiments: OpenBLAS on two threads makes small matmuls erratic here."""
from __future__ import annotations

import contextlib
from typing import Iterator


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Limit BLAS to one thread inside the block (threadpoolctl, shipped with scikit-learn)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - shipped with scikit-learn
        yield
        return
    with threadpool_limits(limits=1):
        yield
