"""Experiments of assignment 05_variants: small batches hurt batch norm, not layer or group norm.

Seeded, small, on the digits split of :func:`bn_helpers.data.load_digits_split`
with the 3x100 ReLU network of :mod:`bn_helpers.nn`, over several seeds (a
claim about training is a claim about a distribution over seeds: at batch
size 2 another CPU's rounding moves one seed's accuracy by tenths). BLAS runs
on one thread.

* :class:`BatchRenorm1d` — a batch renormalization layer (Ioffe 2017) for :func:`bn_helpers.nn.mlp`-style nets.
* :class:`SeedStack` — the same net for several seeds, trained together as ``nn.fit`` trains each.
* :func:`batch_size_sweep` — test accuracy against the batch size, per normalization and seed;
  :func:`format_sweep` prints it as mean [lowest, highest].
* :func:`small_batch_run` — one network, one seed, through :func:`bn_helpers.nn.fit`.
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
from ._lockstep import Lockstep
from ._threads import one_thread

__all__ = ["BatchRenorm1d", "SeedStack", "SizeSweep", "KINDS", "build", "small_batch_run", "batch_size_sweep",
           "format_sweep", "recalibrate",
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


# ---------------------------------------------------------------------------
# Several seeds trained at once
# ---------------------------------------------------------------------------

KINDS = ("batch", "layer", "group", "renorm")


class SeedStack(Lockstep):
    """The 3x100 ReLU net of :func:`build` for several seeds, trained as one: a :class:`~bn_helpers.experiments._lockstep.Lockstep`.

    Seed ``s`` starts from ``build(norm, seed=s)`` and sees the batches
    ``nn.fit(..., seed=s)`` would give it; one step runs all seeds with one
    NumPy call per operation, which at batches of two is several times
    cheaper than ``S`` separate :func:`bn_helpers.nn.fit` runs. Up to
    rounding (which a long run at batch size 2 amplifies, as any other
    CPU would) each seed's network is the one :func:`bn_helpers.nn.fit` trains:
    ``tests/test_experiments_05.py`` checks it on short runs.

    Parameters
    ----------
    norm : {"batch", "layer", "group", "renorm"}
        The normalization before each ReLU; ``"group"`` has G = 4, ``"renorm"``
        is batch renormalization with ``r_max``, ``d_max`` from the first step.
    seeds : sequence of int
    r_max, d_max : float, default 3.0 and 5.0
    momentum : float, default 0.1
        Of the running statistics (PyTorch's convention; batch and renorm only).
    eps : float, default 1e-5

    Raises
    ------
    ValueError
        If ``norm`` is not one of the four.

    Notes
    -----
    At batch size 2 two runs that differ in the last bit (another BLAS kernel,
    another summation order) part ways within tens of steps: the per-seed
    accuracies are samples, and only claims about the seeds as a group carry
    over to another machine.

    References
    ----------
    Ioffe, arXiv:1702.03275, Algorithm 1 (batch renorm); Wu & He,
    arXiv:1803.08494, Section 4.1 (several batch sizes, same epochs).
    """

    def __init__(self, norm: str, seeds: Sequence[int], r_max: float = 3.0, d_max: float = 5.0,
                 momentum: float = 0.1, eps: float = 1e-5) -> None:
        if norm not in KINDS:
            raise ValueError(f"norm must be one of {KINDS}; got {norm!r}")
        self.norm, self.r_max, self.d_max = norm, r_max, d_max
        models = [build(norm, seed=s, r_max=r_max, d_max=d_max) for s in seeds]
        for model in models:
            for m in model:
                if isinstance(m, nn.BatchNorm1d):
                    m.eps, m.momentum = eps, momentum
                elif "gamma" in m._params:
                    m.eps = eps
        super().__init__(models, seeds)

    def fit(self, X, y, batch_size: int, *, epochs: int | None = None, steps: int | None = None,
            lr: float = 0.1) -> "SeedStack":
        """Train every seed as :func:`bn_helpers.nn.fit` would (same batches, plain SGD); returns ``self``."""
        super().fit(X, y, steps=steps, epochs=epochs, batch_size=batch_size, lr=lr)
        return self

    def model(self, j: int) -> nn.Sequential:
        """Seed number ``j``'s network as a :mod:`bn_helpers.nn` model (a copy, in evaluation mode)."""
        return super().model(j).eval()


class SizeSweep(NamedTuple):
    """Test accuracy against the batch size, every seed.

    Attributes
    ----------
    batch_sizes : list of int
    seeds : list of int
    accuracy : dict of str to ndarray, shape (len(batch_sizes), len(seeds))
        Normalization ("batch", "layer", ...) to the test accuracy (eval mode)
        of each seed at each batch size.
    recalibrated : ndarray, shape (len(batch_sizes), len(seeds))
        Batch norm's accuracy after its running statistics are recomputed on
        the whole training set (:meth:`SeedStack.recalibrated`).
    stacks : dict of (str, int) to SeedStack
        The trained networks, by normalization and batch size.
    """

    batch_sizes: list
    seeds: list
    accuracy: dict
    recalibrated: NDArray
    stacks: dict


def batch_size_sweep(batch_sizes: Sequence[int] = (2, 4, 8, 16, 32), kinds: Sequence[str] = KINDS,
                     seeds: Sequence[int] = (0, 1, 2, 3, 4), epochs: int = 1, lr: float = 0.1) -> SizeSweep:
    """Final test accuracy (eval mode) of each normalization at each batch size, for every seed.

    The 3x100 ReLU net, the same number of epochs and learning rate at every
    batch size, trained with :class:`SeedStack`; batch norm is also measured
    after recomputing its running statistics on the training set.

    Parameters
    ----------
    batch_sizes : sequence of int, default (2, 4, 8, 16, 32)
    kinds : sequence of str, default all of :data:`KINDS`
    seeds : sequence of int, default 0..4
        Each seed sets the initial weights and the batch order of one run.
    epochs : int, default 1
    lr : float, default 0.1
        The same at every batch size (not scaled with it, unlike Wu & He).

    Returns
    -------
    SizeSweep

    References
    ----------
    Wu & He, arXiv:1803.08494, Section 4.1, Figure 1 and Table 2 (ImageNet:
    BN's error grows as the batch shrinks, 34.7% at 2 images per GPU; GN's
    stays at 24.1%).
    """
    d = load_digits_split(seed=0)
    acc = {k: np.zeros((len(batch_sizes), len(seeds))) for k in kinds}
    recal = np.full((len(batch_sizes), len(seeds)), np.nan)
    stacks: dict = {}
    for k in kinds:
        for i, b in enumerate(batch_sizes):
            stack = SeedStack(k, seeds).fit(d.X_train, d.y_train, b, epochs=epochs, lr=lr)
            acc[k][i] = stack.accuracy(d.X_test, d.y_test)
            stacks[k, b] = stack
            if k == "batch":
                recal[i] = stack.recalibrated(d.X_train).accuracy(d.X_test, d.y_test)
    return SizeSweep(list(batch_sizes), list(seeds), acc, recal, stacks)


def format_sweep(sweep: SizeSweep) -> str:
    """The sweep as a table: one row per normalization, "mean [lowest, highest]" over the seeds at each batch size.

    Parameters
    ----------
    sweep : SizeSweep

    Returns
    -------
    str
        A header line, then one row per normalization; batch norm with its
        running statistics recomputed on the training set is the row
        "batch norm, stats recomputed".
    """
    rows = [(LABELS.get(k, k), v) for k, v in sweep.accuracy.items()]
    if "batch" in sweep.accuracy:
        rows.insert(1, (LABELS["batch"] + ", stats recomputed", sweep.recalibrated))
    width = max(len(name) for name, _ in rows)
    head = f"{'batch size':>{width}} | " + " | ".join(f"{b:^18}" for b in sweep.batch_sizes)
    lines = [f"test accuracy, {len(sweep.seeds)} seeds: mean [lowest, highest]", head, "-" * len(head)]
    for name, values in rows:
        cells = (f"{v.mean():.3f} [{v.min():.2f}, {v.max():.2f}]" for v in np.asarray(values))
        lines.append(f"{name:>{width}} | " + " | ".join(f"{c:^18}" for c in cells))
    return "\n".join(lines)


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
