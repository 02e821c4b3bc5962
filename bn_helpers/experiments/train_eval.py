"""Experiments of assignment 04_train_vs_inference: BN in training, at inference, and why it helps.

Seeded, small, on the digits split of :func:`bn_helpers.data.load_digits_split`,
with the tiny network of :mod:`bn_helpers.nn` (N(0, 1/fan_in) init unless a
weight std is given). BLAS runs on one thread inside each function: OpenBLAS
on two threads is erratic on small matrices.

* :func:`train_run` — one network trained, its test accuracy (eval mode).
* :func:`lr_sweep` — final test accuracy against the learning rate.
* :func:`init_sweep` — final test accuracy against the std of the initial weights.
* :func:`running_var_estimates` — running variance with the biased vs unbiased batch variance.
* :func:`batch_dependence` — how much one example's output moves with the rest of its batch.
* :func:`buggy_batchnorm` — a BatchNorm1d class with one of the classic bugs, for demonstrations;
  :func:`diagnosis` — what ``checks.BatchNorm1d`` says about a class.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
from numpy.typing import NDArray

from .. import nn
from ..data import load_digits_split
from ._threads import one_thread

__all__ = ["Sweep", "train_run", "lr_sweep", "init_sweep",
           "running_var_estimates", "batch_dependence",
           "BUGS", "buggy_batchnorm", "diagnosis"]


class Sweep(NamedTuple):
    """Final test accuracies of a sweep, one list per setting (e.g. with and without BN).

    Attributes
    ----------
    values : list of float
        The swept values (learning rates or weight stds).
    accuracy : dict of str to list of float
        Label (``"with BN"``, ``"without BN"``) to the final test accuracy at each value.
    curves : dict of str to list of (list of int, list of float)
        Label to, for each value, the steps evaluated and the test accuracy there
        (only the last step unless the sweep was given ``eval_every``).
    """

    values: list
    accuracy: dict
    curves: dict


def train_run(depth: int = 6, width: int = 100, activation: str = "tanh", norm: str | None = None,
              lr: float = 0.1, steps: int = 300, weight_scale: float | None = None, seed: int = 0,
              batch_size: int = 60, progress: bool = False, eval_every: int | None = None) -> dict:
    """Train an MLP of ``depth`` hidden layers on the digits; return ``fit``'s history and the model.

    Parameters
    ----------
    depth, width : int, default 6 and 100
        Hidden layers and their width (input 64, output 10).
    activation : {"tanh", "sigmoid", "relu"}, default "tanh"
    norm : {None, "batch"}, default None
    lr : float, default 0.1
    steps : int, default 300
        SGD steps (no momentum) on batches of ``batch_size``.
    weight_scale : float, optional
        Std of every initial weight; default 1/sqrt(fan_in).
    seed : int, default 0
        Seeds the weights and the batch order (the data split is seed 0).
    batch_size : int, default 60
    progress : bool, default False
        Show ``fit``'s tqdm bar.
    eval_every : int, optional
        Measure the test accuracy every this many steps (and at the end).

    Returns
    -------
    dict
        ``fit``'s history (``"loss"``, ``"eval_step"``, ``"test_acc"``,
        ``"seconds"``) plus ``"model"`` and ``"final_acc"``, the test accuracy
        in eval mode after the last step.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 4.1 (an MLP on digits, test
    accuracy during training).
    """
    d = load_digits_split(seed=0)
    model = nn.mlp([64] + [width] * depth + [10], activation=activation, norm=norm, seed=seed,
                   weight_scale=weight_scale)
    with one_thread(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        history = nn.fit(model, d.X_train, d.y_train, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                         progress=progress, eval_every=eval_every, X_test=d.X_test, y_test=d.y_test)
    history["model"] = model
    acc = history["test_acc"][-1]
    history["final_acc"] = float(acc) if np.isfinite(acc) else 0.0
    return history


def _sweep(values, kwarg: str, norms, progress: bool, **settings) -> Sweep:
    acc: dict = {}
    curves: dict = {}
    for norm in norms:
        label = "with BN" if norm == "batch" else "without BN"
        runs = [train_run(norm=norm, progress=progress, **{kwarg: v}, **settings) for v in values]
        acc[label] = [r["final_acc"] for r in runs]
        curves[label] = [(list(r["eval_step"]), [float(a) for a in r["test_acc"]]) for r in runs]
    return Sweep(list(values), acc, curves)


def lr_sweep(lrs: Sequence[float], depth: int = 6, activation: str = "tanh", steps: int = 200,
             seed: int = 0, norms: Sequence[str | None] = ("batch", None), eval_every: int | None = None,
             progress: bool = False) -> Sweep:
    """Final test accuracy against the learning rate, with and without BN.

    Parameters
    ----------
    lrs : sequence of float
    depth : int, default 6
        Hidden layers of 100 units.
    activation : str, default "tanh"
    steps : int, default 200
        SGD steps on batches of 60.
    seed : int, default 0
    norms : sequence of {"batch", None}, default ("batch", None)
    eval_every : int, optional
        Also record the test accuracy every this many steps (``Sweep.curves``).
    progress : bool, default False
        A tqdm bar per run.

    Returns
    -------
    Sweep
        ``accuracy`` has ``"with BN"`` and/or ``"without BN"``.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3.3 ("Batch Normalization
    enables higher learning rates").
    """
    return _sweep(lrs, "lr", norms, progress, depth=depth, activation=activation, steps=steps, seed=seed,
                  eval_every=eval_every)


def init_sweep(stds: Sequence[float], depth: int = 6, activation: str = "tanh", lr: float = 0.3,
               steps: int = 200, seed: int = 0, progress: bool = False) -> Sweep:
    """Final test accuracy against the std of every initial weight, with and without BN.

    Parameters
    ----------
    stds : sequence of float
        Weight stds, e.g. 1e-3 ... 1 (the usual 1/sqrt(100) is 0.1).
    depth : int, default 6
    activation : str, default "tanh"
    lr : float, default 0.3
    steps : int, default 200
    seed : int, default 0
    progress : bool, default False

    Returns
    -------
    Sweep

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3.3 (BN makes training more
    resilient to the parameter scale).
    """
    return _sweep(stds, "weight_scale", ("batch", None), progress, depth=depth, activation=activation, lr=lr,
                  steps=steps, seed=seed)


def running_var_estimates(batch_size: int = 4, steps: int = 500, momentum: float = 0.1,
                          seed: int = 0) -> dict[str, NDArray]:
    """Running variance of N(0, 1) batches, updated with the unbiased vs the biased batch variance.

    Parameters
    ----------
    batch_size : int, default 4
        N; the biased variance is on average (N - 1)/N of the truth.
    steps : int, default 500
    momentum : float, default 0.1
        PyTorch's convention: ``running = (1 - m) * running + m * batch``.
    seed : int, default 0

    Returns
    -------
    dict
        ``"unbiased"`` and ``"biased"``: arrays (steps,) of the running
        variance after each step (starting from 1).

    References
    ----------
    PyTorch documentation, ``torch.nn.BatchNorm1d`` ("the running estimate of
    variance is calculated via the unbiased estimator"); Ioffe & Szegedy,
    arXiv:1502.03167, Algorithm 2 (m/(m-1) times the average batch variance).
    """
    rng = np.random.default_rng(seed)
    batches = rng.standard_normal((steps, batch_size))
    out = {}
    for label, ddof in (("unbiased", 1), ("biased", 0)):
        run, trace = 1.0, np.empty(steps)
        for t, v in enumerate(batches.var(axis=1, ddof=ddof)):
            run = (1 - momentum) * run + momentum * v
            trace[t] = run
        out[label] = trace
    return out


def batch_dependence(layer, x_row, others, trials: int = 20, seed: int = 0) -> NDArray:
    """Outputs of one example put in batches with different companions.

    Parameters
    ----------
    layer : object with ``forward(x)``
        Called in whatever mode it is in.
    x_row : array_like, shape (D,)
        The example.
    others : array_like, shape (M, D)
        Companions to draw from (M >= 7).
    trials : int, default 20
        Batches of 8: the example plus 7 companions drawn without replacement.
    seed : int, default 0

    Returns
    -------
    ndarray, shape (trials, D)
        The example's output row in each batch.

    Raises
    ------
    ValueError
        If ``others`` has fewer than 7 rows.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3.1 (at inference "the output
    [should] depend only on the input, deterministically").
    """
    others = np.asarray(others)
    if others.shape[0] < 7:
        raise ValueError(f"others must have at least 7 rows; got shape {others.shape}")
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(trials):
        pick = others[rng.choice(len(others), 7, replace=False)]
        rows.append(np.asarray(layer.forward(np.vstack([x_row, pick])))[0])
    return np.array(rows)


#: The classic bugs :func:`buggy_batchnorm` can build in.
BUGS = ("zero_running_var", "biased_running_var", "keras_momentum", "updates_in_eval", "eval_uses_batch_stats")


class _Buggy:
    """A small numpy BatchNorm1d (PyTorch's conventions) with a switch for one classic bug."""

    bug: str | None = None

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        self.eps, self.momentum, self.training = eps, momentum, True
        self.gamma, self.beta = np.ones(num_features), np.zeros(num_features)
        self.running_mean = np.zeros(num_features)
        self.running_var = np.zeros(num_features) if self.bug == "zero_running_var" else np.ones(num_features)

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        n = x.shape[0]
        update = self.training or self.bug == "updates_in_eval"
        batch_stats = self.training or self.bug == "eval_uses_batch_stats"
        if update:
            if n < 2:
                raise ValueError("Expected more than 1 value per feature when training")
            m = 0.1 if self.momentum is None else self.momentum
            old = 1 - m
            if self.bug == "keras_momentum":
                m, old = old, m
            var = x.var(axis=0) if self.bug == "biased_running_var" else x.var(axis=0, ddof=1)
            self.running_mean = old * self.running_mean + m * x.mean(axis=0)
            self.running_var = old * self.running_var + m * var
        mean, var = (x.mean(axis=0), x.var(axis=0)) if batch_stats else (self.running_mean, self.running_var)
        return self.gamma * (x - mean) / np.sqrt(var + self.eps) + self.beta


def buggy_batchnorm(bug: str) -> type:
    """A ``BatchNorm1d(num_features, eps=1e-5, momentum=0.1)`` class with one classic bug built in.

    Parameters
    ----------
    bug : str
        One of :data:`BUGS`: ``"zero_running_var"`` (running_var starts at 0),
        ``"biased_running_var"`` (running_var averages the biased variance),
        ``"keras_momentum"`` (momentum weights the old value), ``"updates_in_eval"``
        (running statistics updated in eval mode, then used), ``"eval_uses_batch_stats"``
        (eval mode normalizes with the batch statistics).

    Returns
    -------
    type
        A class with ``gamma``, ``beta``, ``running_mean``, ``running_var``,
        ``training``, ``forward``, ``train`` and ``eval``.

    Raises
    ------
    ValueError
        If ``bug`` is not one of :data:`BUGS`.

    References
    ----------
    PyTorch documentation, ``torch.nn.BatchNorm1d`` (the conventions each bug breaks).
    """
    if bug not in BUGS:
        raise ValueError(f"bug must be one of {BUGS}; got {bug!r}")
    return type(f"BatchNorm1d_{bug}", (_Buggy,), {"bug": bug})


def diagnosis(cls) -> str | None:
    """The first line of what ``checks.BatchNorm1d`` says about ``cls``, or None if it passes.

    Parameters
    ----------
    cls : type
        A BatchNorm1d class.

    Returns
    -------
    str or None

    References
    ----------
    :func:`bn_helpers.checks.BatchNorm1d`.
    """
    from ..checks import train_eval as check

    try:
        check.BatchNorm1d(cls)
    except AssertionError as exc:
        return str(exc).splitlines()[0]
    return None
