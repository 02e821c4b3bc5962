"""Reference numerics of batch normalization, written to be read.

One core routine, :func:`normalize`, standardizes an array over given axes;
batch norm is a thin wrapper that picks the batch axis. Forward functions
return ``(out, cache)``; the cache is the named tuple :class:`BatchNormCache`.

Conventions (those of PyTorch's ``torch.nn.BatchNorm1d``):

* the variance used to normalize is the *biased* one, divided by N;
* ``eps`` sits inside the square root: ``x_hat = (x - mean) / sqrt(var + eps)``;
* ``eps`` defaults to 1e-5;
* the output has the dtype of ``x``; float16 input is summed and normalized in
  float32 and rounded to float16 once, at the end (as PyTorch's CPU kernels
  accumulate half precision in float): a float16 sum of squares overflows
  past 65504, e.g. for the batch [200, -200].

References
----------
Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network Training by
Reducing Internal Covariate Shift", arXiv:1502.03167, Section 3, Algorithm 1.
PyTorch documentation of ``torch.nn.BatchNorm1d`` (biased variance in
training, eps=1e-5); PyTorch source, ``aten/src/ATen/native/cpu/batch_norm_kernel.cpp``
(``opmath_t``: half-precision input accumulated in float).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._validate import as_float_array, as_param, check_batch, check_eps

__all__ = ["BatchNormCache", "batch_mean", "batch_variance", "normalize", "normalize_affine", "sum_over", "batchnorm_forward"]


def _compute_dtype(dtype) -> np.dtype:
    """The dtype sums and ``x_hat`` are computed in: float32 for float16 data, else ``dtype`` itself."""
    dtype = np.dtype(dtype)
    return np.dtype(np.float32) if dtype == np.float16 else dtype


class BatchNormCache(NamedTuple):
    """What the batch-norm forward pass keeps for the backward pass.

    Attributes
    ----------
    x : ndarray, shape (N, D)
        The input (a reference, not a copy).
    x_hat : ndarray, shape (N, D)
        The normalized input, ``(x - mean) * inv_std``.
    mean : ndarray, shape (D,)
        Batch mean of each feature.
    var : ndarray, shape (D,)
        Biased batch variance of each feature (divided by N).
    inv_std : ndarray, shape (D,)
        ``1 / sqrt(var + eps)``.
    gamma, beta : ndarray, shape (D,)
        Copies of the scale and shift passed to the forward, dtype of ``x``.
    eps : float
        As passed to the forward.

    ``x_hat``, ``mean``, ``var`` and ``inv_std`` have the dtype of ``x``,
    except for float16 ``x``: float32, the precision they were computed in
    (the variance of float16 data can exceed float16's largest value, 65504).

    References
    ----------
    cs231n assignment 2 (``layers.py``): the ``(out, cache)`` convention of
    forward/backward pairs; Ioffe & Szegedy, arXiv:1502.03167, Algorithm 1
    (the quantities kept).
    """

    x: NDArray
    x_hat: NDArray
    mean: NDArray
    var: NDArray
    inv_std: NDArray
    gamma: NDArray
    beta: NDArray
    eps: float


def _letters(ndim: int) -> str:  # einsum subscripts
    return "abcdefghijklmnop"[:ndim]


def sum_over(a: NDArray, axes: tuple[int, ...], b: NDArray | None = None) -> NDArray:
    """``sum(a)`` or ``sum(a * b)`` over ``axes``, keeping them as size-1 dimensions.

    ``out = sum_{axes} a`` or ``out = sum_{axes} a * b``, as
    ``np.sum(..., axis=axes, keepdims=True)`` would give.

    Parameters
    ----------
    a : ndarray, any shape (e.g. (N, D) or (N, C, H, W))
    axes : tuple of int
        The axes summed over; non-negative.
    b : ndarray, shape of ``a``, optional
        Default None: sum ``a`` alone.

    Returns
    -------
    ndarray
        Shape of ``a`` with size 1 along ``axes``; dtype of ``a`` (``a * b``),
        except float16, which is accumulated and returned in float32: the
        sum of squares of [200, -200] is 80000, past float16's 65504.

    Notes
    -----
    Written with ``np.einsum``: it reads its operands once, never builds the
    product ``a * b`` in memory, and accumulates in blocks, which in float32
    is about a hundred times more accurate than ``np.sum`` along a strided axis.
    For float16 it converts its operands block by block (``dtype=float32``).

    References
    ----------
    NumPy documentation, ``numpy.einsum`` (its ``dtype`` argument) and
    ``numpy.expand_dims``; PyTorch's CPU kernels accumulate half precision
    in float (``opmath_t``, ``aten/src/ATen/OpMathType.h``).

    Examples
    --------
    >>> import numpy as np
    >>> sum_over(np.ones((2, 3)), (0,))
    array([[2., 2., 2.]])
    """
    idx = _letters(a.ndim)
    keep = "".join(c for i, c in enumerate(idx) if i not in axes)
    ops = (a,) if b is None else (a, b)
    f16 = a.dtype == np.float16 and (b is None or b.dtype == np.float16)
    wide = {"dtype": np.float32} if f16 else {}  # float16: accumulate in float32
    total = np.einsum(",".join([idx] * len(ops)) + "->" + keep, *ops, **wide)
    # np.expand_dims(total, axes), without its argument handling (a third of a small sum's time)
    return total.reshape(tuple(1 if i in axes else n for i, n in enumerate(a.shape)))


def _mean_var(x: NDArray, axes: tuple[int, ...]) -> tuple[NDArray, NDArray, NDArray | None]:
    """Mean and biased variance over ``axes`` (keepdims shape, dtype of ``x``), and ``x - mean`` if it was built.

    The one-pass formula ``E[x^2] - E[x]^2`` cancels catastrophically when the
    mean is large next to the spread: in float32 it returns negative
    variances for data 1e4 + 1e-2 noise. So it is used only where it cannot:
    when ``mean^2 <= var`` it loses no digit, and the statistics come from one
    read of ``x``. Otherwise: two passes, the squares of ``c = x - mean``,
    and when rounding the mean left ``c`` off-centre by ``drift = mean(c)``,
    ``var = mean(c^2) - drift^2`` with ``c`` re-centred (the corrected
    two-pass algorithm of Chan, Golub & LeVeque, 1983).
    """
    n = int(np.prod([x.shape[a] for a in axes]))
    mean = sum_over(x, axes).astype(np.float64) / n
    var = sum_over(x, axes, x).astype(np.float64) / n - mean * mean
    if np.all(mean * mean <= var):  # no cancellation: one pass was enough
        return mean.astype(x.dtype), var.astype(x.dtype), None
    mean = mean.astype(x.dtype)
    centered = x - mean
    var = sum_over(centered, axes, centered).astype(np.float64) / n
    eps = np.finfo(x.dtype).eps
    if np.any((8 * eps * mean.astype(np.float64)) ** 2 > eps * var):  # c may be off-centre
        drift = sum_over(centered, axes).astype(np.float64) / n
        var -= drift * drift
        centered -= drift.astype(x.dtype)
        mean = (mean + drift).astype(x.dtype)
    return mean, np.maximum(var, 0).astype(x.dtype), centered


def normalize(x: NDArray, axes: tuple[int, ...], eps: float = 1e-5) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Standardize ``x`` over ``axes``: ``x_hat = (x - mean) / sqrt(var + eps)``.

    The one routine every normalization in this package is built from: batch
    norm averages over the batch axis, layer norm over the features, and so on.

    Parameters
    ----------
    x : ndarray of any shape, float
        E.g. (N, D) or (N, C, H, W); not validated here (the public wrappers do).
    axes : tuple of int
        The axes averaged over; the statistics have size 1 along them.
    eps : float, default 1e-5
        Added to the variance inside the square root.

    Returns
    -------
    x_hat : ndarray, same shape and dtype as ``x`` (a new array)
    mean, var, inv_std : ndarray
        Statistics with ``keepdims=True`` shape, dtype of ``x`` (float32 for
        float16 ``x``); ``var`` is biased (divided by the number of values
        averaged), ``inv_std = 1 / sqrt(var + eps)``.

    Raises
    ------
    TypeError
        If ``eps`` is not a real number.
    ValueError
        If ``eps`` is negative, NaN or infinite.

    Notes
    -----
    The variance is computed in one pass where ``E[x^2] - E[x]^2`` cannot
    cancel, otherwise with the corrected two-pass algorithm. Float16 ``x`` is
    normalized in float32 and ``x_hat`` rounded to float16 once.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Algorithm 1; PyTorch documentation,
    ``torch.nn.BatchNorm1d`` (biased variance, eps inside the square root);
    Chan, Golub & LeVeque, "Algorithms for Computing the Sample Variance:
    Analysis and Recommendations", The American Statistician 37(3), 1983
    (the corrected two-pass algorithm).

    Examples
    --------
    >>> import numpy as np
    >>> x_hat, mean, var, inv_std = normalize(np.array([[1.0], [3.0]]), (0,), eps=0.0)
    >>> x_hat.ravel(), mean, var
    (array([-1.,  1.]), array([[2.]]), array([[1.]]))
    """
    eps = check_eps(eps)
    if x.dtype == np.float16:  # accumulate and compute in float32, round once
        x_hat, mean, var, inv_std = normalize(x.astype(np.float32), axes, eps)
        return x_hat.astype(np.float16), mean, var, inv_std
    mean, var, centered = _mean_var(x, axes)
    inv_std = (1.0 / np.sqrt(var.astype(np.float64) + eps)).astype(x.dtype)
    if centered is None:
        centered = x - mean
    centered *= inv_std
    return centered, mean, var, inv_std


#: Bytes of x_hat handled at a time by the elementwise steps: small enough to stay in a core's L2 cache.
BLOCK_BYTES = 1 << 18


def normalize_affine(x: NDArray, axes: tuple[int, ...], gamma: NDArray, beta: NDArray, eps: float = 1e-5):
    """:func:`normalize`, then ``out = gamma * x_hat + beta``: the forward of every normalization layer.

    Parameters
    ----------
    x : ndarray of any shape, float
        E.g. (N, D) or (N, C, H, W); not validated here.
    axes : tuple of int
        The axes averaged over.
    gamma, beta : ndarray
        Broadcastable to ``x`` (e.g. (1, D) or (1, C, 1, 1)), dtype of ``x``.
    eps : float, default 1e-5
        Added to the variance inside the square root.

    Returns
    -------
    out : ndarray shaped like ``x``, dtype of ``x`` (a new array)
    x_hat : ndarray shaped like ``x`` (a new array), dtype of ``x``
        (float32 for float16 ``x``: the backward pass reads it)
    mean, var, inv_std : ndarray, keepdims shape
        As :func:`normalize` returns them (float32 for float16 ``x``).

    Raises
    ------
    TypeError
        If ``eps`` is not a real number.
    ValueError
        If ``eps`` is negative, NaN or infinite.

    Notes
    -----
    The elementwise steps (centre, scale, then ``gamma * x_hat + beta``) run
    block by block (:data:`BLOCK_BYTES`), so each step after the first reads
    from the cache rather than from memory: the same arithmetic in fewer
    memory passes. Float16 ``x`` goes through the float32 computation, and
    ``out`` is rounded to float16 once, as PyTorch's CPU kernels do.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Algorithm 1 ("scale and shift").
    """
    eps = check_eps(eps)
    if x.dtype == np.float16:  # accumulate and compute in float32, round once
        out, *rest = normalize_affine(x.astype(np.float32), axes, np.asarray(gamma, np.float32),
                                      np.asarray(beta, np.float32), eps)
        return (out.astype(np.float16), *rest)
    mean, var, centered = _mean_var(x, axes)
    inv_std = (1.0 / np.sqrt(var.astype(np.float64) + eps)).astype(x.dtype)
    x_hat = np.empty_like(x) if centered is None else centered
    out = np.empty_like(x)
    for block in _blocks(x_hat):
        xb, ob = x_hat[block], out[block]
        if centered is None:
            np.subtract(x[block], _part(mean, block), out=xb)
        xb *= _part(inv_std, block)
        np.multiply(xb, _part(gamma, block), out=ob)
        ob += _part(beta, block)
    return out, x_hat, mean, var, inv_std


def _part(a: NDArray, block: tuple[slice, ...]) -> NDArray:
    """The part of a broadcast operand ``a`` that meets ``block`` (its size-1 axes are kept whole)."""
    return a[tuple(s if a.shape[k] > 1 else slice(None) for k, s in enumerate(block))]


def _blocks(a: NDArray):
    """Slices over the first two axes of ``a`` that cover about BLOCK_BYTES each."""
    n, c = a.shape[0], a.shape[1]
    if a.nbytes <= 4 * BLOCK_BYTES:  # small enough to stay in cache whole
        yield (slice(None), slice(None))
        return
    row = max(1, a[0].nbytes)
    rows = max(1, BLOCK_BYTES // row)
    cols = c if row <= BLOCK_BYTES else max(1, BLOCK_BYTES * c // row)
    for i in range(0, n, rows):
        for j in range(0, c, cols):
            yield (slice(i, i + rows), slice(j, j + cols))


def batch_mean(x) -> NDArray:
    """Per-feature mean over the batch: ``mu_j = (1/N) sum_i x_ij``.

    Parameters
    ----------
    x : array_like, shape (N, D)

    Returns
    -------
    ndarray, shape (D,), dtype of ``x`` (float16 is summed in float32)

    Raises
    ------
    TypeError
        If ``x`` does not hold real numbers (e.g. complex or strings).
    ValueError
        If ``x`` is not 2-D (N, D).

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Algorithm 1 ("mini-batch mean").

    Examples
    --------
    >>> batch_mean([[2.3], [-0.5], [1.8], [3.2], [-1.2]]).round(4)
    array([1.12])
    """
    x = as_float_array(x, "x", (2,))
    return normalize(x, (0,))[1][0].astype(x.dtype, copy=False)


def batch_variance(x) -> NDArray:
    """Per-feature *biased* variance over the batch: ``(1/N) sum_i (x_ij - mu_j)^2``.

    Batch norm divides by N, not N - 1 (the unbiased estimate enters only the
    running variance; see PyTorch's ``BatchNorm1d`` documentation).

    Parameters
    ----------
    x : array_like, shape (N, D)

    Returns
    -------
    ndarray, shape (D,), dtype of ``x``; never negative. Float16 is
    computed in float32; a variance past 65504 becomes ``inf`` in float16.

    Raises
    ------
    TypeError
        If ``x`` does not hold real numbers (e.g. complex or strings).
    ValueError
        If ``x`` is not 2-D (N, D).

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Algorithm 1 ("mini-batch variance").

    Examples
    --------
    >>> batch_variance([[2.3], [-0.5], [1.8], [3.2], [-1.2]]).round(4)
    array([2.8376])
    """
    x = as_float_array(x, "x", (2,))
    return normalize(x, (0,))[2][0].astype(x.dtype, copy=False)


def batchnorm_forward(x, gamma, beta, eps: float = 1e-5) -> tuple[NDArray, BatchNormCache]:
    """Batch normalization in training mode: ``y = gamma * x_hat + beta``.

    ``x_hat = (x - mean) / sqrt(var + eps)`` with the mean and biased variance
    of each feature over the batch axis (axis 0).

    Parameters
    ----------
    x : array_like, shape (N, D)
        A mini-batch of N examples with D features; N >= 2.
    gamma : array_like, shape (D,)
        Scale, one per feature.
    beta : array_like, shape (D,)
        Shift, one per feature.
    eps : float >= 0, default 1e-5
        Added to the variance inside the square root (PyTorch's default).

    Returns
    -------
    out : ndarray, shape (N, D), dtype of ``x``
    cache : BatchNormCache
        What the backward pass needs. ``x`` is not changed; the cache refers
        to it (as PyTorch's autograd saves its input), so do not change ``x``
        in place before the backward pass.

    Raises
    ------
    TypeError
        If ``x``, ``gamma`` or ``beta`` do not hold real numbers (e.g. complex
        or strings), or ``eps`` is not a real number.
    ValueError
        If ``x`` is not 2-D, if N < 2, if ``gamma``/``beta`` are not (D,), or
        if ``eps`` is negative, NaN or infinite.

    Notes
    -----
    PyTorch's conventions (``torch.nn.BatchNorm1d`` in training mode): the
    biased variance, ``eps`` inside the square root, default 1e-5. Float16
    ``x`` is summed and normalized in float32 and ``out`` rounded to float16
    once, as PyTorch's CPU kernels do; the cache then holds float32
    statistics and ``x_hat``.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3, Algorithm 1; PyTorch
    documentation, ``torch.nn.BatchNorm1d``.

    Examples
    --------
    >>> x = [[2.3], [-0.5], [1.8], [3.2], [-1.2]]
    >>> out, cache = batchnorm_forward(x, gamma=[1.2], beta=[0.3])
    >>> out[:2, 0].round(2)
    array([ 1.14, -0.85])
    """
    x = as_float_array(x, "x", (2,))
    n, d = x.shape
    check_batch(n)
    gamma = as_param(gamma, "gamma", (d,), x.dtype)
    beta = as_param(beta, "beta", (d,), x.dtype)
    out, x_hat, mean, var, inv_std = normalize_affine(x, (0,), gamma[None, :], beta[None, :], eps)
    cache = BatchNormCache(x, x_hat, mean[0], var[0], inv_std[0], gamma.copy(), beta.copy(), float(eps))
    return out, cache
