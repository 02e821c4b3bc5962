"""Your layer in the loop: train a small network on the digits whose normalization calls *your* functions.

The checks test a graded function on chosen inputs; here it does real work.
A 64-100-100-10 ReLU network with a normalization layer after each hidden
``Linear`` trains on :func:`bn_helpers.data.load_digits_split` with plain SGD,
and its normalization layers are :class:`PluggedNorm` objects that call the
functions you give them:

=============================== =========================== ================================
assignment                      forward (training mode)     backward
=============================== =========================== ================================
03 (:meth:`PluggedNorm.backward_of`)  the reference's           yours
   ``batchnorm_backward_compact``     ``numerics.batchnorm_forward``
04 (:meth:`PluggedNorm.layer_of`)     your ``BatchNorm1d``      the reference's
   class                              (train and eval modes,    ``norms.normalize_backward``
                                      running statistics)
05 (:meth:`PluggedNorm.forward_of`)   your ``groupnorm_forward``  the reference's
                                                                ``norms.normalize_backward``
=============================== =========================== ================================

Where the backward is the reference's, it runs on statistics the reference
recomputes from the layer's input; a forward of yours that disagrees with them
makes the whole-network gradient check (:func:`gradient_check`) fail.

Several seeds train at once, in lockstep: seed ``s``'s hidden units are
columns ``s*H .. (s+1)*H - 1`` of one ``(N, S*H)`` array, so that one call of
your function per layer and step serves every seed (batch norm and group norm
with groups inside a seed's block treat each column, or group, on its own:
stacking is exact). Each seed has its own initial weights and batch order,
both from ``numpy.random.default_rng(seed)``.

References
----------
cs231n assignment 2 (the student's batch norm inside a fully connected net);
d2l.ai, Section 8.5 "Batch Normalization" (a from-scratch layer trained on
real data); Ioffe & Szegedy, arXiv:1502.03167, Section 4.1.
"""
from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from . import nn as _nn
from . import norms
from ._validate import check_int, check_number
from .data import load_digits_split
from .experiments._threads import one_thread
from .numerics import batchnorm_forward, normalize
from .stats import RunningStats, update_running_stats

__all__ = ["PluggedNorm", "LoopNet", "train", "gradient_check", "with_backward", "with_layer", "with_groupnorm",
           "REFERENCE", "buggy", "HIDDEN", "STEPS", "LR", "BATCH_SIZE", "GROUP_SIZE", "CANDIDATES", "GRAD_FLOOR"]

#: Width of both hidden layers, steps, learning rate and batch size of every run (EXPERIMENTS.md's settings).
HIDDEN, STEPS, LR, BATCH_SIZE = 100, 150, 0.1, 60
#: Features per group of the group-norm layers: 4 groups in a hidden layer of 100.
GROUP_SIZE = 25


def _plain_call(fn: Callable, name: str, *args, **kwargs):
    return fn(*args, **kwargs)


