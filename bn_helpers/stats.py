"""Running statistics, inference, folding and merging: batch norm outside one batch.

* :func:`update_running_stats` — PyTorch's convention for ``running_mean`` and
  ``running_var``; :func:`keras_to_torch_momentum` converts Keras' momentum.
* :func:`batchnorm_train_step` — one training-mode forward that also updates
  the running statistics, for (N, D) or (N, C, H, W).
* :func:`batchnorm_eval` — inference with the running statistics.
* :func:`fold_batchnorm` — fold an eval-mode BN into the preceding linear layer.
* :func:`merge_batch_stats` — combine per-device statistics, as synchronized
  BN does across devices.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._validate import as_float_array, as_param, check_eps
from .numerics import batchnorm_forward
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
    dtype : numpy dtype, default numpy.float64
        Of the two arrays.

    Returns
    -------
    RunningStats
        ``mean`` zeros (C,), ``var`` ones (C,), ``num_batches_tracked`` 0.

    Raises
    ------
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
    if int(num_features) < 1:
        raise ValueError(f"num_features must be >= 1; got {num_features}")
    return RunningStats(np.zeros(num_features, dtype), np.ones(num_features, dtype), 0)


def _check_momentum(momentum: float | None) -> float | None:
    if momentum is None:
        return None
    momentum = float(momentum)
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum must be in [0, 1] or None; got {momentum}")
    return momentum


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
        The state before this batch (mean (C,), var (C,)).
    batch_mean, batch_var : array_like, shape (C,)
        The batch's mean and *biased* variance, as the forward pass used them.
    count : int
        M, values per feature in the batch; must be >= 2.
    momentum : float in [0, 1] or None, default 0.1

    Returns
    -------
    RunningStats
        New arrays; ``stats`` is not changed.

    Raises
    ------
    ValueError
        If shapes differ from (C,), ``count`` < 2, or momentum is outside [0, 1].

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
    momentum = _check_momentum(momentum)
    c = stats.mean.shape
    batch_mean = as_param(batch_mean, "batch_mean", c, stats.mean.dtype)
    batch_var = as_param(batch_var, "batch_var", c, stats.var.dtype)
    if int(count) < 2:
        raise ValueError(f"count must be >= 2 to form an unbiased variance; got {count}")
    tracked = stats.num_batches_tracked + 1
    factor = 1.0 / tracked if momentum is None else momentum
    unbiased = batch_var * (count / (count - 1))
    mean = (1 - factor) * stats.mean + factor * batch_mean
    var = (1 - factor) * stats.var + factor * unbiased
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
    ValueError
        If ``momentum`` is outside [0, 1].

    References
    ----------
    Keras documentation, ``keras.layers.BatchNormalization``; PyTorch
    documentation, ``torch.nn.BatchNorm1d`` (the note on momentum).

    Examples
    --------
    >>> round(keras_to_torch_momentum(0.99), 6)
    0.01
    """
    momentum = float(momentum)
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum must be in [0, 1]; got {momentum}")
    return 1.0 - momentum


