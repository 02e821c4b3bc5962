"""Train several networks of the same shape at once: :func:`bn_helpers.nn.fit` for a list of seeds.

A claim about training is a claim about a distribution over seeds, so every
experiment runs several seeds; one by one they cost too much for a notebook.
:func:`fit_lockstep` stacks the seeds' parameters along a new first axis,
``(S, D_in, D_out)``, and trains them with the same steps as ``nn.fit`` (the
same batch order per seed, plain SGD, softmax cross-entropy, test accuracy in
eval mode): one batched matrix product per layer instead of S, and one pass of
Python overhead. The normalization is the package's one core routine,
:func:`bn_helpers.numerics.normalize` and :func:`bn_helpers.norms.normalize_backward`
over the batch axis, and the running statistics are
:func:`bn_helpers.stats.update_running_stats`. The tests check that each seed
ends where ``nn.fit`` on that model alone ends, up to rounding.
"""
from __future__ import annotations

import time
from typing import Sequence

import numpy as np
from numpy.typing import NDArray

from .. import nn
from ..norms import normalize_backward
from ..numerics import normalize
from ..stats import RunningStats, update_running_stats

__all__ = ["fit_lockstep"]


class _Stacked:
    """One layer position of S models: parameters stacked to (S, ...), forward and backward on (S, N, D)."""

    def __init__(self, mods: Sequence[nn.Module]) -> None:
        first = mods[0]
        if any(type(m) is not type(first) for m in mods):
            raise ValueError(f"models must have the same layers; got {sorted({type(m).__name__ for m in mods})}")
        self.mods, self.params, self.grads = list(mods), {}, {}
        if isinstance(first, nn.Linear):
            self.kind = "linear"
            self.params["W"] = np.stack([m.W for m in mods])                      # (S, D_in, D_out)
            if first.b is not None:
                self.params["b"] = np.stack([m.b for m in mods])[:, None, :]       # (S, 1, D_out)
        elif isinstance(first, nn.BatchNorm1d):
            self.kind = "batchnorm"
            self.devices = int(getattr(first, "devices", 1))                       # see in_practice.DeviceBatchNorm1d
            self.eps, self.momentum = first.eps, first.momentum
            self.params["gamma"] = np.stack([m.gamma for m in mods])[:, None, :]
            self.params["beta"] = np.stack([m.beta for m in mods])[:, None, :]
            self.running = RunningStats(np.concatenate([m.running_mean for m in mods]),
                                        np.concatenate([m.running_var for m in mods]), first.num_batches_tracked)
        elif isinstance(first, (nn.ReLU, nn.Tanh, nn.Sigmoid)):
            self.kind = "activation"
            self.f, self.df = first._f, first._df
        else:
            raise TypeError(f"fit_lockstep trains Linear, BatchNorm1d, ReLU, Tanh and Sigmoid layers; "
                            f"got {type(first).__name__}")

    def forward(self, x: NDArray, training: bool) -> NDArray:
        if self.kind == "linear":
            self.x = x
            out = x @ self.params["W"]
            return out + self.params["b"] if "b" in self.params else out
        if self.kind == "activation":
            self.out = self.f(x)
            return self.out
        s, n, d = x.shape
        gamma, beta = self.params["gamma"], self.params["beta"]
        if not training:
            mean, var = (a.reshape(s, 1, d) for a in self.running[:2])
            return gamma * ((x - mean) * (1.0 / np.sqrt(var + self.eps))) + beta
        k = self.devices                                   # each device normalizes its own n / k rows
        x_hat, mean, var, self.inv_std = normalize(x.reshape(s, k, n // k, d), (2,), self.eps)
        self.x_hat = x_hat.reshape(s, n, d)
        # the running statistics follow device 0 (rank 0's buffers), as DeviceBatchNorm1d's do
        self.running = update_running_stats(self.running, mean[:, 0].ravel(), var[:, 0].ravel(), n // k,
                                            self.momentum)
        return gamma * self.x_hat + beta

    def backward(self, dout: NDArray) -> NDArray:
        if self.kind == "linear":
            self.grads["W"] = self.x.transpose(0, 2, 1) @ dout
            if "b" in self.params:
                self.grads["b"] = dout.sum(axis=1, keepdims=True)
            return dout @ self.params["W"].transpose(0, 2, 1)
        if self.kind == "activation":
            return dout * self.df(self.out)
        self.grads["gamma"] = (dout * self.x_hat).sum(axis=1, keepdims=True)
        self.grads["beta"] = dout.sum(axis=1, keepdims=True)
        s, n, d = dout.shape
        k = self.devices
        dx_hat = (dout * self.params["gamma"]).reshape(s, k, n // k, d)
        return normalize_backward(dx_hat, self.x_hat.reshape(s, k, n // k, d), self.inv_std, (2,)).reshape(s, n, d)

    def write_back(self) -> None:
        """Copy the trained parameters and running statistics into the models."""
        for i, m in enumerate(self.mods):
            for name, p in self.params.items():
                m._params[name][...] = p[i].reshape(m._params[name].shape)
            if self.kind == "batchnorm":
                d = m.num_features
                m.running_mean = self.running.mean[i * d:(i + 1) * d].copy()
                m.running_var = self.running.var[i * d:(i + 1) * d].copy()
                m.num_batches_tracked = self.running.num_batches_tracked


def fit_lockstep(models: Sequence[nn.Sequential], X, y, *, steps: int, seeds: Sequence[int], batch_size: int = 60,
                 lr: float = 0.1, eval_every: int | None = None, X_test=None, y_test=None,
                 progress: bool = False) -> dict:
    """Train S models of one shape at once, each as ``nn.fit(model, ..., seed=seeds[i])`` would.

    Plain SGD (``momentum=0``) on softmax cross-entropy; the batches of model
    ``i`` are the consecutive slices of ``numpy.random.default_rng(seeds[i])``
    permutations, as in :func:`bn_helpers.nn.fit`. A ``BatchNorm1d`` with a
    ``devices`` attribute K (:class:`bn_helpers.experiments.in_practice.DeviceBatchNorm1d`)
    normalizes each of K consecutive chunks of the batch with its own statistics.

    Parameters
    ----------
    models : sequence of nn.Sequential
        Same layers and shapes: ``Linear``, ``BatchNorm1d``, ``ReLU``, ``Tanh``,
        ``Sigmoid`` (as :func:`bn_helpers.nn.mlp` builds them). Trained in place:
        their parameters and running statistics are overwritten at the end.
    X : ndarray, shape (N, D_in)
    y : ndarray of int, shape (N,)
    steps : int
    seeds : sequence of int, one per model
        Seed of each model's batch order.
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
        If a model holds a layer other than the five above.

    References
    ----------
    :func:`bn_helpers.nn.fit` (the steps repeated here); NumPy documentation,
    ``numpy.matmul`` (stacks of matrices broadcast along the leading axis).
    """
    from tqdm.auto import tqdm

    if len(seeds) != len(models) or not models:
        raise ValueError(f"give one seed per model; got {len(seeds)} seeds for {len(models)} models")
    if len({len(m) for m in models}) != 1:
        raise ValueError("models must have the same layers")
    layers = [_Stacked([m[i] for m in models]) for i in range(len(models[0]))]
    for layer in layers:
        if layer.kind == "batchnorm" and batch_size % layer.devices:
            raise ValueError(f"batch_size must be a multiple of devices={layer.devices}; got {batch_size}")
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    n, per_epoch = len(X), len(X) // batch_size
    rngs = [np.random.default_rng(s) for s in seeds]
    has_test = X_test is not None and y_test is not None
    if has_test:
        X_test = np.broadcast_to(np.asarray(X_test, dtype=np.float64), (len(models),) + np.shape(X_test))
    history: dict = {"eval_step": [], "test_acc": []}
    start = time.perf_counter()
    orders = None
    for step in tqdm(range(1, steps + 1), disable=not progress, desc="training", leave=False):
        k = (step - 1) % per_epoch
        if k == 0:
            orders = np.stack([r.permutation(n) for r in rngs])
        idx = orders[:, k * batch_size:(k + 1) * batch_size]          # (S, batch): each model its own batch
        h = X[idx]
        for layer in layers:
            h = layer.forward(h, training=True)
        _, dlogits = nn.softmax_cross_entropy(h.reshape(-1, h.shape[-1]), y[idx].ravel())
        g = dlogits.reshape(h.shape) * len(models)                      # the mean over each model's own batch
        for layer in reversed(layers):
            g = layer.backward(g)
        for layer in layers:
            for name, p in layer.params.items():
                p -= lr * layer.grads[name]
        if has_test and ((eval_every and step % eval_every == 0) or step == steps):
            h = X_test
            for layer in layers:
                h = layer.forward(h, training=False)
            history["eval_step"].append(step)
            history["test_acc"].append((np.argmax(h, axis=2) == np.asarray(y_test)).mean(axis=1))
    for layer in layers:
        layer.write_back()
    history["test_acc"] = np.array(history["test_acc"]).reshape(-1, len(models)).T
    history["seconds"] = time.perf_counter() - start
    return history