class PluggedNorm:
    """A normalization layer over (N, D) whose forward or backward is a function you supply.

    Build it with one of the three constructors, which say what it calls:

    * :meth:`backward_of` (03): training forward
      :func:`bn_helpers.numerics.batchnorm_forward` (the reference), backward
      ``backward_fn(dout, cache) -> (dx, dgamma, dbeta)`` (yours), running
      statistics :func:`bn_helpers.stats.update_running_stats`;
    * :meth:`layer_of` (04): ``layer = layer_cls(D)``; training and eval
      forward ``layer.forward(x)`` (yours, with its own running statistics;
      ``layer.train()``/``layer.eval()`` when the mode changes), followed by
      this object's ``gamma * out + beta`` (your layer keeps gamma = 1,
      beta = 0, so one call per step suffices); backward: the reference's
      :func:`bn_helpers.norms.normalize_backward` over axis 0, on
      ``x_hat`` and ``inv_std`` recomputed from ``x``;
    * :meth:`forward_of` (05): forward ``forward_fn(x.reshape(N, D, 1, 1),
      gamma, beta, G, eps)`` (yours: group norm over G groups of D/G
      features), the same in both modes; backward: the reference's
      :func:`bn_helpers.norms.normalize_backward` over each group, on
      statistics recomputed from ``x``.

    Parameters
    ----------
    num_features : int
        D (S*H when S seeds are stacked).
    kind : {"backward", "layer", "forward"}
        Use the constructors instead.
    fn : callable
        The function or class called (see above).
    name : str
        What messages call it, e.g. "batchnorm_backward_compact".
    groups : int, default 1
        G for ``"forward"`` (group norm).
    eps : float, default 1e-5
    momentum : float, default 0.1
        Of the running statistics (``"backward"``; your layer keeps its own).
    call : callable, optional
        ``call(fn, name, *args)`` wraps every call of ``fn`` (the checks pass
        one that bounds its time and records calls into reference code).

    Attributes
    ----------
    gamma, beta : ndarray, shape (D,)
        The learned scale and shift; ``dgamma``, ``dbeta`` their gradients
        after :meth:`backward`.
    calls : int
        How many times ``fn`` (or a method of its layer) was called.

    Raises
    ------
    ValueError
        If ``num_features`` < 1, ``kind`` is unknown, or ``groups`` does not divide D.
    """

    def __init__(self, num_features: int, kind: str, fn: Callable, name: str, *, groups: int = 1,
                 eps: float = 1e-5, momentum: float = 0.1, call: Callable | None = None) -> None:
        self.num_features = check_int(num_features, "num_features", low=1)
        if kind not in ("backward", "layer", "forward"):
            raise ValueError(f"kind must be 'backward', 'layer' or 'forward'; got {kind!r}")
        self.groups = check_int(groups, "groups", low=1)
        if self.num_features % self.groups:
            raise ValueError(f"groups must divide num_features={self.num_features}; got {self.groups}")
        self.kind, self.fn, self.name = kind, fn, name
        self.eps, self.momentum = eps, momentum
        self._call = call or _plain_call
        self.calls = 0
        self.gamma, self.beta = np.ones(self.num_features), np.zeros(self.num_features)
        self.dgamma, self.dbeta = np.zeros(self.num_features), np.zeros(self.num_features)
        self.running = RunningStats(np.zeros(self.num_features), np.ones(self.num_features), 0)
        self.training = True
        self._layer, self._layer_training = None, True
        if kind == "layer":
            self._layer = self._invoke(fn, num_features)

    # -- the three constructors -------------------------------------------
    @classmethod
    def backward_of(cls, backward_fn: Callable, num_features: int, name: str = "batchnorm_backward_compact",
                    **kwargs) -> "PluggedNorm":
        """Batch norm: the reference forward, ``backward_fn(dout, cache) -> (dx, dgamma, dbeta)`` as backward."""
        return cls(num_features, "backward", backward_fn, name, **kwargs)

    @classmethod
    def layer_of(cls, layer_cls: Callable, num_features: int, name: str = "BatchNorm1d", **kwargs) -> "PluggedNorm":
        """Batch norm: ``layer_cls(num_features)``'s ``forward``/``train``/``eval``, the reference backward."""
        return cls(num_features, "layer", layer_cls, name, **kwargs)

    @classmethod
    def forward_of(cls, forward_fn: Callable, num_features: int, groups: int, name: str = "groupnorm_forward",
                   **kwargs) -> "PluggedNorm":
        """Group norm: ``forward_fn(x (N, D, 1, 1), gamma, beta, G, eps)`` as forward, the reference backward."""
        return cls(num_features, "forward", forward_fn, name, groups=groups, **kwargs)

    # -- the passes -----------------------------------------------------------
    def _invoke(self, fn: Callable, *args):
        self.calls += 1
        return self._call(fn, self.name, *args)

    def _output(self, value, shape: tuple) -> NDArray:
        out = value[0] if isinstance(value, tuple) else value
        try:
            out = np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{self.name} must return an array; got {type(value).__name__}") from None
        if out.size != int(np.prod(shape)):
            raise ValueError(f"{self.name} returned shape {out.shape}; expected {shape}")
        return out.reshape(shape)

    def forward(self, x: NDArray) -> NDArray:
        """(N, D) -> (N, D), in the mode of ``self.training``."""
        n, d = x.shape
        if self.kind == "backward":
            if not self.training:
                mean, var = self.running.mean, self.running.var
                return self.gamma * (x - mean) / np.sqrt(var + self.eps) + self.beta
            out, self._cache = batchnorm_forward(x, self.gamma, self.beta, self.eps)
            self.running = update_running_stats(self.running, self._cache.mean, self._cache.var, n, self.momentum)
            return out
        if self.kind == "layer":
            if self._layer_training != self.training:
                self._invoke(self._layer.train if self.training else self._layer.eval)
                self._layer_training = self.training
            normalized = self._output(self._invoke(self._layer.forward, x), (n, d))
            if self.training:
                x_hat, _, _, inv_std = normalize(x, (0,), self.eps)
                self._cache = (x_hat, inv_std, (0,), (n, d))
            return self.gamma * normalized + self.beta
        g = self.groups
        out = self._output(self._invoke(self.fn, x.reshape(n, d, 1, 1), self.gamma.copy(), self.beta.copy(), g,
                                        self.eps), (n, d))
        x_hat, _, _, inv_std = normalize(x.reshape(n, g, d // g), (2,), self.eps)
        self._cache = (x_hat, inv_std, (2,), (n, g, d // g))
        return out

    def backward(self, dout: NDArray) -> NDArray:
        """Gradient with respect to the last training-mode forward's input; sets ``dgamma``, ``dbeta``."""
        n, d = dout.shape
        if self.kind == "backward":
            result = self._invoke(self.fn, dout, self._cache)
            if not isinstance(result, (tuple, list)) or len(result) != 3:
                raise ValueError(f"{self.name} must return (dx, dgamma, dbeta); got {type(result).__name__}")
            dx = self._output(result[0], (n, d))
            self.dgamma, self.dbeta = self._output(result[1], (d,)), self._output(result[2], (d,))
            return dx
        x_hat, inv_std, axes, view = self._cache
        flat_x_hat = x_hat.reshape(n, d)
        self.dgamma, self.dbeta = (dout * flat_x_hat).sum(axis=0), dout.sum(axis=0)
        dx_hat = (dout * self.gamma).reshape(view)
        return norms.normalize_backward(dx_hat, x_hat, inv_std, axes).reshape(n, d)


class LoopNet:
    """S seeds of a 64-H-H-10 network, Linear -> norm -> ReLU twice, then Linear, trained in lockstep.

    Parameters
    ----------
    make_norm : callable
        ``make_norm(num_features) -> PluggedNorm`` (or any object with its
        ``forward``, ``backward``, ``gamma``, ``beta``, ``dgamma``, ``dbeta``,
        ``training``), called twice with ``S * hidden``.
    seeds : sequence of int
        Seed of each network's initial weights, N(0, 1/fan_in), biases 0.
    hidden : int, default :data:`HIDDEN`

    Attributes
    ----------
    W : list of ndarray, shapes (S, 64, H), (S, H, H), (S, H, 10)
    b : list of ndarray, shapes (S, 1, H), (S, 1, H), (S, 1, 10)
    norms : list of the two norm layers, each over S*H features
    """

    def __init__(self, make_norm: Callable, seeds: Sequence[int], hidden: int = HIDDEN, n_in: int = 64,
                 n_out: int = 10) -> None:
        self.seeds = [int(s) for s in seeds]
        if not self.seeds:
            raise ValueError("seeds must hold at least one seed")
        self.S, self.H = len(self.seeds), check_int(hidden, "hidden", low=1)
        sizes = [n_in, self.H, self.H, n_out]
        rngs = [np.random.default_rng(s) for s in self.seeds]
        self.W = [np.stack([r.normal(0.0, 1.0 / np.sqrt(a), size=(a, b)) for r in rngs])
                  for a, b in zip(sizes[:-1], sizes[1:])]
        self.b = [np.zeros((self.S, 1, b)) for b in sizes[1:]]
        self.norms = [make_norm(self.S * self.H), make_norm(self.S * self.H)]

    def _to_flat(self, h: NDArray) -> NDArray:      # (S, N, H) -> (N, S*H)
        return h.transpose(1, 0, 2).reshape(h.shape[1], -1)

    def _to_stack(self, h: NDArray) -> NDArray:     # (N, S*H) -> (S, N, H)
        return h.reshape(h.shape[0], self.S, self.H).transpose(1, 0, 2)

    def forward(self, x: NDArray, training: bool = True) -> NDArray:
        """``x`` (S, N, 64): each seed its own batch; returns the logits (S, N, 10)."""
        self._inputs, self._relu = [], []
        h = x
        for i in range(2):
            self._inputs.append(h)
            z = h @ self.W[i] + self.b[i]
            self.norms[i].training = training
            z = self._to_stack(self.norms[i].forward(self._to_flat(z)))
            h = np.maximum(z, 0.0)
            self._relu.append(z > 0)
        self._inputs.append(h)
        return h @ self.W[2] + self.b[2]

    def backward(self, dlogits: NDArray) -> tuple[list, list]:
        """Gradients of the summed per-seed losses: ``(dW, db)`` lists; the norms keep ``dgamma``, ``dbeta``."""
        dW, db = [None] * 3, [None] * 3
        g = dlogits
        for i in (2, 1, 0):
            dW[i] = self._inputs[i].transpose(0, 2, 1) @ g
            db[i] = g.sum(axis=1, keepdims=True)
            if i == 0:
                break
            g = (g @ self.W[i].transpose(0, 2, 1)) * self._relu[i - 1]
            g = self._to_stack(self.norms[i - 1].backward(self._to_flat(g)))
        return dW, db

    def loss(self, x: NDArray, y: NDArray) -> tuple[NDArray, NDArray]:
        """Mean softmax cross-entropy per seed (S,), and its gradient with respect to the logits."""
        logits = self.forward(x)
        shifted = logits - logits.max(axis=2, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
        s_idx, n_idx = np.indices(y.shape)
        loss = -log_p[s_idx, n_idx, y].mean(axis=1)
        dlogits = np.exp(log_p)
        dlogits[s_idx, n_idx, y] -= 1.0
        return loss, dlogits / y.shape[1]

    def accuracy(self, X: NDArray, y: NDArray) -> NDArray:
        """Test accuracy of each seed (S,), in evaluation mode; the logits (S, N, 10) are kept in ``eval_logits``."""
        logits = self.forward(np.broadcast_to(X, (self.S,) + X.shape), training=False)
        self.eval_logits = logits
        return (logits.argmax(axis=2) == y).mean(axis=1)

    def step(self, lr: float) -> None:
        """One SGD update from the last backward (call :meth:`backward` first)."""
        for i in range(3):
            self.W[i] -= lr * self._dW[i]
            self.b[i] -= lr * self._db[i]
        for norm in self.norms:
            norm.gamma = norm.gamma - lr * np.asarray(norm.dgamma)
            norm.beta = norm.beta - lr * np.asarray(norm.dbeta)


def train(make_norm: Callable, seeds: Sequence[int], *, steps: int = STEPS, lr: float = LR,
          batch_size: int = BATCH_SIZE, eval_every: int = 25, hidden: int = HIDDEN, digits=None) -> dict:
    """Train :class:`LoopNet` for ``seeds`` at once; the loss of every step and the test accuracy every ``eval_every``.

    Parameters
    ----------
    make_norm : callable
        ``make_norm(num_features) -> PluggedNorm``.
    seeds : sequence of int
        One network per seed (initial weights and batch order).
    steps, lr, batch_size, eval_every, hidden : int, float
        Plain SGD on mini-batches of ``batch_size`` consecutive rows of a fresh
        permutation each epoch, as :func:`bn_helpers.nn.fit`.
    digits : Digits, optional
        Default :func:`bn_helpers.data.load_digits_split` ``()``.

    Returns
    -------
    dict
        ``"loss"`` (S, steps): each seed's training loss before each update;
        ``"eval_step"`` (E,) and ``"test_acc"`` (S, E): test accuracy in eval
        mode every ``eval_every`` steps and after the last; ``"calls"``: calls
        of the supplied function; ``"seconds"``; ``"net"``: the trained :class:`LoopNet`.

    Raises
    ------
    ValueError
        If ``steps``, ``batch_size``, ``eval_every`` or ``hidden`` < 1, or ``lr`` <= 0.
    """
    steps, batch_size = check_int(steps, "steps", low=1), check_int(batch_size, "batch_size", low=2)
    eval_every, lr = check_int(eval_every, "eval_every", low=1), check_number(lr, "lr", low=0.0, low_open=True)
    d = load_digits_split() if digits is None else digits
    net = LoopNet(make_norm, seeds, hidden)
    rngs = [np.random.default_rng([s, 1]) for s in net.seeds]
    loss_hist, eval_step, test_acc = [], [], []
    start = time.perf_counter()
    with one_thread():     # (60, 500) products: one BLAS thread is faster than several on a busy machine
        _loop(net, d, steps, lr, batch_size, eval_every, rngs, loss_hist, eval_step, test_acc)
    return {"loss": np.array(loss_hist).T, "eval_step": np.array(eval_step), "test_acc": np.array(test_acc).T,
            "calls": sum(getattr(m, "calls", 0) for m in net.norms), "seconds": time.perf_counter() - start,
            "net": net}


def _loop(net: LoopNet, d, steps: int, lr: float, batch_size: int, eval_every: int, rngs, loss_hist: list,
          eval_step: list, test_acc: list) -> None:
    n, per_epoch = len(d.X_train), len(d.X_train) // batch_size
    orders = None
    for step in range(1, steps + 1):
        k = (step - 1) % per_epoch
        if k == 0:
            orders = np.stack([r.permutation(n) for r in rngs])
        idx = orders[:, k * batch_size:(k + 1) * batch_size]
        loss, dlogits = net.loss(d.X_train[idx], d.y_train[idx])
        net._dW, net._db = net.backward(dlogits)
        net.step(lr)
        loss_hist.append(loss)
        if step % eval_every == 0 or step == steps:
            eval_step.append(step)
            test_acc.append(net.accuracy(d.X_test, d.y_test))


#: Candidate entries drawn per parameter for each entry the gradient check compares (see :func:`gradient_check`).
CANDIDATES = 4
#: Below this size, a parameter's gradient entries are compared in absolute terms (see :func:`gradient_check`).
GRAD_FLOOR = 1e-3


def gradient_check(make_norm: Callable, seed: int = 0, *, batch_size: int = 8, hidden: int = 50,
                   entries: int = 2, h: float = 1e-5, digits=None) -> dict[str, float]:
    """Whole-network gradient check: analytic gradients (through the norm layers) against central differences.

    One network (``hidden`` units, one seed), one batch of the digits, ``gamma``
    and ``beta`` drawn away from 1 and 0. The analytic gradient comes from
    :meth:`LoopNet.backward`; the numerical one perturbs ``entries`` random
    entries of each parameter by ``+h`` and ``-h``. All the perturbed networks
    are stacked like seeds and evaluated in one forward pass, so the supplied
    function is called twice for the analytic pass and twice for all the
    differences (the difference quotient of :func:`bn_helpers.gradcheck.numerical_gradient`,
    computed for every entry at once).

    Two things make a central difference wrong for a correct backward, and both
    are avoided. A perturbation that moves a ReLU input across zero (a kink:
    the loss has no derivative there) gives a quotient that is not the
    gradient, so :data:`CANDIDATES` entries are drawn per entry compared, and
    the first ``entries`` whose perturbed networks keep every ReLU on the same
    side are compared (CS231n's notes advise keeping the winners of every max:
    cs231n.github.io/neural-networks-3, "Kinks in the objective"). And the
    quotient carries the loss's rounding, about one ulp of the loss over
    ``2 h`` (2e-11 here), which is all there is of an entry whose gradient is
    zero (a pixel the batch never lights, a unit the ReLU keeps off): the
    denominator is at least :data:`GRAD_FLOOR`, so such entries count by their
    absolute difference.

    Returns
    -------
    dict
        Parameter name (``"W1"``, ``"gamma1"``, ``"beta1"``, ``"W2"``, ...,
        numbered from the input) to the relative error
        ``|analytic - numerical| / max(|analytic| + |numerical|, GRAD_FLOOR)``
        (norms over the entries checked). Below 1e-6 the gradients agree; a
        wrong backward gives 1e-3 or more.
    """
    d = load_digits_split() if digits is None else digits
    rng = np.random.default_rng([seed, 2])
    idx = rng.choice(len(d.X_train), size=batch_size, replace=False)
    x, y = d.X_train[idx], d.y_train[idx]
    gammas = [rng.uniform(0.5, 1.5, hidden) for _ in range(2)]
    betas = [rng.normal(0.0, 0.5, hidden) for _ in range(2)]
    names = ("W1", "gamma1", "beta1", "W2", "gamma2", "beta2", "W3")

    def build(copies: int) -> LoopNet:
        net = LoopNet(make_norm, [seed] * copies, hidden)
        for norm, g, b in zip(net.norms, gammas, betas):
            norm.gamma, norm.beta = np.tile(g, copies), np.tile(b, copies)
        return net

    def param(net: LoopNet, name: str, copy: int) -> NDArray:
        """A view of one copy's parameter (writable)."""
        layer = int(name[-1]) - 1
        if name[0] == "W":
            return net.W[layer][copy]
        arr = getattr(net.norms[layer], name[:-1])
        return arr[copy * hidden:(copy + 1) * hidden]

    with one_thread():
        net = build(1)
        _, dlogits = net.loss(x[None], y[None])
        relu = [np.asarray(m) for m in net._relu]
        dW, _ = net.backward(dlogits)
        analytic = {"W1": dW[0][0], "gamma1": net.norms[0].dgamma, "beta1": net.norms[0].dbeta,
                    "W2": dW[1][0], "gamma2": net.norms[1].dgamma, "beta2": net.norms[1].dbeta, "W3": dW[2][0]}
        analytic = {k: np.array(v, dtype=np.float64).ravel() for k, v in analytic.items()}
        picks = [(name, int(i)) for name in names
                 for i in rng.choice(analytic[name].size, size=min(CANDIDATES * entries, analytic[name].size),
                                     replace=False)]
        stacked = build(2 * len(picks))
        for norm in stacked.norms:   # writable copies: the views below change them in place
            norm.gamma, norm.beta = np.array(norm.gamma), np.array(norm.beta)
        for k, (name, i) in enumerate(picks):
            param(stacked, name, 2 * k).ravel()[i] += h
            param(stacked, name, 2 * k + 1).ravel()[i] -= h
        losses, _ = stacked.loss(np.broadcast_to(x, (2 * len(picks),) + x.shape), np.tile(y, (2 * len(picks), 1)))
        # a copy whose ReLUs switched differs from the unperturbed network by a kink, not by a derivative
        switched = np.zeros(2 * len(picks), dtype=bool)
        for base, moved in zip(relu, stacked._relu):
            switched |= (np.asarray(moved) != base).any(axis=(1, 2))
    numerical = (losses[0::2] - losses[1::2]) / (2 * h)
    smooth = ~(switched[0::2] | switched[1::2])
    errors = {}
    for name in names:
        rows = [k for k, (n, _) in enumerate(picks) if n == name]
        rows = ([k for k in rows if smooth[k]] + [k for k in rows if not smooth[k]])[:entries]
        ana = np.array([analytic[name][picks[k][1]] for k in rows])
        num = numerical[rows]
        errors[name] = float(np.linalg.norm(ana - num) / max(np.linalg.norm(ana) + np.linalg.norm(num), GRAD_FLOOR))
    return errors


# --------------------------------------------------------------------------
# The layers of 03, 04 and 05, the reference's, and known-wrong ones
# --------------------------------------------------------------------------


def with_backward(backward_fn: Callable, name: str = "batchnorm_backward_compact", **kwargs) -> Callable:
    """``make_norm`` for :func:`train`: batch norm with ``backward_fn`` as backward (03)."""
    return lambda d: PluggedNorm.backward_of(backward_fn, d, name, **kwargs)


def with_layer(layer_cls: Callable, name: str = "BatchNorm1d", **kwargs) -> Callable:
    """``make_norm`` for :func:`train`: ``layer_cls(D)`` as batch norm (04)."""
    return lambda d: PluggedNorm.layer_of(layer_cls, d, name, **kwargs)


def with_groupnorm(forward_fn: Callable, name: str = "groupnorm_forward", **kwargs) -> Callable:
    """``make_norm`` for :func:`train`: ``forward_fn`` as group norm over groups of :data:`GROUP_SIZE` features (05)."""
    return lambda d: PluggedNorm.forward_of(forward_fn, d, max(1, d // GROUP_SIZE), name, **kwargs)


def _reference_groupnorm(x, gamma, beta, G, eps=1e-5):
    return norms.groupnorm_forward(x, gamma, beta, G, eps)[0]


#: The reference's ``make_norm`` for each graded name.
REFERENCE = {"batchnorm_backward_compact": with_backward(norms.batchnorm_backward_compact),
             "BatchNorm1d": with_layer(_nn.BatchNorm1d),
             "groupnorm_forward": with_groupnorm(_reference_groupnorm)}


def _wrong_axis(dout, cache):
    """The compact backward with its two sums over the features (axis 1) instead of the batch."""
    g = dout * cache.gamma
    x_hat, n = cache.x_hat, dout.shape[0]
    dx = cache.inv_std / n * (n * g - g.sum(axis=1, keepdims=True) - x_hat * (g * x_hat).sum(axis=1, keepdims=True))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def _n_minus_1(dout, cache):
    """The compact backward divided by N - 1 instead of N."""
    g = dout * cache.gamma
    x_hat, n = cache.x_hat, dout.shape[0]
    dx = cache.inv_std / (n - 1) * (n * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


class _FrozenStats(_nn.BatchNorm1d):
    """A batch-norm layer whose running statistics never move from 0 and 1."""

    def _forward(self, x):
        before = (self.running_mean, self.running_var)
        out = super()._forward(x)
        self.running_mean, self.running_var = before
        return out


def _ignores_groups(x, gamma, beta, G, eps=1e-5):
    """Group norm with G ignored: each example normalized as one group (layer norm)."""
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    x_hat = (x - mean) / np.sqrt(x.var(axis=(1, 2, 3), keepdims=True) + eps)
    return gamma.reshape(1, -1, 1, 1) * x_hat + beta.reshape(1, -1, 1, 1)


def buggy(bug: str) -> Callable:
    """A known-wrong function or class to plug in, for the notebooks' demonstrations.

    Parameters
    ----------
    bug : str
        ``"wrong_axis"`` and ``"n_minus_1"``: backward passes (03) whose sums run
        over the features, or that divide by N - 1; ``"frozen_stats"``: a
        ``BatchNorm1d`` class (04) whose running statistics stay 0 and 1;
        ``"ignores_groups"``: a group norm (05) that normalizes each example as one group.

    Raises
    ------
    ValueError
        If ``bug`` is not one of these.
    """
    bugs = {"wrong_axis": _wrong_axis, "n_minus_1": _n_minus_1, "frozen_stats": _FrozenStats,
            "ignores_groups": _ignores_groups}
    if bug not in bugs:
        raise ValueError(f"bug must be one of {sorted(bugs)}; got {bug!r}")
    return bugs[bug]
