"""Running statistics, inference, folding and merging: batch norm outside one batch.

* :func:`update_running_stats` — PyTorch's convention for ``running_mean`` and
  ``running_var``; :func:`keras_to_torch_momentum` converts Keras' momentum.
* :func:`batchnorm_train_step` — one training-mode forward that also updates
  the running statistics, for (N, D) or (N, C, H, W).
* :func:`batchnorm_eval` — inference with the running statistics.
* :func:`fold_batchnorm` — fold an eval-mode BN into the preceding linear layer.
* :func:`merge_batch_stats` — combine per-device statistics, as synchronized
  BN does across devices.

Float16 data is summed and computed in float32 and the results rounded to
float16 once, as PyTorch's CPU kernels do with half precision.

References
----------
Ioffe & Szegedy, arXiv:1502.03167, Algorithm 2; PyTorch documentation,
``torch.nn.BatchNorm1d`` and ``torch.nn.SyncBatchNorm``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._validate import as_float_array, as_param, check_eps, check_int, check_momentum, check_nonnegative
from .numerics import _compute_dtype, batchnorm_forward
from .norms import spatial_batchnorm_forward

__all__ = [
    "RunningStats", "init_running_stats", "update_running_stats", "keras_to_torch_momentum",
    "batchnorm_train_step", "batchnorm_eval", "fold_batchnorm", "merge_batch_stats",
]


class RunningStats(NamedTuple):
    """Running statistics of one BN layer, as PyTorch's ``BatchNorm`` buffers keep them.

    Attributes
    ----------
    mean : ndarray, shape (C,)
        ``running_mean``: moving average of the batch means.
    var : ndarray, shape (C,)
        ``running_var``: moving average of the *unbiased* batch variances.
    num_batches_tracked : int
        Training batches seen so far.

    References
    ----------
    PyTorch documentation, ``torch.nn.BatchNorm1d`` (the buffers
    ``running_mean``, ``running_var``, ``num_batches_tracked``).
    """

    mean: NDArray
    var: NDArray
    num_batches_tracked: int


def init_running_stats(num_features: int, dtype=np.float64) -> RunningStats:
    """PyTorch's initial state: ``running_mean`` zeros, ``running_var`` ones, 0 batches.

    Parameters
    ----------
    num_features : int
        C (or D), the number of features or channels; >= 1.
    dtype : numpy floating dtype, default numpy.float64
        Of the two arrays (float16 buffers are updated in float32 and rounded
        once, as PyTorch does).

    Returns
    -------
    RunningStats
        ``mean`` zeros (C,), ``var`` ones (C,), ``num_batches_tracked`` 0.

    Raises
    ------
    TypeError
        If ``num_features`` is not an integer, or ``dtype`` is not a
        floating-point dtype.
    ValueError
        If ``num_features`` < 1.

    References
    ----------
    PyTorch documentation, ``torch.nn.BatchNorm1d`` (running statistics
    start at 0 and 1).

    Examples
    --------
    >>> init_running_stats(2)
    RunningStats(mean=array([0., 0.]), var=array([1., 1.]), num_batches_tracked=0)
    """
    num_features = check_int(num_features, "num_features", low=1)
    if np.dtype(dtype).kind != "f":
        raise TypeError(f"dtype must be a floating-point dtype (e.g. numpy.float32); got {np.dtype(dtype)}")
    return RunningStats(np.zeros(num_features, dtype), np.ones(num_features, dtype), 0)


def _check_stats(stats) -> None:
    """Refuse anything but a :class:`RunningStats` of two (C,) floating-point arrays."""
    if not isinstance(stats, RunningStats):
        raise TypeError(f"stats must be a RunningStats (see init_running_stats); got {type(stats).__name__}")
    mean, var = stats.mean, stats.var
    if not (isinstance(mean, np.ndarray) and isinstance(var, np.ndarray)):
        raise TypeError("stats.mean and stats.var must be NumPy arrays of shape (C,); "
                        f"got {type(mean).__name__} and {type(var).__name__}")
    if mean.ndim != 1 or var.shape != mean.shape or mean.dtype.kind != "f" or var.dtype.kind != "f":
        raise ValueError("stats.mean and stats.var must be floating-point arrays of one shape (C,); "
                         f"got {mean.dtype} {mean.shape} and {var.dtype} {var.shape}")


def update_running_stats(stats: RunningStats, batch_mean, batch_var, count: int,
                         momentum: float | None = 0.1) -> RunningStats:
    """One update of the running statistics, PyTorch's convention.

    ``new = (1 - momentum) * old + momentum * batch``, where the batch variance
    enters *unbiased*: ``batch_var * M / (M - 1)`` with ``M`` the number of
    values per feature (N for (N, D), N*H*W for (N, C, H, W)). With
    ``momentum=None`` the factor is ``1 / num_batches_tracked`` after counting
    this batch: a cumulative average of all batches seen.

    Parameters
    ----------
    stats : RunningStats
        The state before this batch (mean (C,), var (C,), floating point).
    batch_mean, batch_var : array_like, shape (C,)
        The batch's mean and *biased* variance, as the forward pass used
        them; ``batch_var`` >= 0 (NaN, as a diverging run produces, passes
        through as in PyTorch).
    count : int >= 2
        M, values per feature in the batch: an integer (Python or NumPy),
        at least 2 because the unbiased correction divides by M - 1.
    momentum : float in [0, 1] or None, default 0.1

    Returns
    -------
    RunningStats
        New arrays of the dtype of ``stats``; ``stats`` is not changed.
        Float16 buffers are updated in float32 and rounded once.

    Raises
    ------
    TypeError
        If ``stats`` is not a ``RunningStats`` of NumPy arrays, ``count`` is
        not an integer (2.7 and 2.0 are refused), ``momentum`` is not a real
        number or None, or ``batch_mean``/``batch_var`` do not hold real numbers.
    ValueError
        If ``stats`` does not hold two floating-point (C,) arrays, the batch
        statistics are not (C,), ``count`` < 2, ``batch_var`` has a negative
        entry, or momentum is outside [0, 1] (or NaN).

    Notes
    -----
    Keras' ``BatchNormalization`` writes the same average the other way round,
    ``new = momentum * old + (1 - momentum) * batch`` with default 0.99: see
    :func:`keras_to_torch_momentum`.

    References
    ----------
    PyTorch documentation, ``torch.nn.BatchNorm1d`` (momentum, "the running
    estimate of variance is calculated via the unbiased estimator");
    Ioffe & Szegedy, arXiv:1502.03167, Algorithm 2 (unbiased variance for inference).

    Examples
    --------
    >>> s = update_running_stats(init_running_stats(1), [1.12], [2.8376], count=5)
    >>> float(s.mean[0].round(4)), float(s.var[0].round(4))
    (0.112, 1.2547)
    """
    _check_stats(stats)
    momentum = check_momentum(momentum)
    count = check_int(count, "count (values per feature; the unbiased variance divides by count - 1)", low=2)
    c, work = stats.mean.shape, _compute_dtype(stats.var.dtype)  # float32 for float16 buffers
    batch_mean = as_param(batch_mean, "batch_mean", c, work)
    batch_var = as_param(batch_var, "batch_var", c, work)
    check_nonnegative(batch_var, "batch_var", "the biased batch variance")
    tracked = stats.num_batches_tracked + 1
    factor = 1.0 / tracked if momentum is None else momentum
    unbiased = batch_var * (count / (count - 1))
    mean = (1 - factor) * stats.mean.astype(work, copy=False) + factor * batch_mean
    var = (1 - factor) * stats.var.astype(work, copy=False) + factor * unbiased
    return RunningStats(mean.astype(stats.mean.dtype), var.astype(stats.var.dtype), tracked)


def keras_to_torch_momentum(momentum: float) -> float:
    """Convert Keras' BN momentum (weight of the *old* value) to PyTorch's (weight of the *batch*).

    Keras: ``moving = moving * m + batch * (1 - m)``, default ``m = 0.99``.
    PyTorch: ``running = (1 - m') * running + m' * batch``, default ``m' = 0.1``.
    So ``m' = 1 - m``.

    Parameters
    ----------
    momentum : float in [0, 1]
        Keras' momentum (no default here; Keras' own is 0.99).

    Returns
    -------
    float
        PyTorch's momentum, ``1 - momentum``.

    Raises
    ------
    TypeError
        If ``momentum`` is not a real number (None, a string):
        "momentum must be a real number in [0, 1]; got NoneType None".
    ValueError
        If ``momentum`` is outside [0, 1] or NaN.

    References
    ----------
    Keras documentation, ``keras.layers.BatchNormalization``; PyTorch
    documentation, ``torch.nn.BatchNorm1d`` (the note on momentum).

    Examples
    --------
    >>> round(keras_to_torch_momentum(0.99), 6)
    0.01
    """
    return 1.0 - check_momentum(momentum, allow_none=False)


def batchnorm_train_step(x, gamma, beta, stats: RunningStats, momentum: float | None = 0.1,
                         eps: float = 1e-5):
    """Training-mode batch norm that also updates the running statistics.

    Parameters
    ----------
    x : array_like, shape (N, D) or (N, C, H, W)
    gamma, beta : array_like, shape (D,) or (C,)
    stats : RunningStats
        State before the step, arrays of shape (C,).
    momentum : float in [0, 1] or None, default 0.1
        PyTorch's convention (see :func:`update_running_stats`).
    eps : float >= 0, default 1e-5

    Returns
    -------
    out : ndarray shaped like ``x``, dtype of ``x``
    cache : the forward's cache (``BatchNormCache`` or ``NormCache``)
    stats : RunningStats after the step, dtype of ``stats``

    Raises
    ------
    TypeError
        If ``x``, ``gamma`` or ``beta`` do not hold real numbers, ``stats``
        is not a ``RunningStats``, or ``momentum``/``eps`` are not real numbers.
    ValueError
        As the forward passes do (``x`` not 2-D or 4-D, a parameter not (C,),
        a single value per channel, ``eps`` negative), if ``stats`` does not
        hold C features, or if ``momentum`` is outside [0, 1].

    Notes
    -----
    Float16 ``x`` is normalized in float32 (see
    :func:`~bn_helpers.numerics.batchnorm_forward`) and the float32 batch
    statistics enter the update, so a batch variance past 65504 does not
    become ``inf`` before it is weighted by ``momentum``, as in PyTorch.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Algorithm 1 (training) and Algorithm 2
    (the moving averages); PyTorch documentation, ``torch.nn.BatchNorm1d``
    and ``torch.nn.BatchNorm2d`` (momentum, unbiased running variance).
    """
    x = as_float_array(x, "x", (2, 4))
    _check_stats(stats)
    momentum = check_momentum(momentum)
    if stats.mean.shape != (x.shape[1],):
        raise ValueError(f"stats must hold C={x.shape[1]} features (axis 1 of x), shape ({x.shape[1]},); "
                         f"got shape {stats.mean.shape}")
    if x.ndim == 2:
        out, cache = batchnorm_forward(x, gamma, beta, eps)
        count = x.shape[0]
    else:
        out, cache = spatial_batchnorm_forward(x, gamma, beta, eps)
        count = x.shape[0] * x.shape[2] * x.shape[3]
    return out, cache, update_running_stats(stats, cache.mean, cache.var, count, momentum)


def batchnorm_eval(x, gamma, beta, running_mean, running_var, eps: float = 1e-5) -> NDArray:
    """Inference-mode batch norm: normalize with the running statistics.

    ``y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta``, per
    feature (axis 1): each example's output depends on that example only.

    Parameters
    ----------
    x : array_like, shape (N, D) or (N, C, H, W)
    gamma, beta, running_mean, running_var : array_like, shape (D,) or (C,)
        ``running_var`` >= 0 (NaN, as after a diverged run, passes through).
    eps : float >= 0, default 1e-5

    Returns
    -------
    ndarray shaped like ``x``, dtype of ``x`` (float16: computed in float32,
    rounded once)

    Raises
    ------
    TypeError
        If an array does not hold real numbers (e.g. complex or strings), or
        ``eps`` is not a real number.
    ValueError
        If ``x`` is not 2-D or 4-D, a parameter is not (C,), ``running_var``
        has a negative entry, or ``eps`` is negative, NaN or infinite.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3.1 and Algorithm 2.
    """
    x = as_float_array(x, "x", (2, 4))
    eps = check_eps(eps)
    c, work = (x.shape[1],), _compute_dtype(x.dtype)  # float32 for float16 x
    gamma, beta, mean, var = (as_param(p, name, c, work) for p, name in (
        (gamma, "gamma"), (beta, "beta"), (running_mean, "running_mean"), (running_var, "running_var")))
    check_nonnegative(var, "running_var", "a variance")
    scale = gamma / np.sqrt(var + work.type(eps))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    out = (x.astype(work, copy=False) - mean.reshape(shape)) * scale.reshape(shape) + beta.reshape(shape)
    return out.astype(x.dtype, copy=False)


def fold_batchnorm(W, b, gamma, beta, running_mean, running_var, eps: float = 1e-5) -> tuple[NDArray, NDArray]:
    """Fold an eval-mode BN into the linear layer before it: one layer, same outputs.

    For ``z = x @ W + b`` followed by ``y = gamma * (z - mean) / sqrt(var + eps) + beta``,
    ``y = x @ W' + b'`` with ``W' = W * s`` (each column scaled) and
    ``b' = (b - mean) * s + beta``, where ``s = gamma / sqrt(var + eps)``.

    Parameters
    ----------
    W : array_like, shape (D_in, D)
        Weights in the ``x @ W`` convention (PyTorch's ``Linear.weight`` is ``W.T``).
    b : array_like, shape (D,), or None for a layer without bias
    gamma, beta, running_mean, running_var : array_like, shape (D,)
        ``running_var`` >= 0 (NaN passes through).
    eps : float >= 0, default 1e-5

    Returns
    -------
    W_folded : ndarray, shape (D_in, D)
    b_folded : ndarray, shape (D,)
        Both with the dtype of ``W`` (float16: computed in float32, rounded once).

    Raises
    ------
    TypeError
        If an array does not hold real numbers (e.g. complex or strings), or
        ``eps`` is not a real number.
    ValueError
        If ``W`` is not 2-D, a vector is not (D,), ``running_var`` has a
        negative entry, or ``eps`` is negative, NaN or infinite.

    References
    ----------
    Jacob et al., "Quantization and Training of Neural Networks for Efficient
    Integer-Arithmetic-Only Inference", arXiv:1712.05877, Section 3.2 (batch
    normalization folding).
    """
    W = as_float_array(W, "W", (2,))
    eps = check_eps(eps)
    d, work = (W.shape[1],), _compute_dtype(W.dtype)  # float32 for float16 W
    b = np.zeros(d, work) if b is None else as_param(b, "b", d, work)
    gamma, beta, mean, var = (as_param(p, name, d, work) for p, name in (
        (gamma, "gamma"), (beta, "beta"), (running_mean, "running_mean"), (running_var, "running_var")))
    check_nonnegative(var, "running_var", "a variance")
    s = gamma / np.sqrt(var + eps)
    return (W * s).astype(W.dtype, copy=False), ((b - mean) * s + beta).astype(W.dtype, copy=False)


def merge_batch_stats(counts, means, variances) -> tuple[NDArray, NDArray]:
    """Global mean and biased variance from per-device counts, means and biased variances.

    ``mean = sum_k n_k m_k / n`` and ``var = sum_k n_k (v_k + (m_k - mean)^2) / n``:
    the within-device spread plus the spread of the device means. No
    ``E[x^2] - E[x]^2``, so it stays accurate for data with a large mean.

    Parameters
    ----------
    counts : array_like of positive finite numbers, shape (K,)
        Values per feature on each of K >= 1 devices. Usually integers; any
        positive finite number is accepted, because only the weights
        ``n_k / n`` enter the formulas and PyTorch's ``SyncBatchNorm``
        gathers its counts as floating-point tensors. With non-integer
        counts the result is the mean and variance of the mixture weighted
        by ``n_k / n``.
    means : array_like, shape (K, D)
        Per-device means; finite.
    variances : array_like, shape (K, D)
        Biased (divided by n_k) per-device variances; finite and >= 0.

    Returns
    -------
    mean, var : ndarray, shape (D,)
        Equal to the statistics of all devices' data concatenated; dtype of
        ``means`` (computed in float64).

    Raises
    ------
    TypeError
        If ``counts``, ``means`` or ``variances`` do not hold real numbers
        (strings, booleans, None).
    ValueError
        If ``means``/``variances`` are not 2-D (K, D) with K >= 1, shapes
        disagree (the message gives the expected shape), a count is not
        positive and finite (0, -1, NaN, inf), a mean is not finite, or a
        variance is negative or not finite. Messages name the argument, the
        requirement and the first offending entry.

    Notes
    -----
    Unlike :func:`update_running_stats`, which lets NaN from a diverging
    run pass through as PyTorch does, this function refuses NaN: it is a
    stand-alone computation on summaries, where a NaN is always an upstream
    mistake.

    References
    ----------
    Chan, Golub & LeVeque, "Updating formulae and a pairwise algorithm for
    computing sample variances", Stanford CS tech. report STAN-CS-79-773
    (1979); PyTorch documentation, ``torch.nn.SyncBatchNorm``.
    """
    means = as_float_array(means, "means", (2,), layout="(K, D), one row per device")
    variances = as_float_array(variances, "variances", (2,), layout="(K, D), one row per device")
    k = means.shape[0]
    if k < 1:
        raise ValueError("means must have at least one row (one per device), shape (K, D) with K >= 1; "
                         f"got shape {means.shape}")
    if variances.shape != means.shape:
        raise ValueError(f"variances must have the shape of means, {means.shape}; got shape {variances.shape}")
    raw = np.asarray(counts)
    if raw.dtype.kind not in "iuf":
        raise TypeError(f"counts must hold positive finite numbers, shape ({k},); got dtype {raw.dtype}")
    if raw.shape != (k,):
        raise ValueError(f"counts must have shape ({k},) (one per device, as rows of means); got shape {raw.shape}")
    counts = raw.astype(np.float64)
    bad = np.flatnonzero(~(np.isfinite(counts) & (counts > 0)))
    if len(bad):
        raise ValueError(f"counts must be positive finite numbers (values per feature on each device); "
                         f"got {float(counts[bad[0]])!r} at index {int(bad[0])}: {raw.tolist()}")
    for name, arr in (("means", means), ("variances", variances)):
        bad = np.argwhere(~np.isfinite(arr))
        if len(bad):
            where = tuple(int(i) for i in bad[0])
            raise ValueError(f"{name} must be finite; got {float(arr[where])!r} at index {where}")
    check_nonnegative(variances, "variances", "biased per-device variances")
    w = (counts / counts.sum())[:, None]
    m64, v64 = means.astype(np.float64), variances.astype(np.float64)
    mean = (w * m64).sum(axis=0)
    var = (w * (v64 + (m64 - mean) ** 2)).sum(axis=0)
    return mean.astype(means.dtype), var.astype(means.dtype)
