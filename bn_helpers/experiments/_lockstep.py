"""One lockstep trainer: several seeds of one MLP, stored and trained together (a leading seed axis S).

A claim about training is a claim about a distribution over seeds, so every
experiment runs several seeds; one by one they cost too much for a notebook.
:class:`Lockstep` stacks the parameters of S networks of the same shape along a
new first axis, ``(S, D_in, D_out)``, and trains them with the steps of
:func:`bn_helpers.nn.fit` (each seed its own batch order, plain SGD on softmax
cross-entropy): one batched matrix product per layer instead of S, and one pass
of Python overhead. Every experiment that trains MLPs over seeds uses it:

* :func:`fit_lockstep` trains a list of :mod:`bn_helpers.nn` models in place
  (04's sweeps, 06's data-parallel runs);
* :class:`bn_helpers.experiments.why_normalize.StackedMLP` (01, 04's
  practitioner diagnostics) and :class:`bn_helpers.experiments.variants.SeedStack`
  (05's batch-size sweep) are :class:`Lockstep` built from ``nn.mlp`` or
  ``variants.build`` models.

The layers are ``Linear -> [normalization] -> activation`` per hidden layer and
a final ``Linear``, as :func:`bn_helpers.nn.mlp` builds them. The
normalizations are the package's own routines, over the batch axis (batch norm,
its per-device, noisy and renormalized variants) or the features (layer and
group norm): :func:`bn_helpers.numerics.normalize`,
:func:`bn_helpers.norms.normalize_backward` and
:func:`bn_helpers.stats.update_running_stats`, the ones :mod:`bn_helpers.nn`
uses, so that each seed follows its :func:`bn_helpers.nn.fit` run to rounding
(the tests check it for every kind).
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from .. import nn
from ..norms import normalize_backward
from ..numerics import normalize
from ..stats import RunningStats, update_running_stats
from ._threads import one_thread

__all__ = ["Lockstep", "fit_lockstep", "batch_order"]


def batch_order(seed: int, n: int, batch_size: int, steps: int) -> NDArray:
    """The rows of each step's batch, as :func:`bn_helpers.nn.fit` draws them: (steps, batch_size).

    Each epoch is a permutation of ``default_rng(seed)``, cut into consecutive
    batches; a last incomplete batch is dropped.
    """
    rng = np.random.default_rng(seed)
    per_epoch = n // batch_size
    if per_epoch < 1:
        raise ValueError(f"batch_size must be at most the number of rows, {n}; got {batch_size}")
    idx = np.empty((steps, batch_size), dtype=np.intp)
    for t in range(0, steps, per_epoch):
        order = rng.permutation(n)[: per_epoch * batch_size].reshape(per_epoch, batch_size)
        idx[t:t + per_epoch] = order[: steps - t]
    return idx


@dataclass
class _Norm:
    """One normalization layer of the S networks: its kind and settings (parameters live in :class:`Lockstep`)."""

    kind: str                    # "batch" (also per-device, noisy, renorm) | "layer" | "group"
    index: int                   # into Lockstep.gamma, beta, running_mean, running_var
    eps: float
    momentum: float | None = 0.1
    devices: int = 1             # batch: normalize K consecutive chunks of the batch on their own
    groups: int = 1              # group: G
    noise: float = 0.0           # batch: NoisyBatchNorm1d's level
    rngs: list | None = None     # one generator per seed for the noise
    renorm: tuple | None = None  # batch: (r_max, d_max) of batch renormalization


_ACTIVATIONS = (nn.ReLU, nn.Tanh, nn.Sigmoid)


class Lockstep:
    """S networks of one MLP shape, with their parameters stacked along a leading seed axis, trained together.

    Parameters
    ----------
    models : sequence of nn.Sequential
        One per seed, the same layers and shapes: ``Linear -> [BatchNorm1d |
        LayerNorm | GroupNorm] -> ReLU | Tanh | Sigmoid`` per hidden layer,
        then ``Linear`` (:func:`bn_helpers.nn.mlp`'s networks). Batch-norm
        subclasses with ``devices`` (per-device statistics), ``noise`` (noise
        after batch norm, with the layer's own generator) or ``r_max`` and
        ``d_max`` (batch renormalization) train as their layers do. The models
        are read, not changed; :meth:`write_back` copies the trained state into them.
    seeds : sequence of int
        The seed of each model's batch order (:func:`batch_order`).
    dtype : numpy dtype, default float64
        Of every array and computation; float64 follows :func:`bn_helpers.nn.fit`
        to the last bits, float32 halves the cost.

    Attributes
    ----------
    W, b : lists of ndarray
        Per Linear layer, weights (S, D_in, D_out) and biases (S, 1, D_out) or None.
    gamma, beta, running_mean, running_var : lists of ndarray, each (S, 1, D)
        Per normalization layer (layer and group norm keep running statistics at 0 and 1, unused).
    frozen : bool
        Batch norm normalizes with its running statistics in training too and
        does not update them (FrozenBN, Wu & Johnson arXiv:2105.07576, Section 4).
    noise_log : list of list of (mean, std)
        Per batch-norm layer with noise, the noise distribution drawn at each step, pairs of (S,) arrays.

    Raises
    ------
    ValueError
        If ``seeds`` and ``models`` differ in length, or the models differ in their layers.
    TypeError
        If a model holds a layer other than those above, or not in that order.

    References
    ----------
    :func:`bn_helpers.nn.fit` (the steps repeated here); Ioffe & Szegedy,
    arXiv:1502.03167, Algorithm 1; NumPy documentation, ``numpy.matmul``
    (stacks of matrices broadcast along the leading axis).
    """

    frozen = False

    def __init__(self, models: Sequence[nn.Sequential], seeds: Sequence[int], *, dtype=np.float64) -> None:
        models = list(models)
        if len(seeds) != len(models) or not models:
            raise ValueError(f"give one seed per model; got {len(seeds)} seeds for {len(models)} models")
        layouts = [[type(m) for m in model.modules] for model in models]
        if any(lay != layouts[0] for lay in layouts):
            raise ValueError("models must have the same layers")
        self.seeds, self.dtype, self._models = [int(s) for s in seeds], np.dtype(dtype), models
        self.W, self.b, self.gamma, self.beta, self.running_mean, self.running_var = [], [], [], [], [], []
        self.norms: list[_Norm | None] = []
        self.acts: list[type] = []
        self.noise_log: list = []
        self.num_batches_tracked = 0
        self._parse(models)

    # -- building -------------------------------------------------------------------------
    def _stack(self, arrays, shape=None) -> NDArray:
        out = np.stack([np.asarray(a, dtype=self.dtype) for a in arrays])
        return out if shape is None else out.reshape(shape)

    def _parse(self, models) -> None:
        mods = [list(m.modules) for m in models]
        s, k, n_layers = len(models), 0, len(mods[0])
        while k < n_layers:
            first = mods[0][k]
            if not isinstance(first, nn.Linear):
                raise TypeError(f"the lockstep trainer trains Linear -> [norm] -> activation blocks and a last "
                                f"Linear; got {type(first).__name__} where a Linear belongs")
            lins = [m[k] for m in mods]
            self.W.append(self._stack([lin.W for lin in lins]))
            self.b.append(None if first.b is None else self._stack([lin.b for lin in lins])[:, None, :])
            k += 1
            if k == n_layers:
                return
            norm = None
            if not isinstance(mods[0][k], _ACTIVATIONS):
                norm = self._parse_norm([m[k] for m in mods], s)
                k += 1
            if k == n_layers or not isinstance(mods[0][k], _ACTIVATIONS):
                got = type(mods[0][k]).__name__ if k < n_layers else "the end of the model"
                raise TypeError(f"the lockstep trainer trains Linear, BatchNorm1d, LayerNorm, GroupNorm, ReLU, Tanh "
                                f"and Sigmoid layers, in Linear -> [norm] -> activation blocks; got {got}")
            self.norms.append(norm)
            self.acts.append(type(mods[0][k]))
            k += 1
        raise TypeError("the last layer must be a Linear layer")

    def _parse_norm(self, layers, s: int) -> _Norm:
        first = layers[0]
        index = len(self.gamma)
        if isinstance(first, nn.BatchNorm1d):
            norm = _Norm("batch", index, first.eps, first.momentum, devices=int(getattr(first, "devices", 1)))
            if getattr(first, "noise", 0.0):
                norm.noise = float(first.noise)
                norm.rngs = [copy.deepcopy(layer.rng) for layer in layers]    # the layers' own draws, continued
                self.noise_log.append([])
            if hasattr(first, "r_max"):
                norm.renorm = (float(first.r_max), float(first.d_max))
            self.running_mean.append(self._stack([layer.running_mean for layer in layers], (s, 1, -1)))
            self.running_var.append(self._stack([layer.running_var for layer in layers], (s, 1, -1)))
            self.num_batches_tracked = int(first.num_batches_tracked)
        elif isinstance(first, nn.GroupNorm):
            norm = _Norm("group", index, first.eps, groups=int(first.num_groups))
        elif isinstance(first, nn.LayerNorm):
            norm = _Norm("layer", index, first.eps)
        else:
            raise TypeError(f"the lockstep trainer trains Linear, BatchNorm1d, LayerNorm, GroupNorm, ReLU, Tanh and "
                            f"Sigmoid layers; got {type(first).__name__}")
        if norm.kind != "batch":
            d = int(first.num_features)
            self.running_mean.append(np.zeros((s, 1, d), self.dtype))
            self.running_var.append(np.ones((s, 1, d), self.dtype))
        self.gamma.append(self._stack([layer._params["gamma"] for layer in layers], (s, 1, -1)))
        self.beta.append(self._stack([layer._params["beta"] for layer in layers], (s, 1, -1)))
        return norm

    @property
    def momentum(self) -> float | None:
        """Momentum of the first batch-norm layer's running statistics (None without batch norm)."""
        return next((n.momentum for n in self.norms if n is not None and n.kind == "batch"), None)

    @momentum.setter
    def momentum(self, value: float | None) -> None:
        for n in self.norms:
            if n is not None and n.kind == "batch":
                n.momentum = value

    def params(self) -> list[NDArray]:
        """Every trainable array, in the order :meth:`gradients` returns their gradients."""
        out = []
        for i, W in enumerate(self.W):
            out += [W] + ([self.b[i]] if self.b[i] is not None else [])
            if i < len(self.norms) and self.norms[i] is not None:
                k = self.norms[i].index
                out += [self.gamma[k], self.beta[k]]
        return out

    # -- one normalization, every seed ----------------------------------------------------------
    def _view(self, norm: _Norm, a: NDArray) -> tuple[tuple, tuple]:
        s, n, d = a.shape
        if norm.kind == "batch":
            if n % norm.devices:
                raise ValueError(f"the batch ({n} rows) must split evenly over devices={norm.devices}")
            return (s, norm.devices, n // norm.devices, d), (2,)
        if norm.kind == "group":
            return (s, n, norm.groups, d // norm.groups), (3,)
        return (s, n, d), (2,)

    def _norm_forward(self, norm: _Norm, a: NDArray, training: bool, update_stats: bool, noise: bool, stats):
        """The layer's output and its cache ``(x_hat, inv_std, view, axes, used, r)``."""
        k = norm.index
        gamma, beta = self.gamma[k], self.beta[k]
        if norm.kind == "batch" and (not training or self.frozen):
            mean, var = (self.running_mean[k], self.running_var[k]) if stats is None else (stats[0][k], stats[1][k])
            inv_std = 1.0 / np.sqrt(var + norm.eps)
            x_hat = (a - mean) * inv_std
            return gamma * x_hat + beta, (x_hat, inv_std, None, None, x_hat, None)
        view, axes = self._view(norm, a)
        x_hat, mean, var, inv_std = normalize(a.reshape(view), axes, norm.eps)
        used, r = x_hat.reshape(a.shape), None
        if norm.kind == "batch":
            s, d = a.shape[0], a.shape[2]
            batch_mean, batch_var = mean[:, 0].reshape(s, 1, d), var[:, 0].reshape(s, 1, d)   # device 0's
            self._batch_stats[k] = (batch_mean, batch_var, view[2])
            if norm.renorm is not None:      # Ioffe 2017, Algorithm 1, with the running statistics before this batch
                r_max, d_max = norm.renorm
                sigma = np.sqrt(self.running_var[k].astype(np.float64) + norm.eps)
                r = np.clip(1.0 / (inv_std.reshape(s, 1, d) * sigma), 1.0 / r_max, r_max).astype(self.dtype)
                shift = np.clip((batch_mean - self.running_mean[k]) / sigma, -d_max, d_max).astype(self.dtype)
                used = used * r + shift
            if update_stats:                 # the running statistics follow device 0 (rank 0's buffers)
                self._update_running(norm, batch_mean, batch_var, view[2])
        out = gamma * used + beta
        if norm.kind == "batch" and norm.noise and noise:
            out = out + self._draw_noise(norm, out.shape[1:])
        return out, (x_hat, inv_std, view, axes, used, r)

    def _update_running(self, norm: _Norm, batch_mean: NDArray, batch_var: NDArray, count: int) -> None:
        k = norm.index
        shape = self.running_mean[k].shape
        before = RunningStats(self.running_mean[k].ravel(), self.running_var[k].ravel(), self.num_batches_tracked)
        after = update_running_stats(before, batch_mean.ravel(), batch_var.ravel(), count, norm.momentum)
        self.running_mean[k], self.running_var[k] = after.mean.reshape(shape), after.var.reshape(shape)
        self._tracked = after.num_batches_tracked

    def _draw_noise(self, norm: _Norm, shape) -> NDArray:
        from .why_normalize import NoisyBatchNorm1d

        draws = [NoisyBatchNorm1d.draw(rng, norm.noise, shape) for rng in norm.rngs]
        noisy = [n for n in self.norms if n is not None and n.noise]
        self.noise_log[noisy.index(norm)].append((np.array([d[0] for d in draws]), np.array([d[1] for d in draws])))
        return np.stack([d[2] for d in draws]).astype(self.dtype, copy=False)

    def _norm_backward(self, norm: _Norm, da: NDArray, cache) -> tuple[NDArray, NDArray, NDArray]:
        x_hat, inv_std, view, axes, used, r = cache
        k = norm.index
        dgamma = np.sum(da * used, axis=1, keepdims=True)
        dbeta = np.sum(da, axis=1, keepdims=True)
        if view is None:                     # running statistics (frozen batch norm): a per-feature affine map
            return da * self.gamma[k] * inv_std, dgamma, dbeta
        scale = self.gamma[k] if r is None else self.gamma[k] * r
        dx = normalize_backward((da * scale).reshape(view), x_hat, inv_std, axes)
        return dx.reshape(da.shape), dgamma, dbeta

    # -- the networks ------------------------------------------------------------------------
    def forward(self, X, training: bool = False, *, update_stats: bool = True, noise: bool = True,
                stats: tuple | None = None) -> tuple[NDArray, list]:
        """Logits (S, n, K) of every seed's network, and what the backward pass needs.

        Parameters
        ----------
        X : array_like, shape (n, D_0) (the same rows for every seed) or (S, n, D_0)
        training : bool, default False
            Batch statistics (and the noise, if any) in training mode; running statistics otherwise.
        update_stats : bool, default True
            Update the running statistics in training mode.
        noise : bool, default True
            Add the noise of noisy batch norm (training mode only).
        stats : pair of lists (means, vars), optional
            Statistics to use instead of the running ones where batch norm uses running statistics.

        Returns
        -------
        logits : ndarray, shape (S, n, K)
        caches : list
            Per hidden layer: its input, the normalization's cache (or None), the
            activation's input and output.
        """
        h = np.asarray(X, dtype=self.dtype)
        if h.ndim == 2:
            h = np.broadcast_to(h, (len(self.seeds),) + h.shape)
        self._batch_stats: dict = {}
        self._tracked = self.num_batches_tracked
        caches = []
        for i, norm in enumerate(self.norms):
            a = h @ self.W[i]
            if self.b[i] is not None:
                a = a + self.b[i]
            cache = None
            if norm is not None:
                a, cache = self._norm_forward(norm, a, training, update_stats, noise, stats)
            out = self.acts[i]._f(a)
            caches.append((h, cache, a, out))
            h = out
        if training and update_stats:
            self.num_batches_tracked = self._tracked
        logits = h @ self.W[-1]
        return (logits + self.b[-1] if self.b[-1] is not None else logits), caches

    @staticmethod
    def _log_softmax(logits: NDArray, y: NDArray) -> tuple[NDArray, NDArray]:
        shifted = logits - logits.max(axis=2, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
        s, n, _ = logits.shape
        return log_p, -log_p[np.arange(s)[:, None], np.arange(n)[None, :], y].mean(axis=1)

    def loss(self, logits: NDArray, y: NDArray) -> NDArray:
        """Mean softmax cross-entropy of each seed's logits (S, n, K) against labels (S, n) or (n,): shape (S,)."""
        return self._log_softmax(logits, np.broadcast_to(y, logits.shape[:2]))[1]

    def gradients(self, logits: NDArray, y: NDArray, caches: list) -> tuple[NDArray, list[NDArray]]:
        """Mean softmax cross-entropy of each seed, (S,), and the gradients of :meth:`params`, in its order."""
        s, n, _ = logits.shape
        y = np.broadcast_to(y, (s, n))
        log_p, loss = self._log_softmax(logits, y)
        d = np.exp(log_p)
        d[np.arange(s)[:, None], np.arange(n)[None, :], y] -= 1.0
        d /= n
        h = caches[-1][3]
        grads = [[np.matmul(h.transpose(0, 2, 1), d)] + ([d.sum(axis=1, keepdims=True)] if self.b[-1] is not None else [])]
        dh = d @ self.W[-1].transpose(0, 2, 1)
        for i in range(len(self.norms) - 1, -1, -1):
            h_in, cache, _, out = caches[i]
            da = self.acts[i]._df(out) * dh
            extra = []
            if self.norms[i] is not None:
                da, dgamma, dbeta = self._norm_backward(self.norms[i], da, cache)
                extra = [dgamma, dbeta]
            layer = [np.matmul(np.swapaxes(h_in, -1, -2), da)]
            layer += ([da.sum(axis=1, keepdims=True)] if self.b[i] is not None else []) + extra
            grads.append(layer)
            if i:
                dh = da @ self.W[i].transpose(0, 2, 1)
        return loss, [g for layer in reversed(grads) for g in layer]

    def fit(self, X, y, *, steps: int | None = None, epochs: int | None = None, batch_size: int = 60,
            lr: float = 0.1, probe: Callable | None = None, callback: Callable | None = None) -> NDArray:
        """Plain SGD on softmax cross-entropy, every seed with :func:`bn_helpers.nn.fit`'s batches; the losses (steps, S).

        Parameters
        ----------
        X : array_like, shape (N, D_0)
        y : array_like of int, shape (N,)
        steps, epochs : int
            How long; exactly one of them (an epoch is ``N // batch_size`` steps).
        batch_size : int, default 60
        lr : float, default 0.1
        probe : callable, optional
            ``probe(step, xb, yb, grads)`` before each update (``step`` from 0),
            with the step's batch (S, batch_size, D_0) and the gradients of :meth:`params`.
        callback : callable, optional
            ``callback(step)`` after each update (``step`` from 1, as in :func:`bn_helpers.nn.fit`).

        Raises
        ------
        ValueError
            If neither or both of ``steps`` and ``epochs`` are given.
        """
        if (steps is None) == (epochs is None):
            raise ValueError("give exactly one of steps and epochs")
        X, y = np.asarray(X, dtype=self.dtype), np.asarray(y)
        total = int(steps) if steps is not None else int(epochs) * (len(X) // batch_size)
        idx = np.stack([batch_order(s, len(X), batch_size, total) for s in self.seeds], axis=1)   # (steps, S, b)
        params, losses = self.params(), []
        with one_thread(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for t in range(total):
                xb, yb = X[idx[t]], y[idx[t]]
                logits, caches = self.forward(xb, training=True)
                loss, grads = self.gradients(logits, yb, caches)
                losses.append(loss)
                if probe is not None:
                    probe(t, xb, yb, grads)
                for p, g in zip(params, grads):
                    p -= lr * g
                if callback is not None:
                    callback(t + 1)
        return np.array(losses).reshape(total, len(self.seeds))

    def evaluate(self, X, y, stats: tuple | None = None) -> tuple[NDArray, NDArray]:
        """Accuracy of each seed's network in evaluation mode, (S,), and the input of its last activation (S, n, D)."""
        with one_thread():
            logits, caches = self.forward(X, training=False, stats=stats)
        return np.mean(logits.argmax(axis=2) == np.asarray(y), axis=1), caches[-1][2]

    def accuracy(self, X, y) -> NDArray:
        """Test accuracy of each seed's network in evaluation mode, shape (S,); non-finite logits count as wrong."""
        with one_thread(), np.errstate(over="ignore", invalid="ignore"):
            logits, _ = self.forward(X, training=False)
        right = (np.argmax(logits, axis=2) == np.asarray(y)) & np.isfinite(logits).all(axis=2)
        return right.mean(axis=1)

    def population_stats(self, X, batch_size: int = 60) -> tuple[list, list]:
        """Batch-norm statistics recomputed without noise: a training-mode pass over ``X`` in consecutive batches.

        Each batch-norm layer's mean and unbiased variance, averaged over the
        batches (PyTorch's ``momentum=None``), with the noise switched off and
        the running statistics left alone. Evaluating with them (``stats=``) is
        evaluating the network as it would be without the noise ("precise BN").

        Returns
        -------
        (means, vars) : pair of lists of ndarray, each (S, 1, D), one per normalization layer
        """
        X = np.asarray(X, dtype=self.dtype)
        k = len(X) // batch_size
        means = [np.zeros_like(g) for g in self.gamma]
        variances = [np.zeros_like(g) for g in self.gamma]
        frozen, self.frozen = self.frozen, False
        try:
            with one_thread():
                for j in range(k):
                    self.forward(X[j * batch_size:(j + 1) * batch_size], training=True, update_stats=False, noise=False)
                    for i, (mean, var, count) in self._batch_stats.items():
                        means[i] += mean / k
                        variances[i] += var * (count / (count - 1)) / k
        finally:
            self.frozen = frozen
        return means, variances

    def recalibrated(self, X) -> "Lockstep":
        """A copy whose batch-norm running statistics are those of ``X`` in one batch, layer by layer (unbiased)."""
        new = copy.deepcopy(self)
        momentum, new.momentum = new.momentum, 1.0
        with one_thread():
            new.forward(X, training=True, noise=False)
        new.momentum = momentum
        return new

    def _write(self, j: int, model: nn.Sequential) -> nn.Sequential:
        linears = [m for m in model.modules if isinstance(m, nn.Linear)]
        normals = [m for m in model.modules if "gamma" in m._params]
        for i, lin in enumerate(linears):
            lin._params["W"][...] = self.W[i][j]
            if lin.b is not None:
                lin._params["b"][...] = self.b[i][j, 0]
        for i, m in enumerate(normals):
            m._params["gamma"][...], m._params["beta"][...] = self.gamma[i][j, 0], self.beta[i][j, 0]
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean = self.running_mean[i][j, 0].astype(m.running_mean.dtype)
                m.running_var = self.running_var[i][j, 0].astype(m.running_var.dtype)
                m.num_batches_tracked = self.num_batches_tracked
        return model

    def model(self, j: int) -> nn.Sequential:
        """Seed number ``j``'s network as a :mod:`bn_helpers.nn` model (a copy, with its running statistics).

        Noisy batch-norm layers keep the generator they started with (the copy
        does not continue this run's noise).
        """
        return self._write(j, copy.deepcopy(self._models[j]))

    def write_back(self) -> None:
        """Copy the trained parameters and running statistics into the models the trainer was built from."""
        for j, model in enumerate(self._models):
            self._write(j, model)


def fit_lockstep(models: Sequence[nn.Sequential], X, y, *, steps: int, seeds: Sequence[int], batch_size: int = 60,
                 lr: float = 0.1, eval_every: int | None = None, X_test=None, y_test=None,
                 progress: bool = False) -> dict:
    """Train S models of one shape at once, each as ``nn.fit(model, ..., seed=seeds[i])`` would, in place.

    A :class:`Lockstep` of the models: plain SGD (``momentum=0``) on softmax
    cross-entropy, each model's batches the consecutive slices of
    ``numpy.random.default_rng(seeds[i])`` permutations, as in
    :func:`bn_helpers.nn.fit`; at the end the trained parameters and running
    statistics are written back into ``models``.

    Parameters
    ----------
    models : sequence of nn.Sequential
        Same layers and shapes (see :class:`Lockstep`).
    X : ndarray, shape (N, D_in)
    y : ndarray of int, shape (N,)
    steps : int
    seeds : sequence of int, one per model
    batch_size : int, default 60
    lr : float, default 0.1
    eval_every : int, optional
        Test accuracy (eval mode) every this many steps and after the last.
    X_test, y_test : ndarray, optional
        Without them no accuracy is measured.
    progress : bool, default False
        One ``tqdm`` bar for all the models.

    Returns
    -------
    dict
        ``"eval_step"`` (list of int), ``"test_acc"`` (ndarray (S, evaluations)),
        ``"seconds"`` (wall time of the loop).

    Raises
    ------
    ValueError
        If ``seeds`` and ``models`` differ in length, the models differ in their
        layers, or ``batch_size`` is not a multiple of a BN layer's ``devices``.
    TypeError
        If a model holds a layer :class:`Lockstep` does not train.

    References
    ----------
    :func:`bn_helpers.nn.fit` (the steps repeated here).
    """
    from tqdm.auto import tqdm

    net = Lockstep(models, seeds)
    for norm in net.norms:
        if norm is not None and batch_size % norm.devices:
            raise ValueError(f"batch_size must be a multiple of devices={norm.devices}; got {batch_size}")
    has_test = X_test is not None and y_test is not None
    history: dict = {"eval_step": [], "test_acc": []}
    bar = tqdm(total=steps, disable=not progress, desc="training", leave=False)

    def after(step: int) -> None:
        bar.update(1)
        if has_test and ((eval_every and step % eval_every == 0) or step == steps):
            history["eval_step"].append(step)
            history["test_acc"].append(net.evaluate(X_test, y_test)[0])

    start = time.perf_counter()
    try:
        net.fit(X, y, steps=steps, batch_size=batch_size, lr=lr, callback=after)
    finally:
        bar.close()
    net.write_back()
    history["test_acc"] = np.array(history["test_acc"]).reshape(-1, len(models)).T
    history["seconds"] = time.perf_counter() - start
    return history
