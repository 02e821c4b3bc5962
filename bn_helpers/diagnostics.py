"""Numbers that tell whether a network trains well: activations, saturation, gradients, updates.

Each function takes plain arrays, so it works on anything; the arrays usually
come from :func:`bn_helpers.nn.record` (``rec.of(Tanh)[i].output``,
``rec.of(Linear)[i].grads["W"]``) or from a ``fit`` callback.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import as_float_array

__all__ = [
    "layer_stats", "saturation_fraction", "sigmoid_saturation_fraction",
    "grad_data_ratio", "update_data_ratio", "percentiles_over_training",
]


def _std_ratio(num, den, num_name: str, den_name: str) -> float:
    num = as_float_array(num, num_name, (1, 2, 3, 4))
    den = as_float_array(den, den_name, (1, 2, 3, 4))
    if num.shape != den.shape:
        raise ValueError(f"{num_name} must have the shape of {den_name}, {den.shape}; got shape {num.shape}")
    return float(np.std(num) / np.std(den))


def layer_stats(activations: Sequence[ArrayLike]) -> list[tuple[float, float]]:
    """Mean and standard deviation of each layer's activations, over all its entries.

    Parameters
    ----------
    activations : sequence of array_like
        One array per layer, e.g. (N, D) outputs of each activation layer.

    Returns
    -------
    list of (mean, std) floats, one per layer; the std is the biased one
    (``numpy.std``).

    Raises
    ------
    TypeError
        If an array does not hold real numbers.
    ValueError
        If an array is not 1-D to 4-D.

    Notes
    -----
    At a good initialization the std stays roughly constant from layer to
    layer; shrinking toward 0 or growing with depth means the forward signal
    vanishes or explodes (Glorot & Bengio, AISTATS 2010, Section 4.2; Karpathy,
    "Building makemore Part 3: Activations & Gradients, BatchNorm", 2022).

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 1 (the distribution of each
    layer's inputs changes during training) and Section 4.1 (activations
    over time).

    Examples
    --------
    >>> layer_stats([[[1.0, 3.0]], [[-2.0, 2.0]]])
    [(2.0, 1.0), (0.0, 2.0)]
    """
    stats = []
    for i, a in enumerate(activations):
        a = np.asarray(as_float_array(a, f"activations[{i}]", (1, 2, 3, 4)), dtype=np.float64)
        stats.append((float(a.mean()), float(a.std())))
    return stats


def saturation_fraction(a: ArrayLike, threshold: float = 0.97) -> float:
    """Fraction of entries with ``|a| > threshold``: saturated tanh units.

    Meant for tanh outputs, whose derivative ``1 - a**2`` is below 0.06 when
    ``|a| > 0.97``: little gradient flows back through those units.

    Parameters
    ----------
    a : array_like, any shape
    threshold : float, default 0.97
        Karpathy's choice for tanh in "Building makemore Part 3" (2022).

    Returns
    -------
    float in [0, 1]

    Raises
    ------
    TypeError
        If ``a`` does not hold real numbers.
    ValueError
        If ``a`` is not 1-D to 4-D.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 1 (the saturation problem)
    and Section 3.3; Karpathy, "Building makemore Part 3: Activations &
    Gradients, BatchNorm" (2022), for the threshold.

    Examples
    --------
    >>> saturation_fraction([-0.99, -0.5, 0.0, 0.98])
    0.5
    """
    a = np.asarray(as_float_array(a, "a", (1, 2, 3, 4)))
    return float(np.mean(np.abs(a) > threshold))


def sigmoid_saturation_fraction(s: ArrayLike, margin: float = 0.03) -> float:
    """Fraction of sigmoid outputs within ``margin`` of 0 or of 1: ``s < margin`` or ``s > 1 - margin``.

    The sigmoid's derivative ``s (1 - s)`` is below ``margin`` there. The same
    units as ``saturation_fraction(2 s - 1, 1 - 2 margin)``, since
    ``2 sigmoid(x) - 1 = tanh(x / 2)``.

    Parameters
    ----------
    s : array_like, any shape, values in [0, 1]
    margin : float, default 0.03

    Returns
    -------
    float in [0, 1]

    Raises
    ------
    TypeError
        If ``s`` does not hold real numbers.
    ValueError
        If ``s`` is not 1-D to 4-D.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3.3: without normalization,
    sigmoid inputs drift into "the saturated regime of the nonlinearity".

    Examples
    --------
    >>> sigmoid_saturation_fraction([0.01, 0.5, 0.6, 0.995])
    0.5
    """
    s = np.asarray(as_float_array(s, "s", (1, 2, 3, 4)))
    return float(np.mean((s < margin) | (s > 1 - margin)))


def grad_data_ratio(W: ArrayLike, dW: ArrayLike) -> float:
    """``std(dW) / std(W)``: how large a parameter's gradient is relative to its values.

    Parameters
    ----------
    W : array_like
        A parameter, e.g. the (D_in, D_out) weights of a Linear layer.
    dW : array_like, shape of ``W``
        Its gradient.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``W`` or ``dW`` does not hold real numbers.
    ValueError
        If the shapes differ, or an array is not 1-D to 4-D.

    Notes
    -----
    Compare layers with it: with plain SGD the update is ``lr * dW``, so a
    layer whose ratio is far above the others' moves much faster. Karpathy,
    "Building makemore Part 3" (2022), plots it per layer.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3.3 (with BN, the gradient's
    scale no longer follows the weights' scale); Karpathy, "Building
    makemore Part 3: Activations & Gradients, BatchNorm" (2022).

    Examples
    --------
    >>> grad_data_ratio([[1.0, -1.0]], [[0.01, -0.01]])
    0.01
    """
    return _std_ratio(dW, W, "dW", "W")


def update_data_ratio(W_before: ArrayLike, W_after: ArrayLike) -> float:
    """``std(W_after - W_before) / std(W_before)``: the relative size of one update.

    Parameters
    ----------
    W_before, W_after : array_like, same shape
        A parameter before and after an optimizer step.

    Returns
    -------
    float; about 1e-3 (log10 about -3) is the rule of thumb.

    Raises
    ------
    TypeError
        If ``W_before`` or ``W_after`` does not hold real numbers.
    ValueError
        If the shapes differ, or an array is not 1-D to 4-D.

    Notes
    -----
    Karpathy's rule: the update:data ratio should be about 1e-3; much lower
    and the learning rate is too small, much higher and too large
    ("Building makemore Part 3: Activations & Gradients, BatchNorm", 2022,
    which uses the std as here). cs231n's notes "Neural Networks Part 3:
    Learning and Evaluation" state the same ~1e-3 heuristic with norms,
    ``||update|| / ||W||``, which is close to this when the means are near 0.

    References
    ----------
    cs231n notes, "Neural Networks Part 3: Learning and Evaluation" (ratio
    of weights:updates); Karpathy, "Building makemore Part 3: Activations &
    Gradients, BatchNorm" (2022).

    Examples
    --------
    >>> round(update_data_ratio([[1.0, -1.0]], [[0.999, -0.999]]), 12)
    0.001
    """
    before = as_float_array(W_before, "W_before", (1, 2, 3, 4))
    after = as_float_array(W_after, "W_after", (1, 2, 3, 4))
    if after.shape != before.shape:
        raise ValueError(f"W_after must have the shape of W_before, {before.shape}; got shape {after.shape}")
    return _std_ratio(after - before, before, "update", "W_before")


def percentiles_over_training(snapshots: Sequence[ArrayLike], q: Sequence[float] = (15, 50, 85),
                              unit: int | None = None) -> NDArray:
    """Percentiles over examples of one layer's values, one row per recorded step.

    For each snapshot (N, D), e.g. the inputs to the last sigmoid on the test
    set at one step, the ``q`` percentiles over the N examples are taken per
    unit; then either averaged over the D units (``unit=None``) or read for
    one unit.

    Parameters
    ----------
    snapshots : sequence of array_like, each (N, D)
        One array per recorded step; D must not change.
    q : sequence of float, default (15, 50, 85)
        Ioffe & Szegedy's percentiles.
    unit : int, optional
        Index of one unit to follow; default: the average over all units.

    Returns
    -------
    ndarray, shape (steps, len(q))

    Raises
    ------
    TypeError
        If a snapshot does not hold real numbers.
    ValueError
        If a snapshot is not 2-D, the widths differ, or ``unit`` is out of range.

    Notes
    -----
    One fixed unit is noisy from seed to seed; the average over units is the
    steadier picture. Before about step 50, batch norm's running statistics
    are still close to their (0, 1) start, so curves of a batch-normalized
    network in evaluation mode are only meaningful from there on.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 4.1 and Figure 1(b, c): the
    {15, 50, 85}th percentiles of the input to a typical sigmoid over training.

    Examples
    --------
    >>> x = np.arange(101.0).reshape(-1, 1)
    >>> percentiles_over_training([x, 2 * x])
    array([[ 15.,  50.,  85.],
           [ 30., 100., 170.]])
    """
    rows = []
    width = None
    for i, s in enumerate(snapshots):
        s = as_float_array(s, f"snapshots[{i}]", (2,))
        if width is None:
            width = s.shape[1]
            if unit is not None and not -width <= unit < width:
                raise ValueError(f"unit must be a unit index below D={width}; got {unit}")
        elif s.shape[1] != width:
            raise ValueError(f"snapshots[{i}] must have {width} features like snapshots[0]; got shape {s.shape}")
        per_unit = np.percentile(s, q, axis=0)  # (len(q), D)
        rows.append(per_unit.mean(axis=1) if unit is None else per_unit[:, unit])
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(q))
