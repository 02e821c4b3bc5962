"""Experiments of assignment 03_backward: gradient flow in a deep net, gradient checks, timing.

:func:`gradient_flow` measures the seed's "Gradient Flow" view: the norm of
each Linear layer's weight gradient in a deep network at initialization, on
one batch of digits, with and without batch norm (:func:`format_flow_table`
prints its controls over several seeds). :func:`gradcheck_errors`
shows why a gradient check of batch norm needs a random upstream gradient,
with :func:`backward_without_variance_path` as the bug it should catch.
:func:`median_seconds` times a function the way the notebook compares the
staged and the compact backward.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
from numpy.typing import NDArray

from .. import nn, numerics
from ..data import load_digits_split
from ..gradcheck import numerical_gradient, rel_error
from ._threads import one_thread

__all__ = ["gradient_flow", "format_flow_table", "backward_without_variance_path", "gradcheck_errors",
           "median_seconds"]


def gradient_flow(activation: str = "sigmoid", norm: str | None = None, *, depth: int = 20, width: int = 100,
                  batch_size: int = 64, gain: float = 1.0, seed: int = 0) -> NDArray:
    """Weight-gradient norm of every Linear layer of a deep MLP at initialization, on one batch.

    The network is ``nn.mlp([64] + [width] * depth + [10], activation, norm)``
    with weights ``N(0, (gain / sqrt(fan_in))^2)``; the batch is the first
    ``batch_size`` training digits of ``load_digits_split(seed=0)``; the loss is
    the softmax cross-entropy. One forward and one backward pass, no update.

    Parameters
    ----------
    activation : {"sigmoid", "tanh", "relu"}, default "sigmoid"
    norm : {None, "batch"}, default None
        Batch norm between each hidden Linear and its activation.
    depth : int, default 20
        Number of hidden layers.
    width : int, default 100
    batch_size : int, default 64
    gain : float, default 1.0
        Multiplies the default N(0, 1/fan_in) initialization's std.
    seed : int, default 0
        Seed of the weights.

    Returns
    -------
    ndarray, shape (depth + 1,)
        ``||dW||`` (Frobenius norm) of each Linear layer, input side first.

    Raises
    ------
    ValueError
        If ``gain`` is not positive, or from :func:`bn_helpers.nn.mlp`.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3.3 (BN and the scale of the
    gradients); Glorot & Bengio, "Understanding the difficulty of training
    deep feedforward neural networks", AISTATS 2010 (vanishing gradients with
    sigmoid); the seed's "Gradient Flow" slide (illustrative numbers).
    """
    if not gain > 0:
        raise ValueError(f"gain must be positive; got {gain}")
    digits = load_digits_split(seed=0)
    X, y = digits.X_train[:batch_size], digits.y_train[:batch_size]
    model = nn.mlp([X.shape[1]] + [width] * depth + [10], activation=activation, norm=norm, seed=seed)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    for layer in linears:
        layer.W[...] *= gain
    with one_thread():
        _, dlogits = nn.softmax_cross_entropy(model.forward(X), y)
        model.backward(dlogits)
    return np.array([np.linalg.norm(layer.grads()[0]) for layer in linears])


def format_flow_table(table: dict) -> str:
    """The controls of the gradient-flow experiment as a table, lowest to highest over the seeds.

    Parameters
    ----------
    table : dict of (activation, gain, norm) to ndarray, shape (S, L)
        :func:`gradient_flow` for S seeds, ``norm`` None or "batch".

    Returns
    -------
    str
        One row per activation and gain: layer 1's and the output layer's
        ``||dW||`` without BN, and the same with BN, each as "lowest-highest".

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3.3 (BN and the scale of the weights).
    """
    span = lambda v, fmt: f"{format(v.min(), fmt)}-{format(v.max(), fmt)}"  # noqa: E731
    seeds = next(iter(table.values())).shape[0]
    lines = [f"||dW|| over {seeds} weight seeds (lowest-highest)",
             f"{'activation':>10} {'init':>4} | {'no BN: layer 1':>17} {'output':>17} | "
             f"{'BN: layer 1':>11} {'output':>9}"]
    for (act, gain, norm), g in table.items():
        if norm is None:
            b = table[act, gain, "batch"]
            lines.append(f"{act:>10} {gain:>4} | {span(g[:, 0], '.1e'):>17} {span(g[:, -1], '.1e'):>17} | "
                         f"{span(b[:, 0], '.2f'):>11} {span(b[:, -1], '.2f'):>9}")
    return "\n".join(lines)


def backward_without_variance_path(dout, cache) -> tuple[NDArray, NDArray, NDArray]:
    """A *wrong* batch-norm backward that treats the variance as a constant (the bug to catch).

    ``dx = gamma * inv_std * (dout - mean(dout))``: the mean path is there, the
    variance path is not.

    Parameters
    ----------
    dout : ndarray, shape (N, D)
    cache : BatchNormCache

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma, dbeta : ndarray, shape (D,)
        These two are correct.

    References
    ----------
    cs231n assignment 2, "Batch normalization: backward" (the variance path).
    """
    dx_hat = dout * cache.gamma
    dx = cache.inv_std * (dx_hat - dx_hat.mean(axis=0))
    return dx, (dout * cache.x_hat).sum(axis=0), dout.sum(axis=0)


def gradcheck_errors(backward: Callable, x, gamma, beta, dout, eps: float = 1e-5) -> tuple[float, float, float]:
    """Relative and absolute error of ``backward``'s dx against central differences, and the largest ``|dx|``.

    Parameters
    ----------
    backward : callable
        ``backward(dout, cache) -> (dx, dgamma, dbeta)``.
    x : ndarray, shape (N, D), float64
    gamma, beta : ndarray, shape (D,)
    dout : ndarray, shape (N, D)
        The upstream gradient.
    eps : float, default 1e-5

    Returns
    -------
    (rel_error, abs_error, max_abs_dx) : tuple of float
        ``rel_error`` as :func:`bn_helpers.gradcheck.rel_error`; ``abs_error``
        the largest ``|dx - numerical dx|``. When the true ``dx`` is zero
        (``dout`` = ones) only ``abs_error`` means anything: the relative error
        then compares two rounding noises.

    References
    ----------
    cs231n, ``gradient_check.py``; Goodfellow, Bengio & Courville, *Deep
    Learning* (2016), Section 11.5.
    """
    _, cache = numerics.batchnorm_forward(x, gamma, beta, eps)
    dx = backward(dout, cache)[0]
    numeric = numerical_gradient(lambda v: numerics.batchnorm_forward(v, gamma, beta, eps)[0], x, dout)
    return rel_error(dx, numeric), float(np.abs(dx - numeric).max()), float(np.abs(dx).max())


def median_seconds(fn: Callable, *args, repeats: int = 30) -> float:
    """Median wall time of ``fn(*args)`` over ``repeats`` calls, after one warm-up call.

    Parameters
    ----------
    fn : callable
    *args
        Passed to ``fn``.
    repeats : int, default 30

    Returns
    -------
    float
        Seconds.

    References
    ----------
    Python documentation, ``timeit`` (take a robust statistic of repeated
    timings rather than one run).
    """
    fn(*args)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return float(np.median(times))
