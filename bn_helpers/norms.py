"""Backward passes, and the normalization family built on one core routine.

Every forward here returns ``(out, cache)`` and every backward returns
``(dx, dgamma, dbeta)``. The formulas are written once:

* forward: :func:`bn_helpers.numerics.normalize` standardizes over given axes;
* backward: :func:`normalize_backward` is its gradient over the same axes.

Batch, spatial batch, layer, instance and group norm differ only in the view
of ``x`` (a reshape) and the axes averaged over:

================  ================  =================  ===================
variant           x                 view               axes of the view
================  ================  =================  ===================
batch norm        (N, D)            (N, D)             (0,)
spatial BN        (N, C, H, W)      (N, C, H, W)       (0, 2, 3)
layer norm        (N, D)            (N, D)             (1,)
layer norm        (N, C, H, W)      (N, C, H, W)       (1, 2, 3)
instance norm     (N, C, H, W)      (N, C, H, W)       (2, 3)
group norm        (N, C, H, W)      (N, G, C/G, H, W)  (2, 3, 4)
================  ================  =================  ===================

``gamma`` and ``beta`` always have one value per entry of axis 1 (D or C).

Conventions, shared by all variants (those of PyTorch): the variance is the
*biased* one (divided by the number of values averaged); ``eps`` sits inside
the square root, ``x_hat = (x - mean) / sqrt(var + eps)``, default 1e-5; the
outputs have the dtype of ``x``. Float16 input is summed and computed in
float32 and only the results are rounded to float16, as PyTorch's CPU kernels
do (a float16 sum of squares overflows past 65504); the caches then hold
float32 statistics and ``x_hat``. There are no running statistics here: these
are the training-mode passes.

References
----------
Ioffe & Szegedy, arXiv:1502.03167, Section 3; PyTorch source,
``aten/src/ATen/native/cpu/batch_norm_kernel.cpp`` (half precision
accumulated in float, ``opmath_t``).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._validate import (as_float_array, as_param, check_batch, check_cache, check_eps, check_groups,
                        check_nonnegative, check_number, check_same_shape)
from .numerics import BatchNormCache, _compute_dtype, batchnorm_forward, normalize_affine, sum_over

__all__ = [
    "NormCache", "normalize_backward",
    "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_compact",
    "spatial_batchnorm_forward", "spatial_batchnorm_backward",
    "layernorm_forward", "layernorm_backward",
    "instancenorm_forward", "instancenorm_backward",
    "groupnorm_forward", "groupnorm_backward",
    "RenormCache", "batch_renorm_forward", "batch_renorm_backward",
]


class NormCache(NamedTuple):
    """What a forward pass of this module keeps for its backward pass.

    Attributes
    ----------
    kind : str
        The name of the forward that made it, e.g. ``"groupnorm"``.
    x : ndarray, shape (N, D) or (N, C, H, W)
        The input (a reference, not a copy: do not change it before the backward).
    x_hat : ndarray, shape of ``x``
        The normalized input.
    mean, var, inv_std : ndarray
        Mean, biased variance and ``1 / sqrt(var + eps)``, one value per
        normalized group: (C,) for spatial BN, (N,) for layer norm, (N, C)
        for instance norm, (N, G) for group norm.
    gamma, beta : ndarray, shape (D,) or (C,)
        Copies of the scale and shift, dtype of ``x``.
    eps : float
        As passed to the forward.
    view : tuple of int
        The shape ``x`` is reshaped to, e.g. (N, G, C/G, H, W).
    axes : tuple of int
        The axes of ``view`` that are averaged over.

    ``x_hat``, ``mean``, ``var`` and ``inv_std`` have the dtype of ``x``,
    except for float16 ``x``: float32, the precision they were computed in.

    References
    ----------
    cs231n assignment 2 (``layers.py``): the ``(out, cache)`` convention of
    forward/backward pairs.
    """

    kind: str
    x: NDArray
    x_hat: NDArray
    mean: NDArray
    var: NDArray
    inv_std: NDArray
    gamma: NDArray
    beta: NDArray
    eps: float
    view: tuple[int, ...]
    axes: tuple[int, ...]


def normalize_backward(dx_hat, x_hat, inv_std, axes: tuple[int, ...]) -> NDArray:
    """Gradient through :func:`~bn_helpers.numerics.normalize` over ``axes``.

    With M the number of values averaged over ``axes``::

        dx = inv_std / M * (M * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat))

    the sums running over ``axes``. The formula is exact for any ``eps``
    because ``x_hat`` and ``inv_std`` already contain it.

    Parameters
    ----------
    dx_hat : ndarray, any shape
        Gradient of the loss with respect to ``x_hat``.
    x_hat : ndarray, shape of ``dx_hat``
        The normalized input from the forward pass.
    inv_std : ndarray
        ``1 / sqrt(var + eps)``, broadcastable to ``x_hat`` (size 1 along
        ``axes``, as :func:`~bn_helpers.numerics.normalize` returns it).
    axes : tuple of int
        The axes the forward pass averaged over.

    Returns
    -------
    dx : ndarray, shape of ``x_hat``, dtype of ``x_hat`` (float16 is
        summed and computed in float32, then rounded once)

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3 (the chain rule below
    Algorithm 1), simplified into one line.
    """
    dx_hat, x_hat = np.asarray(dx_hat), np.asarray(x_hat)
    out_dtype = x_hat.dtype
    x_hat = x_hat.astype(_compute_dtype(out_dtype), copy=False)
    m = int(np.prod([x_hat.shape[a] for a in axes]))
    dx = _combine(dx_hat, x_hat, np.asarray(inv_std, x_hat.dtype),
                  sum_over(dx_hat, axes) / m, sum_over(dx_hat, axes, x_hat) / m)
    return dx.astype(out_dtype, copy=False)


def _combine(g: NDArray, x_hat: NDArray, scale: NDArray, mean_g: NDArray, mean_gx: NDArray) -> NDArray:
    """``scale * (g - mean_g - x_hat * mean_gx)``, building one new array and no other temporary."""
    dtype = x_hat.dtype
    dx = np.multiply(x_hat, mean_gx.astype(dtype))
    dx += mean_g.astype(dtype)
    np.subtract(g, dx, out=dx)
    dx *= scale.astype(dtype)
    return dx


def _bn_dx(dout: NDArray, x_hat: NDArray, gamma_b: NDArray, inv_std_b: NDArray, axes: tuple[int, ...]):
    """The batch-norm backward when the statistics and gamma share their axes (BN, spatial BN).

    Then ``sum(dx_hat) = gamma * dbeta`` and ``sum(dx_hat * x_hat) = gamma * dgamma``,
    so ``dx = gamma * inv_std * (dout - dbeta / M - x_hat * dgamma / M)``:
    two reductions and one new array in all (``gamma_b``, ``inv_std_b`` are
    broadcastable, size 1 along ``axes``).
    """
    m = int(np.prod([x_hat.shape[a] for a in axes]))
    dbeta = sum_over(dout, axes)
    dgamma = sum_over(dout, axes, x_hat)
    dx = _combine(dout, x_hat, gamma_b * inv_std_b, dbeta / m, dgamma / m)
    return dx, dgamma.reshape(-1), dbeta.reshape(-1)


# --------------------------------------------------------------------------
# Batch norm on (N, D): the staged backward and the compact one
# --------------------------------------------------------------------------


def _bn_inputs(dout, cache) -> NDArray:
    check_cache(cache, BatchNormCache, "batchnorm_forward")
    dout = as_float_array(dout, "dout", (2,))
    check_same_shape(dout, "dout", cache.x.shape)
    return dout


def batchnorm_backward(dout, cache: BatchNormCache) -> tuple[NDArray, NDArray, NDArray]:
    """Batch-norm backward, staged: one step per node of the forward graph.

    The forward graph (``x`` of shape (N, D), statistics over axis 0)::

        mean = sum(x) / N          centered = x - mean
        var = sum(centered**2) / N inv_std = 1 / sqrt(var + eps)
        x_hat = centered * inv_std out = gamma * x_hat + beta

    is walked backwards, each node turning the gradient of its output into the
    gradients of its inputs; a node used twice (``centered``) adds up both.

    Parameters
    ----------
    dout : array_like, shape (N, D)
        Gradient of the loss with respect to ``out``.
    cache : BatchNormCache
        From :func:`~bn_helpers.numerics.batchnorm_forward`.

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma, dbeta : ndarray, shape (D,)
        All with the dtype of the forward's ``x`` (computed in float64).

    Raises
    ------
    TypeError
        If ``cache`` is not a ``BatchNormCache``, or ``dout`` does not hold
        real numbers.
    ValueError
        If ``dout`` is not shaped like ``x``.

    Notes
    -----
    Slower and longer than :func:`batchnorm_backward_compact`, which gives the
    same numbers; this one is written to be followed on paper.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3 (the chain rule below
    Algorithm 1). The staging follows cs231n's assignment 2.

    Examples
    --------
    >>> import numpy as np
    >>> out, cache = batchnorm_forward([[1.0], [2.0], [6.0]], gamma=[2.0], beta=[0.0])
    >>> dx, dgamma, dbeta = batchnorm_backward([[1.0], [1.0], [1.0]], cache)
    >>> bool(np.allclose(dx, 0)), dbeta  # shifting every output equally: x_hat cannot do it
    (True, array([3.]))
    """
    dout = _bn_inputs(dout, cache).astype(np.float64)
    x, mean, inv_std, gamma = (np.asarray(a, dtype=np.float64) for a in (cache.x, cache.mean, cache.inv_std, cache.gamma))
    n = x.shape[0]
    # Recompute the intermediate nodes of the forward graph.
    centered = x - mean
    x_hat = centered * inv_std
    # out = gamma * x_hat + beta
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    # x_hat = centered * inv_std: two inputs
    dcentered = dx_hat * inv_std
    dinv_std = (dx_hat * centered).sum(axis=0)
    # inv_std = (var + eps) ** -0.5, so d inv_std / d var = -0.5 * inv_std**3
    dvar = -0.5 * inv_std**3 * dinv_std
    # var = sum(centered**2) / N: the second path into centered
    dcentered = dcentered + dvar * 2.0 * centered / n
    # centered = x - mean: two inputs
    dx = dcentered.copy()
    dmean = -dcentered.sum(axis=0)
    # mean = sum(x) / N
    dx = dx + dmean / n
    dtype = cache.x.dtype
    return dx.astype(dtype), dgamma.astype(dtype), dbeta.astype(dtype)


def batchnorm_backward_compact(dout, cache: BatchNormCache) -> tuple[NDArray, NDArray, NDArray]:
    """Batch-norm backward in closed form (one line for ``dx``).

    With ``dx_hat = dout * gamma`` and sums over the batch axis::

        dx = inv_std / N * (N * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat))
        dgamma = sum(dout * x_hat)        dbeta = sum(dout)

    Parameters
    ----------
    dout : array_like, shape (N, D)
        Gradient of the loss with respect to ``out``.
    cache : BatchNormCache
        From :func:`~bn_helpers.numerics.batchnorm_forward`.

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma, dbeta : ndarray, shape (D,)
        All with the dtype of the forward's ``x`` (float16: summed and
        computed in float32, rounded once).

    Raises
    ------
    TypeError
        If ``cache`` is not a ``BatchNormCache``, or ``dout`` does not hold
        real numbers.
    ValueError
        If ``dout`` is not shaped like ``x``.

    Notes
    -----
    Each column of ``dx`` sums to zero, and is orthogonal to that column of
    ``x_hat`` when ``eps = 0``: shifting or scaling a feature of the batch
    does not change ``x_hat``. This is :func:`normalize_backward` with
    ``axes=(0,)``.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3.
    """
    dout = _bn_inputs(dout, cache).astype(cache.x_hat.dtype, copy=False)  # float32 for float16 x
    dtype = cache.x.dtype
    grads = _bn_dx(dout, cache.x_hat, cache.gamma[None, :], cache.inv_std[None, :], (0,))
    return tuple(g.astype(dtype, copy=False) for g in grads)


# --------------------------------------------------------------------------
# The variants: choose a view and axes, then call the two core routines
# --------------------------------------------------------------------------


def _forward(kind: str, x: NDArray, gamma, beta, eps: float, view: tuple[int, ...], axes: tuple[int, ...]):
    """Normalize ``x.reshape(view)`` over ``axes``, then scale and shift per entry of axis 1."""
    gamma = as_param(gamma, "gamma", (x.shape[1],), x.dtype)
    beta = as_param(beta, "beta", (x.shape[1],), x.dtype)
    k = len(view) - (x.ndim - 2)  # the parameters vary along axes 1..k-1 of the view
    param_view = (1,) + tuple(view[1:k]) + (1,) * (len(view) - k)
    out, x_hat, mean, var, inv_std = normalize_affine(
        x.reshape(view), axes, gamma.reshape(param_view), beta.reshape(param_view), eps)
    out, x_hat = out.reshape(x.shape), x_hat.reshape(x.shape)
    stats = (s.squeeze(axis=axes) for s in (mean, var, inv_std))
    return out, NormCache(kind, x, x_hat, *stats, gamma.copy(), beta.copy(), float(eps), view, axes)


def _backward(kind: str, dout, cache: NormCache) -> tuple[NDArray, NDArray, NDArray]:
    """The one backward of every variant: parameters first, then :func:`normalize_backward`."""
    check_cache(cache, NormCache, f"{kind}_forward", kind=kind)
    x = cache.x
    dout = as_float_array(dout, "dout", (x.ndim,))
    check_same_shape(dout, "dout", x.shape)
    not_channel = (0,) + tuple(range(2, x.ndim))
    param_shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    dout = dout.astype(cache.x_hat.dtype, copy=False)  # float32 for float16 x
    inv_std = np.expand_dims(cache.inv_std, cache.axes)
    if cache.view == x.shape and tuple(cache.axes) == not_channel:  # spatial BN: the shortcut of _bn_dx
        grads = _bn_dx(dout, cache.x_hat, cache.gamma.reshape(param_shape), inv_std, not_channel)
    else:
        dbeta = sum_over(dout, not_channel).reshape(-1)
        dgamma = sum_over(dout, not_channel, cache.x_hat).reshape(-1)
        dx_hat = (dout * cache.gamma.reshape(param_shape)).reshape(cache.view)
        dx = normalize_backward(dx_hat, cache.x_hat.reshape(cache.view), inv_std, cache.axes)
        grads = (dx.reshape(x.shape), dgamma, dbeta)
    return tuple(g.astype(x.dtype, copy=False) for g in grads)


def spatial_batchnorm_forward(x, gamma, beta, eps: float = 1e-5) -> tuple[NDArray, NormCache]:
    """Batch norm for images: ``y = gamma[c] * x_hat + beta[c]``, statistics per channel.

    ``x_hat[n, c, h, w] = (x - mean[c]) / sqrt(var[c] + eps)``, the mean and
    biased variance of channel c taken over (N, H, W).

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
        N >= 1 images; N * H * W >= 2.
    gamma, beta : array_like, shape (C,)
        Scale and shift, one per channel.
    eps : float >= 0, default 1e-5
        Added to the variance inside the square root.

    Returns
    -------
    out : ndarray, shape (N, C, H, W), dtype of ``x``
        (float16: computed in float32, rounded once)
    cache : NormCache
        ``mean``, ``var``, ``inv_std`` of shape (C,).

    Raises
    ------
    TypeError
        If ``x``, ``gamma`` or ``beta`` do not hold real numbers (e.g.
        complex or strings), or ``eps`` is not a real number.
    ValueError
        If ``x`` is not 4-D, if ``N * H * W < 2``, if ``gamma``/``beta`` are
        not (C,), or if ``eps`` is negative, NaN or infinite.

    Notes
    -----
    The same as :func:`~bn_helpers.numerics.batchnorm_forward` applied to
    ``x.transpose(0, 2, 3, 1).reshape(-1, C)``: every pixel counts as an
    example, so a convolution's feature map is normalized the same way at every
    position (PyTorch's ``BatchNorm2d``).

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3.2 (batch-normalized
    convolutional networks).
    """
    x = as_float_array(x, "x", (4,))
    n, _, h, w = x.shape
    check_batch(n * h * w, "x (values per channel, N*H*W)")
    return _forward("spatial_batchnorm", x, gamma, beta, eps, x.shape, (0, 2, 3))


def spatial_batchnorm_backward(dout, cache: NormCache) -> tuple[NDArray, NDArray, NDArray]:
    """Backward of :func:`spatial_batchnorm_forward`.

    :func:`normalize_backward` over axes (0, 2, 3);
    ``dgamma[c] = sum(dout * x_hat)`` and ``dbeta[c] = sum(dout)`` over (N, H, W).

    Parameters
    ----------
    dout : array_like, shape (N, C, H, W)
    cache : NormCache, from :func:`spatial_batchnorm_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dgamma, dbeta : ndarray, shape (C,)

    Raises
    ------
    TypeError
        If ``cache`` is not a ``NormCache``, or ``dout`` does not hold real numbers.
    ValueError
        If ``dout`` is not shaped like ``x`` or the cache comes from another forward.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3 (the gradients below
    Algorithm 1) and Section 3.2 (convolutional networks).
    """
    return _backward("spatial_batchnorm", dout, cache)


def layernorm_forward(x, gamma, beta, eps: float = 1e-5) -> tuple[NDArray, NormCache]:
    """Layer normalization: statistics per example, over its features.

    ``x_hat[n] = (x[n] - mean[n]) / sqrt(var[n] + eps)``, then
    ``y = gamma * x_hat + beta`` per feature (2-D) or per channel (4-D).

    Axes normalized: D for ``x`` of shape (N, D); (C, H, W) for (N, C, H, W).

    Parameters
    ----------
    x : array_like, shape (N, D) or (N, C, H, W)
    gamma, beta : array_like, shape (D,) or (C,)
        Scale and shift per feature, or per channel for 4-D ``x``.
    eps : float >= 0, default 1e-5
        Added to the variance inside the square root.

    Returns
    -------
    out : ndarray, shape of ``x``, dtype of ``x``
        (float16: computed in float32, rounded once)
    cache : NormCache
        ``mean``, ``var``, ``inv_std`` of shape (N,).

    Raises
    ------
    TypeError
        If ``x``, ``gamma`` or ``beta`` do not hold real numbers (e.g.
        complex or strings), or ``eps`` is not a real number.
    ValueError
        If ``x`` is not 2-D or 4-D, if ``gamma``/``beta`` have the wrong
        shape, or if ``eps`` is negative, NaN or infinite.

    Notes
    -----
    Works on a batch of one: nothing is shared between examples, so training
    and evaluation compute the same thing. For 4-D input this module applies
    ``gamma``/``beta`` per channel, as group norm with G = 1 does (Wu & He,
    arXiv:1803.08494, Section 3.1). PyTorch's ``LayerNorm(normalized_shape)``
    instead learns an elementwise affine of shape ``normalized_shape``,
    e.g. (C, H, W): one gamma per value, not per channel.

    References
    ----------
    Ba, Kiros & Hinton, "Layer Normalization", arXiv:1607.06450, Section 3.

    Examples
    --------
    >>> out, _ = layernorm_forward([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]], [1, 1, 1], [0, 0, 0])
    >>> out.round(3)  # each row standardized on its own: the scale is gone
    array([[-1.225,  0.   ,  1.225],
           [-1.225,  0.   ,  1.225]])
    """
    x = as_float_array(x, "x", (2, 4))
    return _forward("layernorm", x, gamma, beta, eps, x.shape, tuple(range(1, x.ndim)))


def layernorm_backward(dout, cache: NormCache) -> tuple[NDArray, NDArray, NDArray]:
    """Backward of :func:`layernorm_forward`: :func:`normalize_backward` over the feature axes.

    Parameters
    ----------
    dout : array_like, shape of ``x`` ((N, D) or (N, C, H, W))
    cache : NormCache, from :func:`layernorm_forward`

    Returns
    -------
    dx : ndarray, shape of ``x``
    dgamma, dbeta : ndarray, shape (D,) or (C,), summed over all other axes

    Raises
    ------
    TypeError
        If ``cache`` is not a ``NormCache``, or ``dout`` does not hold real numbers.
    ValueError
        If ``dout`` is not shaped like ``x`` or the cache comes from another forward.

    References
    ----------
    Ba, Kiros & Hinton, arXiv:1607.06450, Section 3; the gradient is that of
    Ioffe & Szegedy, arXiv:1502.03167, Section 3, over the feature axes.
    """
    return _backward("layernorm", dout, cache)


def instancenorm_forward(x, gamma, beta, eps: float = 1e-5) -> tuple[NDArray, NormCache]:
    """Instance normalization: statistics per image and channel, over (H, W).

    ``x_hat[n, c] = (x[n, c] - mean[n, c]) / sqrt(var[n, c] + eps)``, then
    ``y = gamma[c] * x_hat + beta[c]``.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
        H * W >= 2.
    gamma, beta : array_like, shape (C,)
    eps : float >= 0, default 1e-5

    Returns
    -------
    out : ndarray, shape (N, C, H, W), dtype of ``x``
        (float16: computed in float32, rounded once)
    cache : NormCache
        ``mean``, ``var``, ``inv_std`` of shape (N, C).

    Raises
    ------
    TypeError
        If ``x``, ``gamma`` or ``beta`` do not hold real numbers (e.g.
        complex or strings), or ``eps`` is not a real number.
    ValueError
        If ``x`` is not 4-D, if ``H * W < 2``, if ``gamma``/``beta`` are not
        (C,), or if ``eps`` is negative, NaN or infinite.

    Notes
    -----
    Group norm with G = C. It removes each image's per-channel contrast,
    which is the point in style transfer. PyTorch's ``InstanceNorm2d`` has
    ``affine=False`` by default; here gamma and beta are always applied.

    References
    ----------
    Ulyanov, Vedaldi & Lempitsky, "Instance Normalization: The Missing
    Ingredient for Fast Stylization", arXiv:1607.08022, Section 2.
    """
    x = as_float_array(x, "x", (4,))
    check_batch(x.shape[2] * x.shape[3], "x (values per (n, c), H*W)")
    return _forward("instancenorm", x, gamma, beta, eps, x.shape, (2, 3))


def instancenorm_backward(dout, cache: NormCache) -> tuple[NDArray, NDArray, NDArray]:
    """Backward of :func:`instancenorm_forward`: :func:`normalize_backward` over (H, W).

    Parameters
    ----------
    dout : array_like, shape (N, C, H, W)
    cache : NormCache, from :func:`instancenorm_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dgamma, dbeta : ndarray, shape (C,)

    Raises
    ------
    TypeError
        If ``cache`` is not a ``NormCache``, or ``dout`` does not hold real numbers.
    ValueError
        If ``dout`` is not shaped like ``x`` or the cache comes from another forward.

    References
    ----------
    Ulyanov, Vedaldi & Lempitsky, arXiv:1607.08022, Section 2.
    """
    return _backward("instancenorm", dout, cache)


def groupnorm_forward(x, gamma, beta, G: int, eps: float = 1e-5) -> tuple[NDArray, NormCache]:
    """Group normalization: statistics per image and group of C/G channels.

    ``x`` is viewed as (N, G, C/G, H, W) and standardized over (C/G, H, W);
    then ``y = gamma[c] * x_hat + beta[c]``.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
    gamma, beta : array_like, shape (C,)
    G : int
        Number of groups; must divide C. G = 1 is layer norm over (C, H, W),
        G = C is instance norm.
    eps : float >= 0, default 1e-5

    Returns
    -------
    out : ndarray, shape (N, C, H, W), dtype of ``x``
        (float16: computed in float32, rounded once)
    cache : NormCache
        ``mean``, ``var``, ``inv_std`` of shape (N, G).

    Raises
    ------
    TypeError
        If ``G`` is not an integer (2.0 is refused too), ``x``, ``gamma`` or
        ``beta`` do not hold real numbers, or ``eps`` is not a real number.
    ValueError
        If ``x`` is not 4-D, ``gamma``/``beta`` are not (C,), ``G < 1``,
        C is not divisible by G (the message gives C and G), or ``eps`` is
        negative, NaN or infinite.

    Notes
    -----
    Independent of the batch size, like layer norm. Channels are grouped in
    order: group g holds channels g*C/G to (g+1)*C/G - 1, as in the paper's
    code and PyTorch's ``GroupNorm``.

    References
    ----------
    Wu & He, "Group Normalization", arXiv:1803.08494, Section 3 (Eq. 7 and
    the TensorFlow code of Figure 3).
    """
    x = as_float_array(x, "x", (4,))
    n, c, h, w = x.shape
    G = check_groups(c, G)
    return _forward("groupnorm", x, gamma, beta, eps, (n, G, c // G, h, w), (2, 3, 4))


def groupnorm_backward(dout, cache: NormCache) -> tuple[NDArray, NDArray, NDArray]:
    """Backward of :func:`groupnorm_forward`: :func:`normalize_backward` over (C/G, H, W).

    Parameters
    ----------
    dout : array_like, shape (N, C, H, W)
    cache : NormCache, from :func:`groupnorm_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dgamma, dbeta : ndarray, shape (C,)

    Raises
    ------
    TypeError
        If ``cache`` is not a ``NormCache``, or ``dout`` does not hold real numbers.
    ValueError
        If ``dout`` is not shaped like ``x`` or the cache comes from another forward.

    References
    ----------
    Wu & He, arXiv:1803.08494, Section 3.
    """
    return _backward("groupnorm", dout, cache)


# --------------------------------------------------------------------------
# Batch renormalization (Ioffe 2017)
# --------------------------------------------------------------------------


class RenormCache(NamedTuple):
    """Cache of :func:`batch_renorm_forward`: the plain BN cache plus ``r`` and ``d``.

    Attributes
    ----------
    bn : BatchNormCache
        The cache of the plain batch-norm forward on the same ``x``.
    r, d : ndarray, shape (D,)
        The clipped correction factors, constants for the backward pass.
    x_hat : ndarray, shape (N, D)
        The renormalized input, ``bn.x_hat * r + d``.

    References
    ----------
    Ioffe, arXiv:1702.03275, Algorithm 1.
    """

    bn: BatchNormCache
    r: NDArray
    d: NDArray
    x_hat: NDArray


def batch_renorm_forward(x, gamma, beta, running_mean, running_var, r_max: float = 3.0,
                         d_max: float = 5.0, eps: float = 1e-5) -> tuple[NDArray, RenormCache]:
    """Batch renormalization, training mode: BN corrected toward the running statistics.

    With ``sigma_B = sqrt(var_B + eps)`` and ``sigma = sqrt(running_var + eps)``::

        r = clip(sigma_B / sigma, 1 / r_max, r_max)
        d = clip((mean_B - running_mean) / sigma, -d_max, d_max)
        x_hat = (x - mean_B) / sigma_B * r + d,      out = gamma * x_hat + beta

    ``r`` and ``d`` are treated as constants in the backward pass. With
    ``r_max = 1`` and ``d_max = 0`` this is batch norm.

    Parameters
    ----------
    x : array_like, shape (N, D)
    gamma, beta, running_mean, running_var : array_like, shape (D,)
        ``running_var`` >= 0 (NaN, as after a diverged run, passes through).
    r_max : float >= 1, default 3.0
    d_max : float >= 0, default 5.0
        The paper's final values (it ramps them up from 1 and 0 during training).
    eps : float >= 0, default 1e-5

    Returns
    -------
    out : ndarray, shape (N, D), dtype of ``x`` (float16: computed in
        float32, rounded once)
    cache : RenormCache

    Raises
    ------
    TypeError
        If an array does not hold real numbers (e.g. complex or strings), or
        ``r_max``, ``d_max`` or ``eps`` is not a real number.
    ValueError
        As :func:`~bn_helpers.numerics.batchnorm_forward` (``x`` not 2-D,
        N < 2, a parameter not (D,), ``eps`` negative), if
        ``running_mean``/``running_var`` are not (D,), if ``running_var`` has
        a negative entry, or if r_max < 1 or d_max < 0 (or either is NaN or
        infinite).

    Notes
    -----
    The paper keeps a moving average of ``sigma``; here ``sigma`` comes from
    ``running_var`` kept with PyTorch's convention
    (:func:`bn_helpers.stats.update_running_stats`), so that with r_max=1,
    d_max=0 the running statistics also match plain BN. For float16 ``x``,
    ``r``, ``d`` and ``x_hat`` are float32, as the statistics are.

    References
    ----------
    Ioffe, "Batch Renormalization: Towards Reducing Minibatch Dependence in
    Batch-Normalized Models", arXiv:1702.03275, Section 3 and Algorithm 1.
    """
    r_max = check_number(r_max, "r_max", low=1.0)
    d_max = check_number(d_max, "d_max", low=0.0)
    eps = check_eps(eps)
    _, bn = batchnorm_forward(x, gamma, beta, eps)
    d_shape, work = bn.mean.shape, bn.x_hat.dtype  # work: float32 for float16 x
    running_mean = as_param(running_mean, "running_mean", d_shape, work)
    running_var = as_param(running_var, "running_var", d_shape, work)
    check_nonnegative(running_var, "running_var", "a variance")
    sigma = np.sqrt(running_var.astype(np.float64) + eps)
    r = np.clip(1.0 / (bn.inv_std * sigma), 1.0 / r_max, r_max).astype(work)
    d = np.clip((bn.mean - running_mean) / sigma, -d_max, d_max).astype(work)
    x_hat = bn.x_hat * r + d
    out = bn.gamma * x_hat + bn.beta
    return out.astype(bn.x.dtype, copy=False), RenormCache(bn, r, d, x_hat)


def batch_renorm_backward(dout, cache: RenormCache) -> tuple[NDArray, NDArray, NDArray]:
    """Backward of :func:`batch_renorm_forward`, with ``r`` and ``d`` held constant.

    ``dx`` is the BN backward of ``dout * gamma * r``; ``dgamma = sum(dout * x_hat)``
    with the renormalized ``x_hat``; ``dbeta = sum(dout)``.

    Parameters
    ----------
    dout : array_like, shape (N, D)
    cache : RenormCache

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma, dbeta : ndarray, shape (D,)
        All with the dtype of the forward's ``x`` (float16: summed and
        computed in float32, rounded once).

    Raises
    ------
    TypeError
        If ``cache`` is not a ``RenormCache``, or ``dout`` does not hold real numbers.
    ValueError
        If ``dout`` is not shaped like ``x``.

    References
    ----------
    Ioffe, arXiv:1702.03275, Algorithm 1 ("r and d are treated as constants").
    """
    check_cache(cache, RenormCache, "batch_renorm_forward")
    dtype = cache.bn.x.dtype
    dout = _bn_inputs(dout, cache.bn).astype(_compute_dtype(dtype), copy=False)
    dbeta = dout.sum(axis=0, dtype=np.float64)
    dgamma = (dout * cache.x_hat).sum(axis=0, dtype=np.float64)
    dx = normalize_backward(dout * (cache.bn.gamma * cache.r), cache.bn.x_hat, cache.bn.inv_std[None, :], (0,))
    return dx.astype(dtype), dgamma.astype(dtype), dbeta.astype(dtype)
