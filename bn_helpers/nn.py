"""A tiny numpy neural-network library: enough to train an MLP on the digits.

Layers are :class:`Module` objects with ``forward(x)`` and ``backward(dout)``;
``backward`` returns ``dx`` and stores the parameter gradients, which
``grads()`` lists in the order of ``params()``. :func:`mlp` builds
Linear -> [norm] -> activation blocks, :func:`fit` trains with :class:`SGD`
on seeded mini-batches, and :func:`record` keeps what every layer saw in its
last forward and backward pass, for :mod:`bn_helpers.diagnostics`.

Conventions:

* arrays are (N, D): N examples in a batch, D features;
* ``backward`` *overwrites* the gradients (it does not add to them, unlike
  PyTorch's ``.grad``), so there is no ``zero_grad``;
* parameters are updated in place by :class:`SGD`; ``params()`` returns the
  module's own arrays, so an optimizer built once keeps seeing them;
* the normalization layers call the reference passes of
  :mod:`bn_helpers.numerics` and :mod:`bn_helpers.norms` (one formula each),
  and :class:`BatchNorm1d` updates its running statistics with
  :func:`bn_helpers.stats.update_running_stats`.

Example
-------
>>> from bn_helpers.data import load_digits_split
>>> d = load_digits_split()
>>> model = mlp([64, 100, 100, 100, 10], activation="sigmoid", norm="batch", seed=0)
>>> history = fit(model, d.X_train, d.y_train, steps=300, batch_size=60, lr=0.1, progress=False)
>>> accuracy(model, d.X_test, d.y_test) > 0.9
True
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import numpy as np
from numpy.typing import NDArray

from . import norms
from ._validate import as_float_array, check_eps, check_groups, check_int, check_momentum, check_number
from .numerics import batchnorm_forward
from .stats import RunningStats, update_running_stats

__all__ = [
    "Module", "Linear", "ReLU", "Tanh", "Sigmoid", "BatchNorm1d", "LayerNorm", "GroupNorm", "Sequential",
    "mlp", "softmax_cross_entropy", "SGD", "fit", "accuracy", "eval_mode", "record", "Recording", "LayerRecord",
]


def _features(x, n_features: int, name: str = "x") -> NDArray:
    """``x`` as a float (N, D) array with D == ``n_features``, or a ``ValueError`` naming both."""
    x = as_float_array(x, name, (2,))
    if x.shape[1] != n_features:
        raise ValueError(
            f"{name} must have {n_features} features (shape (N, {n_features})); got shape {x.shape}"
        )
    return x


# --------------------------------------------------------------------------
# The base class and the container
# --------------------------------------------------------------------------


class Module:
    """Base class: ``forward``, ``backward``, parameters and their gradients.

    Subclasses implement ``_forward(x) -> out`` and ``_backward(dout) -> dx``
    and keep their parameters in ``self._params`` and the gradients in
    ``self._grads`` (same names, same shapes). ``forward``/``backward`` wrap
    these and then call every function in ``self.hooks`` as
    ``hook(module, "forward", x, out)`` or ``hook(module, "backward", dout, dx)``.

    Attributes
    ----------
    training : bool
        True (the default) in training mode, False in evaluation mode.
    hooks : list of callables
        Called after each forward and backward pass; see :func:`record`.

    Raises
    ------
    NotImplementedError
        From ``forward``/``backward`` of a subclass that does not define
        ``_forward``/``_backward``.

    References
    ----------
    PyTorch documentation, ``torch.nn.Module`` (``train()``, ``eval()``,
    ``named_modules()``, hooks); cs231n assignment 2 (forward/backward pairs).
    """

    def __init__(self) -> None:
        self.training = True
        self.hooks: list[Callable] = []
        self._params: dict[str, NDArray] = {}
        self._grads: dict[str, NDArray] = {}

    # -- the passes ---------------------------------------------------------
    def forward(self, x) -> NDArray:
        """Output of the layer for the batch ``x``; keeps what ``backward`` needs."""
        out = self._forward(x)
        for hook in self.hooks:
            hook(self, "forward", x, out)
        return out

    def backward(self, dout) -> NDArray:
        """Gradient of the loss with respect to the last ``forward``'s input.

        ``dout`` is the gradient with respect to that forward's output; the
        gradients of the parameters are stored (overwritten) for ``grads()``.
        """
        dx = self._backward(dout)
        for hook in self.hooks:
            hook(self, "backward", dout, dx)
        return dx

    __call__ = forward

    def _forward(self, x) -> NDArray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _backward(self, dout) -> NDArray:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- the tree -----------------------------------------------------------
    def children(self) -> list[tuple[str, "Module"]]:
        """Direct submodules as (name, module); none for a plain layer."""
        return []

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """This module and every submodule, depth first, with dotted names ("1", "1.0")."""
        yield prefix, self
        for name, child in self.children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def params(self) -> list[tuple[str, NDArray]]:
        """Every parameter as (dotted name, array), e.g. ("0.W", W); the arrays are the module's own."""
        return [(f"{m}.{p}" if m else p, arr) for m, mod in self.named_modules() for p, arr in mod._params.items()]

    def grads(self) -> list[NDArray]:
        """The gradients of ``params()``, in the same order, from the last ``backward``."""
        return [g for _, mod in self.named_modules() for g in mod._grads.values()]

    def train(self) -> "Module":
        """Training mode for this module and its submodules; returns ``self``."""
        for _, mod in self.named_modules():
            mod.training = True
        return self

    def eval(self) -> "Module":
        """Evaluation mode (batch norm uses its running statistics); returns ``self``."""
        for _, mod in self.named_modules():
            mod.training = False
        return self

    def _new_param(self, name: str, value: NDArray) -> None:
        self._params[name] = np.asarray(value, dtype=np.float64)
        self._grads[name] = np.zeros_like(self._params[name])

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Sequential(Module):
    """Modules applied in order; ``backward`` runs them in reverse.

    Parameters
    ----------
    *modules : Module
        Named "0", "1", ... in ``params()`` and :func:`record`.

    Attributes
    ----------
    modules : list of Module
        The modules, in order; ``model[i]`` and ``len(model)`` read it.

    Raises
    ------
    TypeError
        If an argument is not a :class:`Module`.

    References
    ----------
    PyTorch documentation, ``torch.nn.Sequential``.
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for m in modules:
            if not isinstance(m, Module):
                raise TypeError(f"Sequential takes Module objects; got {type(m).__name__}")
        self.modules = list(modules)

    def children(self) -> list[tuple[str, Module]]:
        return [(str(i), m) for i, m in enumerate(self.modules)]

    def _forward(self, x) -> NDArray:
        for m in self.modules:
            x = m.forward(x)
        return x

    def _backward(self, dout) -> NDArray:
        for m in reversed(self.modules):
            dout = m.backward(dout)
        return dout

    def __getitem__(self, i: int) -> Module:
        return self.modules[i]

    def __len__(self) -> int:
        return len(self.modules)

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({name}): {m!r}" for name, m in self.children())
        return f"Sequential({inner}\n)"


# --------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------


class Linear(Module):
    """Affine layer ``out = x @ W + b``.

    Parameters
    ----------
    in_features, out_features : int
        D_in and D_out.
    rng : numpy.random.Generator or int
        Source (or seed) of the initial weights.
    weight_scale : float, optional
        Standard deviation of the initial weights, ``W ~ N(0, weight_scale^2)``.
        Default ``1 / sqrt(in_features)``: the N(0, 1/fan_in) initialization
        (LeCun's) of the course's experiments, which keeps the variance of
        ``x @ W`` equal to that of one input feature.
    bias : bool, default True
        With ``b`` of shape (D_out,), initialized to zero.

    Attributes
    ----------
    W : ndarray, shape (D_in, D_out)
    b : ndarray, shape (D_out,), or None without ``bias``
    in_features, out_features : int

    Raises
    ------
    TypeError
        If ``in_features``/``out_features`` are not integers or
        ``weight_scale`` is not a real number (or None); in
        ``forward``/``backward``, if the array does not hold real numbers.
    ValueError
        If ``in_features`` or ``out_features`` < 1 or ``weight_scale`` < 0
        (or NaN, infinite); in ``forward``, if ``x`` is not (N, D_in):
        "x must have 64 features (shape (N, 64)); got shape (32, 63)"
        (in ``backward``, likewise for ``dout`` and D_out).

    References
    ----------
    PyTorch documentation, ``torch.nn.Linear`` (which stores ``W.T`` as
    ``weight``); cs231n assignment 2, ``affine_forward``/``affine_backward``.
    """

    def __init__(self, in_features: int, out_features: int, rng, weight_scale: float | None = None,
                 bias: bool = True) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", low=1)
        self.out_features = check_int(out_features, "out_features", low=1)
        scale = check_number(weight_scale, "weight_scale", low=0.0, allow_none=True)
        scale = 1.0 / np.sqrt(self.in_features) if scale is None else scale
        shape = (self.in_features, self.out_features)
        self._new_param("W", np.random.default_rng(rng).normal(0.0, scale, size=shape))
        if bias:
            self._new_param("b", np.zeros(self.out_features))

    @property
    def W(self) -> NDArray:
        return self._params["W"]

    @property
    def b(self) -> NDArray | None:
        return self._params.get("b")

    def _forward(self, x) -> NDArray:
        self._x = _features(x, self.in_features)
        out = self._x @ self.W
        return out + self.b if "b" in self._params else out

    def _backward(self, dout) -> NDArray:
        dout = _features(dout, self.out_features, "dout")
        self._grads["W"][...] = self._x.T @ dout
        if "b" in self._params:
            self._grads["b"][...] = dout.sum(axis=0)
        return dout @ self.W.T

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features}, bias={'b' in self._params})"


class _Elementwise(Module):
    """An activation applied entry by entry; the backward multiplies by its derivative."""

    def _forward(self, x) -> NDArray:
        x = as_float_array(x, "x", (2,))
        self._out = self._f(x)
        return self._out

    def _backward(self, dout) -> NDArray:
        dout = as_float_array(dout, "dout", (2,))
        if dout.shape != self._out.shape:
            raise ValueError(f"dout must have the shape of the output, {self._out.shape}; got shape {dout.shape}")
        return dout * self._df(self._out)


class ReLU(_Elementwise):
    """Rectified linear unit, ``max(0, x)``; derivative 1 where the output is positive, else 0.

    Raises
    ------
    ValueError
        In ``forward``, if ``x`` is not 2-D (N, D); in ``backward``, if
        ``dout`` is not shaped like the output.
    TypeError
        In ``forward``/``backward``, if the array does not hold real numbers.

    References
    ----------
    PyTorch documentation, ``torch.nn.ReLU``.
    """

    _f = staticmethod(lambda x: np.maximum(x, 0.0))
    _df = staticmethod(lambda out: (out > 0).astype(out.dtype))


class Tanh(_Elementwise):
    """Hyperbolic tangent ``tanh(x)``, in (-1, 1); derivative ``1 - out**2``.

    Raises
    ------
    ValueError
        In ``forward``, if ``x`` is not 2-D (N, D); in ``backward``, if
        ``dout`` is not shaped like the output.
    TypeError
        In ``forward``/``backward``, if the array does not hold real numbers.

    References
    ----------
    PyTorch documentation, ``torch.nn.Tanh``.
    """

    _f = staticmethod(np.tanh)
    _df = staticmethod(lambda out: 1.0 - out**2)


class Sigmoid(_Elementwise):
    """``1 / (1 + exp(-x))``, in (0, 1); derivative ``out * (1 - out)``.

    Computed as ``(1 + tanh(x / 2)) / 2``, which never overflows.

    Raises
    ------
    ValueError
        In ``forward``, if ``x`` is not 2-D (N, D); in ``backward``, if
        ``dout`` is not shaped like the output.
    TypeError
        In ``forward``/``backward``, if the array does not hold real numbers.

    References
    ----------
    PyTorch documentation, ``torch.nn.Sigmoid``.
    """

    _f = staticmethod(lambda x: 0.5 * (1.0 + np.tanh(0.5 * x)))
    _df = staticmethod(lambda out: out * (1.0 - out))


class BatchNorm1d(Module):
    """Batch normalization of (N, D) activations, with running statistics.

    Training mode: ``y = gamma * (x - mean) / sqrt(var + eps) + beta`` with the
    batch mean and biased batch variance of each feature (axis 0), through
    :func:`bn_helpers.numerics.batchnorm_forward` and
    :func:`bn_helpers.norms.batchnorm_backward_compact`; then the running
    statistics are updated. Evaluation mode: the same formula with
    ``running_mean`` and ``running_var``, so each row's output depends on that
    row only; its backward is the per-feature affine map
    ``dx = dout * gamma / sqrt(running_var + eps)``.

    Parameters
    ----------
    num_features : int
        D.
    eps : float, default 1e-5
        Added to the variance inside the square root.
    momentum : float or None, default 0.1
        Weight of the new batch in the running statistics:
        ``running = (1 - momentum) * running + momentum * batch``. None: a
        cumulative average, weight ``1 / num_batches_tracked``.

    Attributes
    ----------
    gamma, beta : ndarray, shape (D,)
        Learned scale (starts at 1) and shift (starts at 0).
    running_mean, running_var : ndarray, shape (D,)
        Start at 0 and 1; not parameters (no gradient, not in ``params()``).
    num_batches_tracked : int
        Training-mode forward passes so far.
    num_features, eps, momentum
        As given.

    Raises
    ------
    TypeError
        If ``num_features`` is not an integer, ``eps`` not a real number, or
        ``momentum`` neither a real number nor None
        ("momentum must be a real number in [0, 1] or None; got str '0.1'");
        in ``forward``/``backward``, if the array does not hold real numbers.
    ValueError
        If ``num_features`` < 1, ``eps`` < 0 or ``momentum`` is outside
        [0, 1] (or either is NaN); in ``forward``, if ``x`` is not (N, D),
        or N < 2 in training mode; in ``backward``, if ``dout`` is not
        shaped like ``x``.

    Notes
    -----
    PyTorch's conventions (``torch.nn.BatchNorm1d``): momentum 0.1 weights the
    *new* batch (the opposite of Keras' momentum 0.99); training normalizes
    with the biased variance, the running variance is updated with the
    unbiased one (``N / (N - 1)`` times it). The update is
    :func:`bn_helpers.stats.update_running_stats`.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3.1 and Algorithm 2 (inference
    with population statistics); PyTorch documentation, ``torch.nn.BatchNorm1d``.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1) -> None:
        super().__init__()
        self.num_features, self.eps = check_int(num_features, "num_features", low=1), check_eps(eps)
        self.momentum = check_momentum(momentum)
        self._new_param("gamma", np.ones(self.num_features))
        self._new_param("beta", np.zeros(self.num_features))
        self.running_mean = np.zeros(self.num_features)
        self.running_var = np.ones(self.num_features)
        self.num_batches_tracked = 0

    gamma = property(lambda self: self._params["gamma"])
    beta = property(lambda self: self._params["beta"])

    def _forward(self, x) -> NDArray:
        x = _features(x, self.num_features)
        if self.training:
            out, self._cache = batchnorm_forward(x, self.gamma, self.beta, self.eps)
            self._eval_cache = None
            before = RunningStats(self.running_mean, self.running_var, self.num_batches_tracked)
            after = update_running_stats(before, self._cache.mean, self._cache.var, x.shape[0], self.momentum)
            self.running_mean, self.running_var, self.num_batches_tracked = after
            return out
        inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
        x_hat = (x - self.running_mean) * inv_std
        self._eval_cache = (x_hat, inv_std)
        return self.gamma * x_hat + self.beta

    def _backward(self, dout) -> NDArray:
        if self._eval_cache is not None:  # the last forward was in evaluation mode
            x_hat, inv_std = self._eval_cache
            dout = _features(dout, self.num_features, "dout")
            self._grads["gamma"][...] = (dout * x_hat).sum(axis=0)
            self._grads["beta"][...] = dout.sum(axis=0)
            return dout * (self.gamma * inv_std)
        dx, dgamma, dbeta = norms.batchnorm_backward_compact(dout, self._cache)
        self._grads["gamma"][...], self._grads["beta"][...] = dgamma, dbeta
        return dx

    def __repr__(self) -> str:
        return f"BatchNorm1d({self.num_features}, eps={self.eps}, momentum={self.momentum})"


class LayerNorm(Module):
    """Layer normalization of (N, D): each row standardized over its D features.

    ``y = gamma * (x - mean_n) / sqrt(var_n + eps) + beta``, through
    :func:`bn_helpers.norms.layernorm_forward`/``layernorm_backward``. The
    same in training and evaluation mode; works on a batch of one.

    Parameters
    ----------
    num_features : int
        D.
    eps : float, default 1e-5
        Added to the variance inside the square root.

    Attributes
    ----------
    num_features, eps
        As given. The parameters ``gamma`` (ones) and ``beta`` (zeros), shape
        (D,), are listed by ``params()``.

    Raises
    ------
    TypeError
        If ``num_features`` is not an integer or ``eps`` not a real number;
        in ``forward``/``backward``, if the array does not hold real numbers.
    ValueError
        If ``num_features`` < 1 or ``eps`` < 0 (or NaN, infinite); in
        ``forward``, if ``x`` is not (N, D); in ``backward``, if ``dout`` is
        not shaped like ``x``.

    References
    ----------
    Ba, Kiros & Hinton, "Layer Normalization", arXiv:1607.06450, Section 3.
    """

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features, self.eps = check_int(num_features, "num_features", low=1), check_eps(eps)
        self._new_param("gamma", np.ones(self.num_features))
        self._new_param("beta", np.zeros(self.num_features))

    def _forward(self, x) -> NDArray:
        out, self._cache = norms.layernorm_forward(_features(x, self.num_features), self._params["gamma"],
                                                   self._params["beta"], self.eps)
        return out

    def _backward(self, dout) -> NDArray:
        dx, dgamma, dbeta = norms.layernorm_backward(dout, self._cache)
        self._grads["gamma"][...], self._grads["beta"][...] = dgamma, dbeta
        return dx

    def __repr__(self) -> str:
        return f"LayerNorm({self.num_features}, eps={self.eps})"


class GroupNorm(Module):
    """Group normalization of (N, D): each row standardized within G groups of D/G features.

    ``x`` is treated as images (N, C=D, 1, 1) and passed to
    :func:`bn_helpers.norms.groupnorm_forward`/``groupnorm_backward``; group
    g holds features g*D/G to (g+1)*D/G - 1. G = 1 is layer norm.

    Parameters
    ----------
    num_groups : int
        G; must divide ``num_features``.
    num_features : int
        D.
    eps : float, default 1e-5
        Added to the variance inside the square root.

    Attributes
    ----------
    num_groups, num_features, eps
        As given. The parameters ``gamma`` (ones) and ``beta`` (zeros), shape
        (D,), are listed by ``params()``.

    Raises
    ------
    TypeError
        If G or ``num_features`` is not an integer, or ``eps`` not a real
        number; in ``forward``/``backward``, if the array does not hold real
        numbers.
    ValueError
        If G < 1, ``num_features`` < 1, G does not divide D, or ``eps`` < 0
        (or NaN, infinite); in ``forward``, if ``x`` is not (N, D); in
        ``backward``, if ``dout`` is not shaped like ``x``.

    References
    ----------
    Wu & He, "Group Normalization", arXiv:1803.08494, Section 3.
    """

    def __init__(self, num_groups: int, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features = check_int(num_features, "num_features", low=1)
        self.num_groups = check_groups(self.num_features, num_groups)
        self.eps = check_eps(eps)
        self._new_param("gamma", np.ones(self.num_features))
        self._new_param("beta", np.zeros(self.num_features))

    def _forward(self, x) -> NDArray:
        x = _features(x, self.num_features)
        out, self._cache = norms.groupnorm_forward(x[:, :, None, None], self._params["gamma"],
                                                   self._params["beta"], self.num_groups, self.eps)
        return out[:, :, 0, 0]

    def _backward(self, dout) -> NDArray:
        dout = _features(dout, self.num_features, "dout")
        dx, dgamma, dbeta = norms.groupnorm_backward(dout[:, :, None, None], self._cache)
        self._grads["gamma"][...], self._grads["beta"][...] = dgamma, dbeta
        return dx[:, :, 0, 0]

    def __repr__(self) -> str:
        return f"GroupNorm({self.num_groups}, {self.num_features}, eps={self.eps})"


# --------------------------------------------------------------------------
# Building, loss, optimizer
# --------------------------------------------------------------------------

_ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}
_NORMS = (None, "batch", "layer", "group")


def mlp(sizes: Sequence[int], activation: str = "relu", norm: str | None = None, *, rng=None, seed: int | None = None,
        weight_scale: float | None = None, groups: int = 4) -> Sequential:
    """A multilayer perceptron: ``Linear -> [norm] -> activation`` per hidden layer, then ``Linear``.

    Parameters
    ----------
    sizes : sequence of int
        Widths from input to output, e.g. ``[64, 100, 100, 100, 10]`` for
        three hidden layers of 100 (the "3x100" net of the experiments).
    activation : {"relu", "tanh", "sigmoid"}, default "relu"
    norm : {None, "batch", "layer", "group"}, default None
        Normalization between each hidden Linear and its activation (as in
        Ioffe & Szegedy, Section 3.2); never on the output layer.
    rng : numpy.random.Generator, optional
        Source of the initial weights. Give ``rng`` or ``seed``, not both.
    seed : int, optional
        Seed of a new ``numpy.random.default_rng``; default 0 when neither
        ``rng`` nor ``seed`` is given, so that a call is reproducible.
    weight_scale : float, optional
        Std of every Linear's initial weights; default ``1/sqrt(fan_in)``.
    groups : int, default 4
        G for ``norm="group"``.

    Returns
    -------
    Sequential

    Raises
    ------
    ValueError
        If ``activation`` or ``norm`` is not one of the choices, ``sizes`` has
        fewer than two entries, a width is < 1 ("sizes[1] must be an integer
        >= 1; got 0"), or, with ``norm="group"``, ``groups`` < 1 or does not
        divide a hidden width.
    TypeError
        If both ``rng`` and ``seed`` are given, a width is not an integer
        ("sizes[1] must be an integer >= 1; got float 2.5"), or ``groups`` is
        not an integer (with ``norm="group"``).

    Notes
    -----
    With ``norm="batch"`` the hidden Linear layers have no bias: batch norm
    subtracts the batch mean, which cancels any bias, and ``beta`` takes its
    role (Ioffe & Szegedy, Section 3.2). Layer and group norm keep it.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3.2 (BN before the
    nonlinearity, no bias) and Section 4.1 (the 3x100 sigmoid network).
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}; got {activation!r}")
    if norm not in _NORMS:
        raise ValueError(f"norm must be one of {_NORMS}; got {norm!r}")
    if rng is not None and seed is not None:
        raise TypeError("give rng or seed, not both")
    sizes = [check_int(s, f"sizes[{i}]", low=1) for i, s in enumerate(sizes)]
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least the input and output widths; got {sizes}")
    rng = np.random.default_rng(0 if seed is None else seed) if rng is None else rng
    layers: list[Module] = []
    for d_in, d_out in zip(sizes[:-2], sizes[1:-1]):
        layers.append(Linear(d_in, d_out, rng, weight_scale, bias=norm != "batch"))
        if norm == "batch":
            layers.append(BatchNorm1d(d_out))
        elif norm == "layer":
            layers.append(LayerNorm(d_out))
        elif norm == "group":
            layers.append(GroupNorm(groups, d_out))
        layers.append(_ACTIVATIONS[activation]())
    layers.append(Linear(sizes[-2], sizes[-1], rng, weight_scale))
    return Sequential(*layers)


def softmax_cross_entropy(logits, y) -> tuple[float, NDArray]:
    """Mean cross-entropy of a softmax over classes, and its gradient.

    ``loss = mean_n (logsumexp(logits[n]) - logits[n, y[n]])``;
    ``dlogits = (softmax(logits) - onehot(y)) / N``.

    Parameters
    ----------
    logits : array_like, shape (N, K)
        Unnormalized scores of K classes.
    y : array_like of int, shape (N,)
        Labels in 0 .. K-1.

    Returns
    -------
    loss : float
    dlogits : ndarray, shape (N, K)

    Raises
    ------
    TypeError
        If ``logits`` does not hold real numbers.
    ValueError
        If ``logits`` is not 2-D, ``y`` is not (N,) of integers, or a label is
        out of range.

    Notes
    -----
    The row maximum is subtracted before ``exp`` (softmax does not change when
    a constant is added to a row), so logits of 1e4 do not overflow.

    References
    ----------
    cs231n notes, "Linear classification" (the softmax classifier and its
    numeric stability); PyTorch documentation, ``torch.nn.CrossEntropyLoss``
    (mean over the batch).

    Examples
    --------
    >>> loss, dlogits = softmax_cross_entropy([[0.0, 0.0]], [1])
    >>> round(loss, 6), dlogits
    (0.693147, array([[ 0.5, -0.5]]))
    """
    logits = as_float_array(logits, "logits", (2,)).astype(np.float64)
    y = np.asarray(y)
    n, k = logits.shape
    if y.shape != (n,) or y.dtype.kind not in "iu":
        raise ValueError(f"y must hold N={n} integer labels, shape ({n},); got shape {y.shape}, dtype {y.dtype}")
    if n and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"y must hold labels in 0..{k - 1}; got values from {y.min()} to {y.max()}")
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_p = shifted - log_z
    rows = np.arange(n)
    loss = float(-log_p[rows, y].mean())
    dlogits = np.exp(log_p)
    dlogits[rows, y] -= 1.0
    return loss, dlogits / n


class SGD:
    """Stochastic gradient descent with (classic, heavy-ball) momentum.

    ``v = momentum * v - lr * g; w += v`` for every parameter ``w`` with
    gradient ``g``; ``v`` starts at zero, and momentum 0 is plain SGD,
    ``w -= lr * g``.

    Parameters
    ----------
    params : Module or list of (param, grad) array pairs
        A module's ``params()`` and ``grads()`` (its own arrays, updated in
        place), or explicit pairs.
    lr : float
        Learning rate, > 0.
    momentum : float, default 0.0
        In [0, 1).

    Attributes
    ----------
    pairs : list of (param, grad) ndarray pairs
    lr, momentum : float
    velocities : list of ndarray
        ``v`` of each parameter, same shapes.

    Raises
    ------
    TypeError
        If ``lr`` or ``momentum`` is not a real number.
    ValueError
        If a gradient's shape differs from its parameter's, ``lr <= 0``, or
        ``momentum`` is outside [0, 1) (or either is NaN, infinite).

    Notes
    -----
    PyTorch's ``torch.optim.SGD`` writes ``v = mu * v + g; w -= lr * v``.
    With a constant learning rate the two give the same steps (PyTorch's
    ``v`` is this ``v`` divided by ``-lr``); they differ only when ``lr``
    changes during training. This class uses the classic form above
    (Sutskever et al., ICML 2013, Eq. 1; cs231n notes "Neural Networks
    Part 3").

    References
    ----------
    cs231n notes, "Neural Networks Part 3: Learning and Evaluation"
    (momentum update); PyTorch documentation, ``torch.optim.SGD``.
    """

    def __init__(self, params, lr: float, momentum: float = 0.0) -> None:
        if isinstance(params, Module):
            pairs = list(zip([p for _, p in params.params()], params.grads()))
        else:
            pairs = [(np.asarray(p), np.asarray(g)) for p, g in params]
        for p, g in pairs:
            if p.shape != g.shape:
                raise ValueError(f"each gradient must have the shape of its parameter; got {g.shape} for {p.shape}")
        lr = check_number(lr, "lr", low=0.0, low_open=True)
        momentum = check_number(momentum, "momentum", 0.0, 1.0, high_open=True)
        self.pairs, self.lr, self.momentum = pairs, lr, momentum
        self.velocities = [np.zeros_like(p) for p, _ in pairs]

    def step(self) -> None:
        """Update every parameter in place from its current gradient."""
        for (p, g), v in zip(self.pairs, self.velocities):
            v *= self.momentum
            v -= self.lr * g
            p += v


# --------------------------------------------------------------------------
# Training and evaluation
# --------------------------------------------------------------------------


@contextmanager
def eval_mode(model: Module) -> Iterator[Module]:
    """Put ``model`` in evaluation mode for a ``with`` block, then restore each module's mode.

    Parameters
    ----------
    model : Module

    Returns
    -------
    context manager
        Yields ``model`` (in evaluation mode); on exit each submodule gets
        back its own previous mode, even after an exception.

    References
    ----------
    PyTorch documentation, ``torch.nn.Module.eval`` and ``train``; Python
    documentation, ``contextlib.contextmanager``.

    Examples
    --------
    >>> model = mlp([2, 3, 2], norm="batch")
    >>> with eval_mode(model):
    ...     model[1].training
    False
    >>> model[1].training
    True
    """
    modes = [(m, m.training) for _, m in model.named_modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, mode in modes:
            m.training = mode


def accuracy(model: Module, X, y) -> float:
    """Fraction of rows of ``X`` whose largest logit is the label, in evaluation mode.

    ``mean_n [argmax_k logits[n, k] == y[n]]``. The model's previous mode is
    restored afterwards.

    Parameters
    ----------
    model : Module
    X : array_like, shape (N, D)
    y : array_like of int, shape (N,)

    Returns
    -------
    float in [0, 1]

    References
    ----------
    PyTorch documentation, ``torch.nn.Module.eval`` (evaluation mode for
    inference).
    """
    with eval_mode(model):
        logits = model.forward(X)
    return float(np.mean(np.argmax(logits, axis=1) == np.asarray(y)))


def fit(model: Module, X, y, *, steps: int | None = None, epochs: int | None = None, batch_size: int = 60,
        lr: float = 0.1, momentum: float = 0.0, seed: int = 0, progress: bool = True,
        eval_every: int | None = None, X_test=None, y_test=None, callback: Callable | None = None) -> dict:
    """Train ``model`` with softmax cross-entropy and :class:`SGD` on mini-batches.

    Batches are consecutive slices of a fresh permutation of the rows each
    epoch (``numpy.random.default_rng(seed)``), of exactly ``batch_size``
    rows: the last ``N % batch_size`` rows of a permutation are skipped.

    Parameters
    ----------
    model : Module
        Trained in place, in training mode; left in training mode.
    X : array_like, shape (N, D)
    y : array_like of int, shape (N,)
    steps, epochs : int, optional
        Give exactly one (both default to None): the number of updates, or of
        passes over the data (``N // batch_size`` updates each).
    batch_size : int, default 60
    lr : float, default 0.1
    momentum : float, default 0.0
        Passed to :class:`SGD`.
    seed : int, default 0
        Seed of the batch order.
    progress : bool, default True
        Show a ``tqdm`` bar.
    eval_every : int, optional
        Test accuracy (in evaluation mode) after every ``eval_every`` steps
        and after the last; needs ``X_test`` and ``y_test``. Without it, but
        with a test set, the accuracy is measured after the last step only.
    X_test, y_test : array_like, optional
    callback : callable, optional
        ``callback(step, model)`` after each update (step counts from 1).

    Returns
    -------
    dict
        ``"loss"``: list of the training loss of each step (before its update);
        ``"eval_step"`` and ``"test_acc"``: lists of the steps evaluated and the
        accuracies there; ``"seconds"``: wall time of the loop, evaluations included.

    Raises
    ------
    TypeError
        If ``X`` does not hold real numbers, or ``steps``, ``epochs``,
        ``batch_size`` or ``eval_every`` is not an integer (or
        ``lr``/``momentum`` not a real number, from :class:`SGD`).
    ValueError
        If ``X`` is not 2-D, ``y`` is not (N,), not exactly one of
        ``steps``/``epochs`` is given, ``steps``/``epochs`` < 0,
        ``batch_size`` is not in [1, N], ``eval_every`` is given without a
        test set or is < 1, or ``lr``/``momentum`` are out of range.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 4.1 (mini-batches of 60,
    test accuracy over training); cs231n notes, "Neural Networks Part 3"
    (mini-batch SGD).
    """
    from tqdm.auto import tqdm

    X = as_float_array(X, "X", (2,))
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have one label per row of X, shape ({X.shape[0]},); got shape {y.shape}")
    if (steps is None) == (epochs is None):
        raise ValueError(f"give exactly one of steps and epochs; got steps={steps}, epochs={epochs}")
    n = X.shape[0]
    batch_size = check_int(batch_size, "batch_size", low=1)
    if batch_size > n:
        raise ValueError(f"batch_size must be between 1 and N={n}; got {batch_size}")
    per_epoch = n // batch_size
    total = check_int(steps, "steps", low=0) if steps is not None else check_int(epochs, "epochs", low=0) * per_epoch
    has_test = X_test is not None and y_test is not None
    if eval_every is not None:
        if not has_test:
            raise ValueError("eval_every needs X_test and y_test, and must be >= 1")
        eval_every = check_int(eval_every, "eval_every", low=1)

    rng = np.random.default_rng(seed)
    opt = SGD(model, lr, momentum)
    history: dict = {"loss": [], "eval_step": [], "test_acc": []}
    model.train()
    start = time.perf_counter()
    order = None
    bar = tqdm(range(1, total + 1), disable=not progress, desc="training", leave=False)
    for step in bar:
        k = (step - 1) % per_epoch
        if k == 0:
            order = rng.permutation(n)
        idx = order[k * batch_size:(k + 1) * batch_size]
        loss, dlogits = softmax_cross_entropy(model.forward(X[idx]), y[idx])
        model.backward(dlogits)
        opt.step()
        history["loss"].append(loss)
        if has_test and ((eval_every and step % eval_every == 0) or step == total):
            history["eval_step"].append(step)
            history["test_acc"].append(accuracy(model, X_test, y_test))
            bar.set_postfix(loss=f"{loss:.3f}", test_acc=f"{history['test_acc'][-1]:.3f}", refresh=False)
        if callback is not None:
            callback(step, model)
    bar.close()
    history["seconds"] = time.perf_counter() - start
    return history


# --------------------------------------------------------------------------
# Recording what the layers see
# --------------------------------------------------------------------------


@dataclass
class LayerRecord:
    """What one layer saw in its most recent forward and backward pass (copies).

    Parameters
    ----------
    name : str
        Dotted name of the layer, e.g. ``"1"``.
    module : Module
        The layer.
    input, output : ndarray, shape (N, D_in) and (N, D_out), optional
        The forward's ``x`` and result (the layer's activations); default None.
    grad_output : ndarray, shape (N, D_out), optional
        The gradient of the loss with respect to ``output`` (``dout``).
    grad_input : ndarray, shape (N, D_in), optional
        The gradient with respect to ``input``.
    grads : dict of str to ndarray, default {}
        The parameter gradients by name (e.g. ``{"W": dW, "b": db}``).

    Notes
    -----
    The parameters are the fields; the arrays are None until the pass has happened.

    References
    ----------
    PyTorch documentation, ``torch.nn.Module.register_full_backward_hook``
    (the names ``grad_input``, ``grad_output``).
    """

    name: str
    module: Module
    input: NDArray | None = None
    output: NDArray | None = None
    grad_output: NDArray | None = None
    grad_input: NDArray | None = None
    grads: dict[str, NDArray] = field(default_factory=dict)


class Recording:
    """The :class:`LayerRecord` of every layer (leaf module) of a model, in forward order.

    Used as a hook (``hook(module, event, inp, out)``) by :func:`record`,
    which is the way to make one.

    Parameters
    ----------
    model : Module

    Attributes
    ----------
    layers : list of LayerRecord
        One per leaf module, named as in ``model.named_modules()``.

    References
    ----------
    PyTorch documentation, ``torch.nn.Module.register_forward_hook``.
    """

    def __init__(self, model: Module) -> None:
        self.layers = [LayerRecord(name, m) for name, m in model.named_modules() if not m.children()]
        self._by_module = {id(r.module): r for r in self.layers}

    def of(self, *kinds: type) -> list[LayerRecord]:
        """The records of layers of the given classes, e.g. ``rec.of(Linear)`` or ``rec.of(Sigmoid)``."""
        return [r for r in self.layers if isinstance(r.module, kinds)]

    def __call__(self, module: Module, event: str, inp, out) -> None:
        r = self._by_module[id(module)]
        if event == "forward":
            r.input, r.output = np.array(inp, dtype=float), np.array(out)
        else:
            r.grad_output, r.grad_input = np.array(inp, dtype=float), np.array(out)
            r.grads = {name: g.copy() for name, g in module._grads.items()}


@contextmanager
def record(model: Module) -> Iterator[Recording]:
    """Record every layer's activations and gradients inside a ``with`` block.

    Each layer's record holds its most recent forward and backward pass, so
    read it after the step of interest (or inside a ``fit`` callback).

    Parameters
    ----------
    model : Module

    Returns
    -------
    context manager
        Yields a :class:`Recording`; its hooks are removed from the layers
        on exit.

    References
    ----------
    PyTorch documentation, ``torch.nn.Module.register_forward_hook`` and
    ``register_full_backward_hook`` (the same idea in PyTorch).

    Examples
    --------
    >>> model = mlp([4, 3, 2], activation="tanh", seed=0)
    >>> with record(model) as rec:
    ...     loss, dlogits = softmax_cross_entropy(model.forward(np.ones((5, 4))), [0, 1, 0, 1, 0])
    ...     _ = model.backward(dlogits)
    >>> [r.name for r in rec.of(Linear)], rec.of(Tanh)[0].output.shape, rec.of(Linear)[0].grads["W"].shape
    (['0', '2'], (5, 3), (4, 3))
    """
    rec = Recording(model)
    for r in rec.layers:
        r.module.hooks.append(rec)
    try:
        yield rec
    finally:
        for r in rec.layers:
            r.module.hooks.remove(rec)
