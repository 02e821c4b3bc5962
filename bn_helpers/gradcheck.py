"""Numerical gradient checking.

Central differences, as in cs231n's ``gradient_check.py`` and the
"gradient checking" section of Goodfellow, Bengio & Courville, *Deep Learning*
(2016), Section 11.5. Use a random upstream gradient ``dout``, never ones:
for batch norm, ``dx`` with ``dout = 1`` is zero and hides every bug.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import NDArray

__all__ = ["rel_error", "numerical_gradient"]


def rel_error(x, y) -> float:
    """Largest relative error ``|x - y| / max(1e-8, |x| + |y|)`` over all entries.

    Below about 1e-7 in float64 two gradients agree; above 1e-3 something is
    wrong (cs231n's rule of thumb).

    Parameters
    ----------
    x, y : array_like, same shape (any, e.g. (N, D))

    Returns
    -------
    float
        The largest entrywise relative error; 0.0 for empty arrays.

    Raises
    ------
    ValueError
        If the shapes differ.

    References
    ----------
    cs231n assignment 2, ``rel_error`` in the notebooks, and the notes
    "Neural Networks Part 3: Learning and Evaluation" (gradient checks,
    relative error).

    Examples
    --------
    >>> rel_error([1.0, 2.0], [1.0, 2.0])
    0.0
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape; got {x.shape} and {y.shape}")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def numerical_gradient(f: Callable[[NDArray], NDArray], x: NDArray, dout: NDArray, h: float = 1e-5) -> NDArray:
    """Gradient of ``sum(f(x) * dout)`` with respect to ``x`` by central differences.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to an array shaped like ``dout``.
    x : ndarray, float64
        The point; it is perturbed entry by entry and restored.
    dout : ndarray
        Upstream gradient, shaped like ``f(x)``.
    h : float, default 1e-5
        Step of the central difference.

    Returns
    -------
    ndarray shaped like ``x``: ``(f(x + h e_i) - f(x - h e_i)) . dout / (2h)``.

    Notes
    -----
    ``x`` is copied first: the caller's array is never changed.

    References
    ----------
    cs231n, ``gradient_check.py`` (``eval_numerical_gradient_array``);
    Goodfellow, Bengio & Courville, *Deep Learning* (2016), Section 11.5.

    Examples
    --------
    >>> import numpy as np
    >>> numerical_gradient(lambda x: x**2, np.array([3.0]), np.array([1.0])).round(6)
    array([6.])
    """
    x = np.array(x, dtype=np.float64)  # a copy: the caller's array is never touched
    dout = np.asarray(dout, dtype=np.float64)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = np.asarray(f(x), dtype=np.float64)
        x[i] = old - h
        minus = np.asarray(f(x), dtype=np.float64)
        x[i] = old
        grad[i] = np.sum((plus - minus) * dout) / (2 * h)
    return grad
