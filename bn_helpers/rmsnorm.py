"""RMSNorm (Zhang & Sennrich 2019): layer norm without the mean, forward and backward.

Over the last axis of ``x`` (the features of one token or example)::

    inv_rms = 1 / sqrt(mean(x**2) + eps)      x_hat = x * inv_rms      out = gamma * x_hat

There is no mean subtracted and no ``beta``: RMSNorm keeps layer norm's
re-scaling and drops its re-centering. The backward, with ``g = dout * gamma``
and the mean over the last axis::

    dx = inv_rms * (g - x_hat * mean(g * x_hat))
    dgamma = sum of dout * x_hat over every axis but the last

It is :func:`bn_helpers.norms.normalize_backward` with the ``- mean(g)`` term
left out: that term comes from the mean, which RMSNorm does not subtract.

Conventions as in the rest of ``bn_helpers`` (and PyTorch's
``torch.nn.functional.rms_norm``): ``eps`` inside the square root, default
1e-5 here (PyTorch's default is the dtype's machine epsilon); outputs in the
dtype of ``x``; float16 is computed in float32 and rounded once.

References
----------
Zhang & Sennrich, "Root Mean Square Layer Normalization", arXiv:1910.07467
(NeurIPS 2019), abstract and the definition of RMSNorm; PyTorch documentation
of ``torch.nn.RMSNorm``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._validate import as_param, check_cache, check_eps
from .numerics import _compute_dtype

__all__ = ["RMSNormCache", "rmsnorm_forward", "rmsnorm_backward"]


class RMSNormCache(NamedTuple):
    """What :func:`rmsnorm_forward` keeps for :func:`rmsnorm_backward`.

    Attributes
    ----------
    x : ndarray, shape (..., D)
        The input (a reference, not a copy).
    x_hat : ndarray, shape of ``x``
        ``x * inv_rms``.
    inv_rms : ndarray, shape (..., 1)
        ``1 / sqrt(mean(x**2, axis=-1) + eps)``, kept with a size-1 last axis.
    gamma : ndarray, shape (D,)
        A copy of the scale.
    eps : float
        As passed to the forward.

    ``x_hat`` and ``inv_rms`` have the dtype of ``x`` (float32 for float16 ``x``).

    References
    ----------
    cs231n assignment 2 (``layers.py``): the ``(out, cache)`` convention;
    Zhang & Sennrich, arXiv:1910.07467 (the quantities of RMSNorm).
    """

    x: NDArray
    x_hat: NDArray
    inv_rms: NDArray
    gamma: NDArray
    eps: float


def _as_input(x, name: str = "x") -> NDArray:
    arr = np.asarray(x)
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    if arr.dtype.kind != "f":
        raise TypeError(f"{name} must hold real floating-point numbers; got dtype {arr.dtype}")
    if arr.ndim < 1 or arr.shape[-1] < 1:
        raise ValueError(f"{name} must have at least one axis of features (..., D) with D >= 1; got shape {arr.shape}")
    return arr


def rmsnorm_forward(x, gamma, eps: float = 1e-5) -> tuple[NDArray, RMSNormCache]:
    """RMSNorm over the last axis: ``out = gamma * x / sqrt(mean(x**2) + eps)``.

    Parameters
    ----------
    x : array_like, shape (..., D)
        Any number of leading axes (batch, sequence, ...); D >= 1 features.
    gamma : array_like, shape (D,)
        Scale, one per feature. There is no shift.
    eps : float >= 0, default 1e-5
        Added to the mean square inside the root.

    Returns
    -------
    out : ndarray, shape of ``x``, dtype of ``x``
    cache : RMSNormCache

    Raises
    ------
    TypeError
        If ``x`` or ``gamma`` do not hold real numbers, or ``eps`` is not a number.
    ValueError
        If ``x`` has no feature axis, ``gamma`` is not (D,), or ``eps`` is negative.

    Notes
    -----
    Layer norm with the mean taken as 0 and without ``beta``: when the
    features of a row already have mean 0, the two agree (up to eps).

    References
    ----------
    Zhang & Sennrich, arXiv:1910.07467.

    Examples
    --------
    >>> out, _ = rmsnorm_forward([[3.0, 4.0], [1.0, 1.0]], [1.0, 1.0], eps=0.0)
    >>> out.round(4)  # each row divided by its root mean square: sqrt(12.5) and 1
    array([[0.8485, 1.1314],
           [1.    , 1.    ]])
    """
    x = _as_input(x)
    eps = check_eps(eps)
    gamma = as_param(gamma, "gamma", (x.shape[-1],), x.dtype)
    work = _compute_dtype(x.dtype)
    xw = x.astype(work, copy=False)
    mean_square = np.mean(xw * xw, axis=-1, keepdims=True, dtype=np.float64)
    inv_rms = (1.0 / np.sqrt(mean_square + eps)).astype(work)
    x_hat = xw * inv_rms
    out = (gamma.astype(work) * x_hat).astype(x.dtype, copy=False)
    return out, RMSNormCache(x, x_hat, inv_rms, gamma.copy(), float(eps))


def rmsnorm_backward(dout, cache: RMSNormCache) -> tuple[NDArray, NDArray]:
    """Backward of :func:`rmsnorm_forward`: ``(dx, dgamma)``.

    With ``g = dout * gamma`` and means over the last axis::

        dx = inv_rms * (g - x_hat * mean(g * x_hat))
        dgamma = sum(dout * x_hat) over all axes but the last

    Parameters
    ----------
    dout : array_like, shape of ``x``
    cache : RMSNormCache

    Returns
    -------
    dx : ndarray, shape of ``x``
    dgamma : ndarray, shape (D,)
        Both in the dtype of ``x`` (float16: computed in float32).

    Raises
    ------
    TypeError
        If ``cache`` is not an ``RMSNormCache`` or ``dout`` is not real.
    ValueError
        If ``dout`` is not shaped like ``x``.

    Notes
    -----
    Unlike the layer-norm ``dx``, this one need not sum to zero over the
    features: there is no mean, so shifting a row does change the output.
    It is orthogonal to ``x_hat`` (exactly when ``eps = 0``): scaling a row
    does not.

    References
    ----------
    Zhang & Sennrich, arXiv:1910.07467 (the gradient is derived there too).
    """
    check_cache(cache, RMSNormCache, "rmsnorm_forward")
    dout = _as_input(dout, "dout")
    if dout.shape != cache.x.shape:
        raise ValueError(f"dout must have the shape of x, {cache.x.shape}; got shape {dout.shape}")
    work = cache.x_hat.dtype
    d = dout.astype(work, copy=False)
    x_hat = cache.x_hat
    dgamma = (d * x_hat).reshape(-1, x_hat.shape[-1]).sum(axis=0, dtype=np.float64)
    g = d * cache.gamma.astype(work)
    mean_gx = np.mean(g * x_hat, axis=-1, keepdims=True, dtype=np.float64).astype(work)
    dx = cache.inv_rms * (g - x_hat * mean_gx)
    dtype = cache.x.dtype
    return dx.astype(dtype, copy=False), dgamma.astype(dtype)
