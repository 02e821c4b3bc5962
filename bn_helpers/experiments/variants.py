"""Experiments of assignment 05_variants: small batches hurt batch norm, not layer or group norm.

Seeded, small, on the digits split of :func:`bn_helpers.data.load_digits_split`
with the 3x100 ReLU network of :mod:`bn_helpers.nn`. BLAS runs on one thread.

* :class:`BatchRenorm1d` — a batch renormalization layer (Ioffe 2017) for :func:`bn_helpers.nn.mlp`-style nets.
* :func:`small_batch_run` — one network (BN, LN, GN, BRN) trained at one batch size; test accuracy in eval mode.
* :func:`batch_size_sweep` — test accuracy against the batch size for several normalizations.
* :func:`recalibrate` — recompute BN's running statistics on a whole data set.
* :func:`normalized_values` — what the first BN layer's x_hat looks like in training vs at evaluation.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
from numpy.typing import NDArray

from .. import nn, norms
from ..data import load_digits_split
from ..stats import RunningStats, update_running_stats
from ._threads import one_thread

__all__ = ["BatchRenorm1d", "SizeSweep", "build", "small_batch_run", "batch_size_sweep", "recalibrate",
           "normalized_values", "LABELS"]

#: Legend labels of the normalizations.
LABELS = {"batch": "batch norm", "layer": "layer norm", "group": "group norm (G=4)", "renorm": "batch renorm"}


class BatchRenorm1d(nn.BatchNorm1d):
    """Batch renormalization of (N, D) activations (Ioffe 2017), with running statistics.

    Training mode: :func:`bn_helpers.norms.batch_renorm_forward` with the
    current running statistics, ``r`` and ``d`` clipped to ``[1/r_max, r_max]``
    and ``[-d_max, d_max]`` and held constant in the backward pass
    (:func:`bn_helpers.norms.batch_renorm_backward`); then the running
    statistics are updated as in :class:`bn_helpers.nn.BatchNorm1d`.
    Evaluation mode: the same as batch norm, with the running statistics.

    Parameters
    ----------
    num_features : int
        D.
    r_max : float >= 1, default 3.0
    d_max : float >= 0, default 5.0
        The paper's final values; ``r_max=1, d_max=0`` is batch norm.
    eps : float, default 1e-5
    momentum : float, default 0.1
        PyTorch's convention, as in :class:`bn_helpers.nn.BatchNorm1d`.

    References
    ----------
    Ioffe, "Batch Renormalization", arXiv:1702.03275, Algorithm 1.
    """

    def __init__(self, num_features: int, r_max: float = 3.0, d_max: float = 5.0, eps: float = 1e-5,
                 momentum: float | None = 0.1) -> None:
        super().__init__(num_features, eps=eps, momentum=momentum)
        self.r_max, self.d_max = float(r_max), float(d_max)

    def _forward(self, x) -> NDArray:
        if not self.training:
            return super()._forward(x)
        out, self._cache = norms.batch_renorm_forward(x, self.gamma, self.beta, self.running_mean, self.running_var,
                                                      self.r_max, self.d_max, self.eps)
        self._eval_cache = None
        bn = self._cache.bn
        before = RunningStats(self.running_mean, self.running_var, self.num_batches_tracked)
        after = update_running_stats(before, bn.mean, bn.var, x.shape[0], self.momentum)
        self.running_mean, self.running_var, self.num_batches_tracked = after
        return out

    def _backward(self, dout) -> NDArray:
        if self._eval_cache is not None:
            return super()._backward(dout)
        dx, dgamma, dbeta = norms.batch_renorm_backward(dout, self._cache)
        self._grads["gamma"][...], self._grads["beta"][...] = dgamma, dbeta
        return dx

    def __repr__(self) -> str:
        return f"BatchRenorm1d({self.num_features}, r_max={self.r_max}, d_max={self.d_max})"


def build(norm: str, seed: int = 0, depth: int = 3, width: int = 100, r_max: float = 3.0,
          d_max: float = 5.0) -> nn.Sequential:
    """The 3x100 ReLU net with ``norm`` in {"batch", "layer", "group", "renorm"} before each ReLU."""
    if norm != "renorm":
        return nn.mlp([64] + [width] * depth + [10], norm=norm, seed=seed, groups=4)
    model = nn.mlp([64] + [width] * depth + [10], norm="batch", seed=seed)
    layers = [BatchRenorm1d(m.num_features, r_max, d_max) if isinstance(m, nn.BatchNorm1d) else m for m in model]
    return nn.Sequential(*layers)


def small_batch_run(norm: str, batch_size: int, epochs: int = 3, lr: float = 0.05, seed: int = 0,
                    progress: bool = False) -> dict:
    """Train the 3x100 ReLU net with ``norm`` at ``batch_size`` on the digits for ``epochs``.

    Returns
    -------
    dict
        ``"model"``, ``"acc"`` (test accuracy in eval mode after training) and
        ``"seconds"``.

    References
    ----------
    Wu & He, arXiv:1803.08494, Section 4.1 and Figure 1 (BN's error grows as
    the batch shrinks; GN's does not).
    """
    d = load_digits_split(seed=0)
    model = build(norm, seed=seed)
    with one_thread(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        history = nn.fit(model, d.X_train, d.y_train, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                         progress=progress, X_test=d.X_test, y_test=d.y_test)
    acc = history["test_acc"][-1]
    return {"model": model, "acc": float(acc) if np.isfinite(acc) else 0.0, "seconds": history["seconds"]}


class SizeSweep(NamedTuple):
    """Test accuracy against the batch size.

    Attributes
    ----------
    batch_sizes : list of int
    accuracy : dict of str to list of float
        Normalization ("batch", "layer", ...) to the accuracy at each batch size.
    recalibrated : dict of int to float
        BN's accuracy after :func:`recalibrate`, per batch size.
    models : dict of (str, int) to Sequential
        The trained networks.
    """

    batch_sizes: list
    accuracy: dict
    recalibrated: dict
    models: dict


def batch_size_sweep(batch_sizes: Sequence[int] = (2, 16, 64), kinds: Sequence[str] = ("batch", "layer", "group"),
                     epochs: int = 3, lr: float = 0.05, seed: int = 0, progress: bool = False) -> SizeSweep:
    """Final test accuracy (eval mode) of each normalization at each batch size, same number of epochs.

    BN networks are also measured after :func:`recalibrate` on the training set.

    References
    ----------
    Wu & He, arXiv:1803.08494, Figure 1 and Table 2 (ImageNet: BN 34.7% vs
    GN 24.1% top-1 error at 2 images per GPU).
    """
    d = load_digits_split(seed=0)
    acc: dict = {k: [] for k in kinds}
    recal: dict = {}
    models: dict = {}
    for k in kinds:
        for b in batch_sizes:
            run = small_batch_run(k, b, epochs=epochs, lr=lr, seed=seed, progress=progress)
            acc[k].append(run["acc"])
            models[k, b] = run["model"]
            if k == "batch":
                fixed = recalibrate(run["model"], d.X_train)
                recal[b] = nn.accuracy(fixed, d.X_test, d.y_test)
    return SizeSweep(list(batch_sizes), acc, recal, models)


def recalibrate(model: nn.Sequential, X) -> nn.Sequential:
    """A copy of ``model`` whose BN running statistics are those of ``X``, layer by layer.

    One training-mode pass over all of ``X`` with momentum 1: each BN layer's
    running mean and (unbiased) variance become the statistics of its input
    over ``X``, given the layers before it. The weights are not changed.
    """
    import copy

    model = copy.deepcopy(model)
    bns = [m for _, m in model.named_modules() if isinstance(m, nn.BatchNorm1d)]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.momentum = 1.0
    model.train()
    with one_thread():
        model.forward(np.asarray(X, dtype=np.float64))
    for m, mom in zip(bns, saved):
        m.momentum = mom
    return model.eval()


def normalized_values(model: nn.Sequential, X, batch_size: int = 2, batches: int = 50, seed: int = 0) -> dict:
    """x_hat of the first BN layer: on training-mode batches of ``batch_size`` vs in eval mode on ``X``.

    Returns
    -------
    dict
        ``"train"`` and ``"eval"``: flat arrays of x_hat values;
        ``"train_at_pm1"`` and ``"eval_at_pm1"``: the fraction within 0.01 of +1 or -1.
    """
    import copy

    model = copy.deepcopy(model)
    X = np.asarray(X, dtype=np.float64)
    k = next(i for i, m in enumerate(model) if isinstance(m, nn.BatchNorm1d))
    before, bn = nn.Sequential(*list(model)[:k]), model[k]
    rng = np.random.default_rng(seed)
    with one_thread():
        h = before.forward(X)
        train = []
        for _ in range(batches):
            idx = rng.choice(len(X), size=batch_size, replace=False)
            hb = h[idx]
            train.append((hb - hb.mean(0)) / np.sqrt(hb.var(0) + bn.eps))
        train = np.concatenate(train).ravel()
        evals = ((h - bn.running_mean) / np.sqrt(bn.running_var + bn.eps)).ravel()
    near = lambda v: float(np.mean(np.abs(np.abs(v) - 1) < 0.01))  # noqa: E731
    return {"train": train, "eval": evals, "train_at_pm1": near(train), "eval_at_pm1": near(evals)}
