"""Experiments of assignment 06_in_practice: BN in real networks, at inference and across devices.

Seeded, small, on the digits split of :func:`bn_helpers.data.load_digits_split`,
with the tiny network of :mod:`bn_helpers.nn`. BLAS runs on one thread inside
the training functions (OpenBLAS on two threads is erratic on small matrices).

* :func:`bias_gradient` — the gradient of a bias placed before BN (zero).
* :func:`shift_invariance` — adding a constant to the pre-activations changes nothing after BN.
* :func:`train_bn_net` — a trained Linear -> BN -> ReLU network, for folding.
* :func:`fold_network` — the same network with every BN folded into its Linear.
* :func:`time_forward` — median wall time of repeated eval-mode forwards.
* :class:`DeviceBatchNorm1d` — BN whose training statistics come from K simulated devices.
* :func:`data_parallel_run` — per-device vs synchronized BN statistics, trained on the digits, over seeds;
  :func:`describe_parallel` — their ranges, one line per layout.
* :func:`device_statistics` — one unit's per-device batch means and variances, and the synced ones.
* :func:`compare_with_torch` — ``nn.BatchNorm1d`` against ``torch.nn.BatchNorm1d``, when torch is installed.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
from numpy.typing import NDArray

from .. import nn, stats
from ..data import load_digits_split
from ..numerics import batchnorm_forward
from ._lockstep import fit_lockstep
from ._threads import one_thread

__all__ = ["bias_gradient", "shift_invariance", "train_bn_net", "fold_network", "time_forward",
           "DeviceBatchNorm1d", "data_parallel_run", "describe_parallel", "device_statistics", "compare_with_torch"]


def bias_gradient(batch_size: int = 64, width: int = 100, seed: int = 0) -> dict:
    """Gradients of a Linear(bias=True) -> BatchNorm1d -> ReLU -> Linear block on one digits batch.

    Parameters
    ----------
    batch_size : int, default 64
    width : int, default 100
    seed : int, default 0
        Seeds the weights (the bias starts at N(0, 1), not zero) and the batch.

    Returns
    -------
    dict
        ``"db"`` (width,): the bias gradient, zero up to rounding; ``"dW"``: the
        weight gradient of the same layer (not zero), for scale; ``"max_abs_db"``,
        ``"max_abs_dW"`` : float.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3.2 (the bias "can be ignored
    since its effect will be canceled by the subsequent mean subtraction").
    """
    d = load_digits_split(seed=0)
    rng = np.random.default_rng(seed)
    lin = nn.Linear(64, width, rng, bias=True)
    lin.b[...] = rng.normal(0.0, 1.0, width)
    model = nn.Sequential(lin, nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, 10, rng))
    idx = rng.choice(len(d.X_train), batch_size, replace=False)
    _, dlogits = nn.softmax_cross_entropy(model.forward(d.X_train[idx]), d.y_train[idx])
    model.backward(dlogits)
    db, dW = lin._grads["b"].copy(), lin._grads["W"].copy()
    return {"db": db, "dW": dW, "max_abs_db": float(np.abs(db).max()), "max_abs_dW": float(np.abs(dW).max())}


def shift_invariance(shift: float = 7.0, batch_size: int = 64, width: int = 100, seed: int = 0) -> float:
    """Largest change of a BN output when a constant per unit is added to its input (training mode).

    Parameters
    ----------
    shift : float, default 7.0
        Scale of the constants, ``c ~ shift * N(0, 1)`` per unit.
    batch_size, width, seed : int

    Returns
    -------
    float
        ``max |BN(h + c) - BN(h)|`` over the batch: rounding only.
    """
    d = load_digits_split(seed=0)
    rng = np.random.default_rng(seed)
    h = d.X_train[:batch_size] @ rng.normal(0, 0.125, (64, width))
    gamma, beta = rng.uniform(0.5, 2, width), rng.normal(0, 1, width)
    out, _ = batchnorm_forward(h, gamma, beta)
    shifted, _ = batchnorm_forward(h + shift * rng.standard_normal(width), gamma, beta)
    return float(np.abs(shifted - out).max())


def train_bn_net(sizes=(64, 100, 100, 10), steps: int = 300, lr: float = 0.1, seed: int = 0) -> dict:
    """Train an MLP with Linear -> BatchNorm1d -> ReLU hidden blocks on the digits.

    Returns
    -------
    dict
        ``"model"`` (nn.Sequential, trained), ``"acc"`` (test accuracy, eval mode),
        ``"X_test"``, ``"y_test"``.
    """
    d = load_digits_split(seed=0)
    model = nn.mlp(list(sizes), activation="relu", norm="batch", seed=seed)
    with one_thread():
        nn.fit(model, d.X_train, d.y_train, steps=steps, batch_size=60, lr=lr, seed=seed, progress=False)
    return {"model": model, "acc": nn.accuracy(model, d.X_test, d.y_test), "X_test": d.X_test, "y_test": d.y_test}


def fold_network(model: nn.Sequential, fold: Callable = stats.fold_batchnorm) -> nn.Sequential:
    """A copy of ``model`` in which each Linear followed by a BatchNorm1d becomes one Linear.

    Parameters
    ----------
    model : nn.Sequential
        Layers as :func:`bn_helpers.nn.mlp` builds them.
    fold : callable, default :func:`bn_helpers.stats.fold_batchnorm`
        ``fold(W, b, gamma, beta, running_mean, running_var, eps) -> (W, b)``;
        the notebook passes the student's function.

    Returns
    -------
    nn.Sequential
        In eval mode; the BN layers are gone, the Linear layers carry a bias.
    """
    layers, mods, i = [], list(model), 0
    while i < len(mods):
        m = mods[i]
        if isinstance(m, nn.Linear) and i + 1 < len(mods) and isinstance(mods[i + 1], nn.BatchNorm1d):
            bn = mods[i + 1]
            b = m.b if m.b is not None else np.zeros(m.out_features)
            W, b = fold(m.W, b, bn.gamma, bn.beta, bn.running_mean, bn.running_var, bn.eps)
            new = nn.Linear(m.in_features, m.out_features, 0, bias=True)
            new.W[...], new.b[...] = W, b
            layers.append(new)
            i += 2
        else:
            layers.append(m)
            i += 1
    return nn.Sequential(*layers).eval()


def time_forward(model: nn.Module, X: NDArray, repeats: int = 200) -> float:
    """Median wall time in seconds of ``model.forward(X)`` in eval mode, over ``repeats`` calls."""
    times = []
    with nn.eval_mode(model), one_thread():
        model.forward(X)
        for _ in range(repeats):
            start = time.perf_counter()
            model.forward(X)
            times.append(time.perf_counter() - start)
    return float(np.median(times))


class DeviceBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm1d trained as on K devices without synchronization.

    In training mode the batch is split into ``devices`` equal consecutive
    chunks (one per simulated device) and each chunk is normalized with its
    own mean and variance, forward and backward; the gradients of ``gamma`` and
    ``beta`` are summed over chunks (data parallelism averages the devices'
    gradients of per-device mean losses, which is the same). The running
    statistics follow device 0's chunk only, as PyTorch's
    DistributedDataParallel broadcasts rank 0's buffers. Eval mode is plain BN.

    Parameters
    ----------
    num_features : int
    devices : int
        K; the batch size must be a multiple of it.
    eps, momentum : as :class:`bn_helpers.nn.BatchNorm1d`.

    References
    ----------
    PyTorch documentation, ``torch.nn.SyncBatchNorm`` and
    ``torch.nn.parallel.DistributedDataParallel`` (``broadcast_buffers``);
    Hoffer et al. 2017, arXiv:1705.08741 ("ghost batch normalization").
    """

    def __init__(self, num_features: int, devices: int, eps: float = 1e-5, momentum: float | None = 0.1) -> None:
        super().__init__(num_features, eps, momentum)
        self.devices = int(devices)

    def _forward(self, x):
        if not self.training:
            return super()._forward(x)
        x = np.asarray(x, dtype=np.float64)
        n, d = x.shape
        xr = x.reshape(self.devices, n // self.devices, d)       # (K, n_k, D): one slice per device
        mean, var = xr.mean(axis=1, keepdims=True), xr.var(axis=1, keepdims=True)
        inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat = (xr - mean) * inv_std
        self._eval_cache = None
        self._device_cache = (x_hat, inv_std)
        before = stats.RunningStats(self.running_mean, self.running_var, self.num_batches_tracked)
        after = stats.update_running_stats(before, mean[0, 0], var[0, 0], xr.shape[1], self.momentum)
        self.running_mean, self.running_var, self.num_batches_tracked = after
        return (self.gamma * x_hat + self.beta).reshape(n, d)

    def _backward(self, dout):
        if self._eval_cache is not None:
            return super()._backward(dout)
        x_hat, inv_std = self._device_cache
        dr = np.asarray(dout, dtype=np.float64).reshape(x_hat.shape)
        self._grads["gamma"][...] = (dr * x_hat).sum(axis=(0, 1))
        self._grads["beta"][...] = dr.sum(axis=(0, 1))
        dx_hat = dr * self.gamma
        dx = inv_std * (dx_hat - dx_hat.mean(axis=1, keepdims=True)
                        - x_hat * (dx_hat * x_hat).mean(axis=1, keepdims=True))
        return dx.reshape(-1, x_hat.shape[2])


def _mlp(devices: int | None, width: int, depth: int, seed: int) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    layers, d_in = [], 64
    for _ in range(depth):
        layers.append(nn.Linear(d_in, width, rng, bias=False))
        layers.append(nn.BatchNorm1d(width) if devices is None else DeviceBatchNorm1d(width, devices))
        layers.append(nn.ReLU())
        d_in = width
    layers.append(nn.Linear(d_in, 10, rng))
    return nn.Sequential(*layers)


def data_parallel_run(devices: int = 8, per_device: int = 4, steps: int = 300, lr: float = 0.1,
                      width: int = 64, depth: int = 3, seeds=range(5), progress: bool = False) -> dict:
    """Test accuracy with per-device BN statistics vs synchronized ones, same global batch, several seeds.

    For each seed both networks see the same batches of ``devices * per_device``
    digits and start from the same weights; the per-device one normalizes each
    chunk of ``per_device`` examples with its own statistics
    (:class:`DeviceBatchNorm1d`), the synced one the whole batch (what
    ``SyncBatchNorm`` computes). The seeds are trained at once
    (:func:`bn_helpers.experiments._lockstep.fit_lockstep`, the same steps as
    ``nn.fit`` on each network).

    Parameters
    ----------
    devices, per_device : int, default 8 and 4
        K simulated devices with ``per_device`` examples each.
    steps : int, default 300
    lr : float, default 0.1
    width, depth : int, default 64 and 3
        Hidden layers (Linear -> BN -> ReLU).
    seeds : sequence of int, default range(5)
    progress : bool, default False

    Returns
    -------
    dict
        ``"per_device"``, ``"synced"``: ndarrays (seeds,) of final test accuracies
        (eval mode); ``"gap"``: synced minus per-device, per seed; ``"seeds"``,
        ``"devices"``, ``"per_device_batch"``, ``"global_batch"``.

    References
    ----------
    PyTorch documentation, ``torch.nn.SyncBatchNorm``; Wu & He, arXiv:1803.08494,
    Section 1 and Figure 1 (BN's error grows as the batch per GPU shrinks).
    """
    d = load_digits_split(seed=0)
    seeds = [int(s) for s in seeds]
    out = {"seeds": seeds, "devices": devices, "per_device_batch": per_device, "global_batch": devices * per_device}
    with one_thread():
        for key, k in (("per_device", devices), ("synced", None)):
            models = [_mlp(k, width, depth, seed) for seed in seeds]
            history = fit_lockstep(models, d.X_train, d.y_train, steps=steps, seeds=seeds,
                                   batch_size=devices * per_device, lr=lr, X_test=d.X_test, y_test=d.y_test,
                                   progress=progress)
            out[key] = history["test_acc"][:, -1].copy()
    out["gap"] = out["synced"] - out["per_device"]
    return out


def describe_parallel(runs: dict) -> list[str]:
    """One line per device layout: the lowest and highest accuracy of each kind, and the per-seed gap.

    Parameters
    ----------
    runs : dict of str to dict
        Layout label (``"8 × 4"``) to what :func:`data_parallel_run` returns.

    Returns
    -------
    list of str
    """
    lines = []
    for label, r in runs.items():
        lines.append(f"{label} ({len(r['seeds'])} seeds): per-device {r['per_device'].min():.3f}-"
                     f"{r['per_device'].max():.3f}, synced {r['synced'].min():.3f}-{r['synced'].max():.3f}; "
                     f"synced minus per-device {r['gap'].min():+.3f} to {r['gap'].max():+.3f}")
    return lines


def device_statistics(devices: int = 8, per_device: int = 4, unit: int = 0, seed: int = 0) -> dict:
    """One unit's batch statistics on each simulated device, and over the whole global batch.

    The unit is in the first hidden layer (``x @ W``, N(0, 1/64) weights) of a
    digits batch of ``devices * per_device`` examples.

    Returns
    -------
    dict
        ``"counts"`` (K,), ``"means"``, ``"variances"`` (K, width) per device
        (biased), ``"h"`` (global batch, width) pre-activations,
        ``"synced_mean"``, ``"synced_var"`` (width,) of the whole batch, ``"unit"``.
    """
    d = load_digits_split(seed=0)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(d.X_train), devices * per_device, replace=False)
    h = d.X_train[idx] @ rng.normal(0, 1 / 8, (64, 100))
    chunks = np.split(h, devices)
    return {"counts": np.full(devices, per_device), "means": np.stack([c.mean(0) for c in chunks]),
            "variances": np.stack([c.var(0) for c in chunks]), "h": h,
            "synced_mean": h.mean(0), "synced_var": h.var(0), "unit": unit}


def compare_with_torch(steps: int = 3, batch_size: int = 16, features: int = 5, momentum: float = 0.1,
                       seed: int = 0) -> dict | None:
    """Run ``nn.BatchNorm1d`` and ``torch.nn.BatchNorm1d`` side by side: a few training steps, then eval.

    Returns
    -------
    dict or None
        None when torch cannot be imported. Otherwise the largest absolute
        differences: ``"train_out"`` (over the training steps),
        ``"running_mean"``, ``"running_var"``, ``"eval_out"``, and ``"torch_version"``.
    """
    try:
        import torch
    except ImportError:
        return None
    rng = np.random.default_rng(seed)
    ours = nn.BatchNorm1d(features, momentum=momentum)
    theirs = torch.nn.BatchNorm1d(features, momentum=momentum).double()
    gamma, beta = rng.uniform(0.5, 2, features), rng.normal(0, 1, features)
    ours.gamma[...], ours.beta[...] = gamma, beta
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(gamma))
        theirs.bias.copy_(torch.from_numpy(beta))
    diff = {"train_out": 0.0}
    for _ in range(steps):
        x = rng.normal(3.0, 2.0, (batch_size, features))
        a = ours.forward(x)
        with torch.no_grad():
            b = theirs(torch.from_numpy(x)).numpy()
        diff["train_out"] = max(diff["train_out"], float(np.abs(a - b).max()))
    diff["running_mean"] = float(np.abs(ours.running_mean - theirs.running_mean.numpy()).max())
    diff["running_var"] = float(np.abs(ours.running_var - theirs.running_var.numpy()).max())
    ours.eval()
    theirs.eval()
    x = rng.normal(3.0, 2.0, (7, features))
    with torch.no_grad():
        b = theirs(torch.from_numpy(x)).numpy()
    diff["eval_out"] = float(np.abs(ours.forward(x) - b).max())
    diff["torch_version"] = torch.__version__
    return diff
