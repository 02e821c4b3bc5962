"""Experiments of assignment 04_train_vs_inference: BN in training, at inference, and why it helps.

Seeded, small, on the digits split of :func:`bn_helpers.data.load_digits_split`,
with the tiny network of :mod:`bn_helpers.nn` (N(0, 1/fan_in) init unless a
weight std is given). BLAS runs on one thread inside each function: OpenBLAS
on two threads is erratic on small matrices.

* :func:`train_run` — one network trained, its test accuracy (eval mode).
* :func:`train_seeds` — the same for several seeds at once: every claim is made over seeds.
* :func:`lr_sweep` — final test accuracy against the learning rate, over seeds.
* :func:`init_sweep` — final test accuracy against the std of the initial weights, over seeds.
* :func:`describe` — the lowest, mean and highest accuracy of a sweep, one line per value.
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
from ._lockstep import fit_lockstep
from ._threads import one_thread

__all__ = ["Sweep", "train_run", "train_seeds", "lr_sweep", "init_sweep", "first_step", "describe",
           "running_var_estimates", "batch_dependence",
           "BUGS", "buggy_batchnorm", "diagnosis"]


class Sweep(NamedTuple):
    """Final test accuracies of a sweep over several seeds, per setting (e.g. with and without BN).

    Attributes
    ----------
    values : list of float
        The swept values (learning rates or weight stds).
    seeds : list of int
        One network per seed and value.
    accuracy : dict of str to ndarray, shape (seeds, values)
        Label (``"with BN"``, ``"without BN"``) to the final test accuracy
        (eval mode) of each seed (row) at each value (column).
    steps : list of int
        The steps at which the test accuracy was measured (the last one only
        unless the sweep was given ``eval_every``).
    curves : dict of str to ndarray, shape (seeds, values, len(steps))
        Label to the test accuracy at each of ``steps``.
    """

    values: list
    seeds: list
    accuracy: dict
    steps: list
    curves: dict


def _label(norm: str | None) -> str:
    return "with BN" if norm == "batch" else "without BN"


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


def train_seeds(seeds: Sequence[int] = range(5), depth: int = 6, width: int = 32, activation: str = "tanh",
                norm: str | None = None, lr: float = 0.1, steps: int = 200, weight_scale: float | None = None,
                batch_size: int = 60, eval_every: int | None = None, progress: bool = False) -> dict:
    """:func:`train_run` for several seeds at once (trained in lockstep, the same steps as one by one).

    Parameters
    ----------
    seeds : sequence of int, default range(5)
        One network per seed; the seed sets its initial weights and its batch order.
    depth, width, activation, norm, lr, steps, weight_scale, batch_size, eval_every
        As :func:`train_run`, except the defaults ``width=32`` and ``steps=200``
        (the notebook's settings).
    progress : bool, default False
        One tqdm bar for all the seeds.

    Returns
    -------
    dict
        ``"seeds"`` (list), ``"eval_step"`` (list of int), ``"test_acc"``
        (ndarray (seeds, evaluations), eval mode), ``"final_acc"`` (ndarray
        (seeds,)), ``"models"`` (the trained networks, one per seed).

    Notes
    -----
    :func:`bn_helpers.experiments._lockstep.fit_lockstep` stacks the seeds'
    weights and runs ``nn.fit``'s steps on all of them at once; each seed ends
    where ``train_run(seed=...)`` ends, up to rounding (a test checks it).

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 4.1 (an MLP on digits, test
    accuracy during training).
    """
    seeds = [int(s) for s in seeds]
    d = load_digits_split(seed=0)
    models = [nn.mlp([64] + [width] * depth + [10], activation=activation, norm=norm, seed=s,
                     weight_scale=weight_scale) for s in seeds]
    with one_thread(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        history = fit_lockstep(models, d.X_train, d.y_train, steps=steps, seeds=seeds, batch_size=batch_size,
                               lr=lr, eval_every=eval_every, X_test=d.X_test, y_test=d.y_test, progress=progress)
    return {"seeds": seeds, "eval_step": history["eval_step"], "test_acc": history["test_acc"],
            "final_acc": history["test_acc"][:, -1].copy(), "models": models}


def _sweep(values, kwarg: str, norms, seeds, **settings) -> Sweep:
    acc: dict = {}
    curves: dict = {}
    steps: list = []
    for norm in norms:
        runs = [train_seeds(seeds, norm=norm, **{kwarg: v}, **settings) for v in values]
        acc[_label(norm)] = np.stack([r["final_acc"] for r in runs], axis=1)
        curves[_label(norm)] = np.stack([r["test_acc"] for r in runs], axis=1)
        steps = runs[0]["eval_step"]
    return Sweep(list(values), [int(s) for s in seeds], acc, list(steps), curves)


def lr_sweep(lrs: Sequence[float], seeds: Sequence[int] = range(5), depth: int = 6, width: int = 32,
             activation: str = "tanh", steps: int = 200, batch_size: int = 60,
             norms: Sequence[str | None] = ("batch", None), eval_every: int | None = None,
             progress: bool = False) -> Sweep:
    """Final test accuracy against the learning rate, with and without BN, over several seeds.

    Parameters
    ----------
    lrs : sequence of float
    seeds : sequence of int, default range(5)
    depth, width : int, default 6 and 32
        Hidden layers and their width.
    activation : str, default "tanh"
    steps : int, default 200
        Plain SGD steps.
    batch_size : int, default 60
    norms : sequence of {"batch", None}, default ("batch", None)
    eval_every : int, optional
        Also record the test accuracy every this many steps (``Sweep.curves``).
    progress : bool, default False
        A tqdm bar per setting.

    Returns
    -------
    Sweep
        ``accuracy`` has ``"with BN"`` and/or ``"without BN"``, each (seeds, lrs).

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3.3 ("Batch Normalization
    enables higher learning rates").
    """
    return _sweep(lrs, "lr", norms, seeds, depth=depth, width=width, activation=activation, steps=steps,
                  batch_size=batch_size, eval_every=eval_every, progress=progress)


def init_sweep(stds: Sequence[float], seeds: Sequence[int] = range(5), depth: int = 6, width: int = 32,
               activation: str = "tanh", lr: float = 0.3, steps: int = 200, batch_size: int = 60,
               progress: bool = False) -> Sweep:
    """Final test accuracy against the std of every initial weight, with and without BN, over several seeds.

    Parameters
    ----------
    stds : sequence of float
        Weight stds, e.g. 1e-3 ... 1 (the usual 1/sqrt(fan_in) is 0.18 for 32 inputs).
    seeds : sequence of int, default range(5)
    depth, width : int, default 6 and 32
    activation : str, default "tanh"
    lr : float, default 0.3
    steps : int, default 200
    batch_size : int, default 60
    progress : bool, default False

    Returns
    -------
    Sweep

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3.3 (BN makes training more
    resilient to the parameter scale).
    """
    return _sweep(stds, "weight_scale", ("batch", None), seeds, depth=depth, width=width,
                  activation=activation, lr=lr, steps=steps, batch_size=batch_size, progress=progress)


def first_step(std: float, seeds: Sequence[int] = range(5), depth: int = 6, width: int = 32, lr: float = 0.3,
               batch_size: int = 60, activation: str = "tanh") -> dict:
    """What one SGD step does to :func:`init_sweep`'s networks with BN, from weights of std ``std``.

    For each seed, on the first training batch (60 images, in the batch order of seed 0's split):
    the variance of each BN layer's input (the pre-activations, mean over units) and the
    update:data ratio ``std(lr * dW) / std(W)`` of each hidden Linear layer's weights
    (:func:`bn_helpers.diagnostics.update_data_ratio`).

    Returns
    -------
    dict
        ``"pre_var"`` (S, depth) and ``"update_ratio"`` (S, depth).

    Notes
    -----
    The output of a BN layer does not change when the weights before it are scaled by ``a``,
    so their gradient scales as ``1/a`` and the relative update as ``1/a**2``: tiny weights take
    huge relative steps (Ioffe & Szegedy, arXiv:1502.03167, Section 3.3). This holds while the
    pre-activation variance is large against ``eps``; when it is comparable to ``eps`` (std 1e-3
    here), ``eps`` rather than the weights sets the scale, and BN no longer fully normalizes.
    """
    from ..diagnostics import update_data_ratio

    d = load_digits_split(seed=0)
    X, y = d.X_train[:batch_size], d.y_train[:batch_size]
    pre, ratio = [], []
    with one_thread():
        for s in seeds:
            model = nn.mlp([64] + [width] * depth + [10], activation=activation, norm="batch", seed=s,
                           weight_scale=std)
            with nn.record(model) as rec:
                _, dlogits = nn.softmax_cross_entropy(model.forward(X), y)
                model.backward(dlogits)
            pre.append([float(r.input.var(axis=0).mean()) for r in rec.of(nn.BatchNorm1d)])
            linears = [m for m in model.modules if isinstance(m, nn.Linear)][:-1]
            ratio.append([update_data_ratio(m.W, m.W - lr * m.grads()[0]) for m in linears])
    return {"pre_var": np.array(pre), "update_ratio": np.array(ratio)}


def describe(sweep: Sweep, name: str) -> list[str]:
    """One line per swept value: each label's lowest, mean and highest accuracy over the seeds.

    Parameters
    ----------
    sweep : Sweep
    name : str
        What was swept, for the lines (``"lr"``, ``"std"``).

    Returns
    -------
    list of str
        E.g. ``"lr 1: with BN 0.96-0.98 (mean 0.97) | without BN 0.37-0.97 (mean 0.90)"``.
    """
    lines = []
    for j, v in enumerate(sweep.values):
        parts = [f"{label} {a[:, j].min():.2f}-{a[:, j].max():.2f} (mean {a[:, j].mean():.2f})"
                 for label, a in sweep.accuracy.items()]
        lines.append(f"{name} {v:g}: " + " | ".join(parts))
    return lines


def running_var_estimates(batch_size: int = 4, steps: int = 2000, momentum: float = 0.1,
                          seeds: Sequence[int] = range(5)) -> dict[str, NDArray]:
    """Running variance of N(0, 1) batches, updated with the unbiased vs the biased batch variance.

    Parameters
    ----------
    batch_size : int, default 4
        N; the biased variance is on average (N - 1)/N of the truth.
    steps : int, default 2000
    momentum : float, default 0.1
        PyTorch's convention: ``running = (1 - m) * running + m * batch``.
    seeds : sequence of int, default range(5)
        One stream of batches per seed (``numpy.random.default_rng(seed)``).

    Returns
    -------
    dict
        ``"unbiased"`` and ``"biased"``: arrays (seeds, steps) of the running
        variance after each step (starting from 1); both estimates of one seed
        see the same batches.

    References
    ----------
    PyTorch documentation, ``torch.nn.BatchNorm1d`` ("the value stored in the
    moving average of the variance is calculated via the unbiased estimator");
    Ioffe & Szegedy, arXiv:1502.03167, Algorithm 2 (m/(m-1) times the average
    batch variance).
    """
    out = {"unbiased": np.empty((len(seeds), steps)), "biased": np.empty((len(seeds), steps))}
    for i, seed in enumerate(seeds):
        batches = np.random.default_rng(seed).standard_normal((steps, batch_size))
        for label, ddof in (("unbiased", 1), ("biased", 0)):
            run = 1.0
            for t, v in enumerate(batches.var(axis=1, ddof=ddof)):
                run = (1 - momentum) * run + momentum * v
                out[label][i, t] = run
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