def batchnorm_train_step(x, gamma, beta, stats: RunningStats, momentum: float | None = 0.1,
                         eps: float = 1e-5):
    """Training-mode batch norm that also updates the running statistics.

    Parameters
    ----------
    x : array_like, shape (N, D) or (N, C, H, W)
    gamma, beta : array_like, shape (D,) or (C,)
    stats : RunningStats
        State before the step.
    momentum : float or None, default 0.1
        PyTorch's convention (see :func:`update_running_stats`).
    eps : float, default 1e-5

    Returns
    -------
    out : ndarray shaped like ``x``
    cache : the forward's cache (``BatchNormCache`` or ``NormCache``)
    stats : RunningStats after the step

    Raises
    ------
    TypeError
        If ``x`` does not hold real numbers (e.g. complex or strings).
    ValueError
        As the forward passes do (``x`` not 2-D or 4-D, a parameter not (C,),
        a single value per channel, ``eps`` negative), or if ``momentum`` is
        outside [0, 1].

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Algorithm 1 (training) and Algorithm 2
    (the moving averages); PyTorch documentation, ``torch.nn.BatchNorm1d``
    and ``torch.nn.BatchNorm2d`` (momentum, unbiased running variance).
    """
    x = as_float_array(x, "x", (2, 4))
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
    eps : float, default 1e-5

    Returns
    -------
    ndarray shaped like ``x``, dtype of ``x``

    Raises
    ------
    TypeError
        If ``x`` does not hold real numbers (e.g. complex or strings).
    ValueError
        If ``x`` is not 2-D or 4-D, a parameter is not (C,), or ``eps`` is
        negative.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3.1 and Algorithm 2.
    """
    x = as_float_array(x, "x", (2, 4))
    eps = check_eps(eps)
    c = (x.shape[1],)
    gamma, beta, mean, var = (as_param(p, name, c, x.dtype) for p, name in (
        (gamma, "gamma"), (beta, "beta"), (running_mean, "running_mean"), (running_var, "running_var")))
    scale = gamma / np.sqrt(var + x.dtype.type(eps))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean.reshape(shape)) * scale.reshape(shape) + beta.reshape(shape)


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
    eps : float, default 1e-5

    Returns
    -------
    W_folded : ndarray, shape (D_in, D)
    b_folded : ndarray, shape (D,)

    Raises
    ------
    TypeError
        If ``W`` does not hold real numbers (e.g. complex or strings).
    ValueError
        If ``W`` is not 2-D, a vector is not (D,), or ``eps`` is negative.

    References
    ----------
    Jacob et al., "Quantization and Training of Neural Networks for Efficient
    Integer-Arithmetic-Only Inference", arXiv:1712.05877, Section 3.2 (batch
    normalization folding).
    """
    W = as_float_array(W, "W", (2,))
    eps = check_eps(eps)
    d = (W.shape[1],)
    b = np.zeros(d, W.dtype) if b is None else as_param(b, "b", d, W.dtype)
    gamma, beta, mean, var = (as_param(p, name, d, W.dtype) for p, name in (
        (gamma, "gamma"), (beta, "beta"), (running_mean, "running_mean"), (running_var, "running_var")))
    s = gamma / np.sqrt(var + eps)
    return W * s, (b - mean) * s + beta


def merge_batch_stats(counts, means, variances) -> tuple[NDArray, NDArray]:
    """Global mean and biased variance from per-device counts, means and biased variances.

    ``mean = sum_k n_k m_k / n`` and ``var = sum_k n_k (v_k + (m_k - mean)^2) / n``:
    the within-device spread plus the spread of the device means. No
    ``E[x^2] - E[x]^2``, so it stays accurate for data with a large mean.

    Parameters
    ----------
    counts : array_like, shape (K,)
        Values per feature on each of K devices; positive.
    means : array_like, shape (K, D)
    variances : array_like, shape (K, D)
        Biased (divided by n_k) variances.

    Returns
    -------
    mean, var : ndarray, shape (D,)
        Equal to the statistics of all devices' data concatenated.

    Raises
    ------
    TypeError
        If ``means`` or ``variances`` do not hold real numbers.
    ValueError
        If ``means``/``variances`` are not 2-D, shapes disagree, or a count
        is not positive.

    References
    ----------
    Chan, Golub & LeVeque, "Updating formulae and a pairwise algorithm for
    computing sample variances", Stanford CS tech. report STAN-CS-79-773
    (1979); PyTorch documentation, ``torch.nn.SyncBatchNorm``.
    """
    counts = np.asarray(counts, dtype=np.float64)
    means = as_float_array(means, "means", (2,))
    variances = as_float_array(variances, "variances", (2,))
    if counts.ndim != 1 or counts.shape[0] != means.shape[0]:
        raise ValueError(f"counts must have shape ({means.shape[0]},) (one per device); got shape {counts.shape}")
    if variances.shape != means.shape:
        raise ValueError(f"variances must have the shape of means, {means.shape}; got shape {variances.shape}")
    if np.any(counts <= 0):
        raise ValueError(f"counts must be positive; got {counts.tolist()}")
    w = (counts / counts.sum())[:, None]
    m64, v64 = means.astype(np.float64), variances.astype(np.float64)
    mean = (w * m64).sum(axis=0)
    var = (w * (v64 + (m64 - mean) ** 2)).sum(axis=0)
    return mean.astype(means.dtype), var.astype(means.dtype)
