"""What a practitioner looks at, and how batch norm couples the examples of a batch (assignment 04).

Seeded, small, on the digits split of :func:`bn_helpers.data.load_digits_split`,
with deep tanh networks trained several seeds at once by
:class:`bn_helpers.experiments.why_normalize.StackedMLP` (float32; BLAS on one
thread). A claim is about the seeds as a group: every function returns one
value per seed.

* :func:`diagnose` — three conditions (with BN, without BN, Kaiming init without
  BN) from the same N(0, 1) weights: per-layer activations and their gradients
  at initialization (:func:`bn_helpers.nn.record` hooks on each seed's model),
  saturation, and the update:data ratio of each layer over training
  (:func:`bn_helpers.diagnostics.update_data_ratio`).
* :func:`batch_coupling` — one test image in different batches: its logits in
  training mode and in evaluation mode.
* :func:`train_test_gap` — accuracy in evaluation mode minus accuracy with batch
  statistics over batches (or ghost batches) of size B.
* :func:`precise_bn` — evaluation with the running (EMA) statistics against
  statistics recomputed after training, for two momenta.
* :class:`FrozenBNMLP` — :class:`StackedMLP` with batch norm that can be frozen, and a second running average.
* :func:`finetune_small_batches` — fine-tuning at batch size 2 with batch norm in
  training mode against frozen batch norm.
"""
from __future__ import annotations

import copy
from typing import Sequence

import numpy as np
from numpy.typing import NDArray

from .. import nn
from ..data import load_digits_split
from ..diagnostics import saturation_fraction, update_data_ratio
from ._threads import one_thread
from .why_normalize import StackedMLP

__all__ = ["CONDITIONS", "SIZES", "make_net", "diagnose", "batch_coupling", "train_test_gap", "precise_bn",
           "FrozenBNMLP", "finetune_small_batches"]

#: Legend labels (``bn_helpers.plots.style.condition_color`` keys) -> (norm, initial weight std rule).
CONDITIONS = {"without BN": (None, "N(0,1)"), "Kaiming init, no BN": (None, "kaiming"),
              "with BN": ("batch", "N(0,1)"), "with BN, Kaiming init": ("batch", "kaiming")}
#: 6 hidden layers of 100 tanh units, digits in, 10 classes out.
SIZES = (64, 100, 100, 100, 100, 100, 100, 10)
KAIMING_GAIN = 5.0 / 3.0  # tanh's gain (PyTorch, torch.nn.init.calculate_gain)


def make_net(condition: str, seeds: Sequence[int], sizes: Sequence[int] = SIZES, momentum: float = 0.1,
             net_class: type = StackedMLP) -> StackedMLP:
    """A :class:`StackedMLP` of tanh layers for ``condition`` (a key of :data:`CONDITIONS`).

    The weights of seed ``s`` are those of ``nn.mlp(sizes, seed=s)`` rescaled to
    the condition's std: 1 ("N(0,1)", every layer) or ``(5/3) / sqrt(fan_in)``
    ("kaiming", He et al., arXiv:1502.01852, Section 2.2, with tanh's gain).
    """
    if condition not in CONDITIONS:
        raise ValueError(f"condition must be one of {list(CONDITIONS)}; got {condition!r}")
    norm, rule = CONDITIONS[condition]
    net = net_class(sizes, "tanh", norm, seeds, momentum=momentum, dtype=np.float32)
    for i, W in enumerate(net.W):
        fan_in = W.shape[1]
        std = KAIMING_GAIN / np.sqrt(fan_in) if rule == "kaiming" else 1.0
        net.W[i][...] = W * (np.sqrt(fan_in) * std)  # nn.mlp draws N(0, 1/fan_in); float32 as the net
    return net


def diagnose(seeds: Sequence[int] = range(5), steps: int = 100, lr: float = 0.1, every: int = 5,
             batch_size: int = 60, n_probe: int = 200, slow_momentum: float = 0.01) -> dict:
    """Train the four conditions of :data:`CONDITIONS` and record what a practitioner plots.

    The four differ in one thing at a time: N(0, 1) or Kaiming weights, with or
    without batch norm (Karpathy's standard set-up is batch norm *and* Kaiming).

    Returns
    -------
    dict of condition -> dict with
        ``"act"``: list per hidden layer of the tanh outputs at initialization on
        ``n_probe`` training images, seed 0, flat (for histograms);
        ``"grad"``: the same for the gradient of the loss with respect to them;
        ``"saturation"``: (S, L) fraction of tanh outputs with |a| > 0.97 at
        initialization; ``"grad_std"``: (S, L) std of those gradients;
        ``"ratio_steps"``: steps of the update:data ratios; ``"log_ratio"``:
        (T, L, S) log10 of ``update_data_ratio`` of each hidden layer's weights;
        ``"acc"``: (S,) test accuracy (eval mode) after ``steps``;
        ``"net"``: the trained :class:`FrozenBNMLP` (not frozen); with BN it also
        holds ``slow_stats``, running statistics of momentum ``slow_momentum``
        over the same batches (for :func:`precise_bn`).

    References
    ----------
    Karpathy, "Building makemore Part 3: Activations & Gradients, BatchNorm"
    (2022): activation and gradient histograms per layer, saturation above
    0.97, and the update:data ratio over training (about 1e-3 as a rule of thumb).
    """
    d = load_digits_split(seed=0)
    X0, y0 = d.X_train[:n_probe], d.y_train[:n_probe]
    out = {}
    for label in CONDITIONS:
        net = make_net(label, seeds, net_class=FrozenBNMLP)
        sat, gstd, act, grad = [], [], None, None
        with one_thread():
            for j in range(len(net.seeds)):
                model = net.model(j)
                with nn.record(model) as rec:
                    _, dlogits = nn.softmax_cross_entropy(model.forward(X0), y0)
                    model.backward(dlogits)
                tanhs = rec.of(nn.Tanh)
                sat.append([saturation_fraction(r.output) for r in tanhs])
                gstd.append([float(r.grad_output.std()) for r in tanhs])
                if j == 0:
                    act = [r.output.ravel() for r in tanhs]
                    grad = [r.grad_output.ravel() for r in tanhs]
        ratios, ratio_steps = [], []
        hidden = net.W[:-1]                                   # the hidden layers' weights (S, D_in, D_out)

        def probe(t, xb, yb, grads, hidden=hidden, ratios=ratios, ratio_steps=ratio_steps, net=net):
            if t % every:
                return
            by_id = {id(p): g for p, g in zip(net.params(), grads)}
            ratios.append([[update_data_ratio(W[s], W[s] - lr * by_id[id(W)][s]) for s in range(len(net.seeds))]
                           for W in hidden])
            ratio_steps.append(t)

        with np.errstate(over="ignore"):
            net.fit(d.X_train, d.y_train, steps=steps, batch_size=batch_size, lr=lr, probe=probe,
                    slow_momentum=slow_momentum if net.norm == "batch" else None)
        acc, _ = net.evaluate(d.X_test, d.y_test)
        out[label] = {"act": act, "grad": grad, "saturation": np.array(sat), "grad_std": np.array(gstd),
                      "ratio_steps": np.array(ratio_steps), "log_ratio": np.log10(np.array(ratios)),
                      "acc": np.asarray(acc, dtype=float), "net": net}
    return out


def _logits(net: StackedMLP, X: NDArray, training: bool, ghost: int | None = None) -> NDArray:
    """Logits (S, n, K) with batch statistics over consecutive chunks of ``ghost`` rows of X (training), or running."""
    X = np.asarray(X, dtype=net.dtype)
    with one_thread():
        if not training:
            return net.forward(X, training=False)[0]
        n = len(X) - len(X) % ghost
        return np.concatenate([net.forward(X[k:k + ghost], training=True, update_stats=False)[0]
                               for k in range(0, n, ghost)], axis=1)


def batch_coupling(net: StackedMLP, X, index: int = 0, batch_size: int = 16, trials: int = 20,
                   seed: int = 0) -> dict:
    """Logits of example ``X[index]`` put in ``trials`` batches with different companions.

    Returns
    -------
    dict
        ``"train"`` and ``"eval"``: (trials, S, K) logits of the example in
        training mode (batch statistics, running statistics not updated) and
        evaluation mode; ``"train_spread"``, ``"eval_spread"``: (S,) the largest
        std over trials of a logit.
    """
    X = np.asarray(X, dtype=net.dtype)
    rng = np.random.default_rng(seed)
    others = np.delete(np.arange(len(X)), index)
    rows = {"train": [], "eval": []}
    with one_thread():
        for _ in range(trials):
            batch = X[np.concatenate([[index], rng.choice(others, batch_size - 1, replace=False)])]
            rows["train"].append(net.forward(batch, training=True, update_stats=False)[0][:, 0])
            rows["eval"].append(net.forward(batch, training=False)[0][:, 0])
    out = {k: np.array(v) for k, v in rows.items()}
    for k in ("train", "eval"):
        out[f"{k}_spread"] = out[k].std(axis=0).max(axis=1)
    return out


def train_test_gap(net: StackedMLP, X, y, batch_sizes: Sequence[int] = (2, 4, 8, 16, 64),
                   ghost_of: int | None = None) -> dict:
    """Accuracy in evaluation mode minus accuracy with batch statistics, against the normalization batch size.

    With ``ghost_of`` = M, batches of M rows are normalized in ghost batches of
    each size B (Hoffer et al., arXiv:1705.08741, Section 4): only B matters.

    Returns
    -------
    dict
        ``"batch_sizes"``; ``"ghost_of"``; ``"eval_acc"`` (S,); ``"train_acc"`` (S, len(batch_sizes));
        ``"gap"`` (S, len(batch_sizes)).
    """
    y = np.asarray(y)
    eval_acc = (_logits(net, X, False).argmax(axis=2) == y).mean(axis=1)
    train = []
    for b in batch_sizes:
        if ghost_of is None:
            logits = _logits(net, X, True, ghost=b)
        else:  # batches of ghost_of rows, each normalized in chunks of b
            n = len(X) - len(X) % ghost_of
            logits = np.concatenate([_logits(net, X[k:k + ghost_of], True, ghost=b) for k in range(0, n, ghost_of)],
                                    axis=1)
        train.append((logits.argmax(axis=2) == y[:logits.shape[1]]).mean(axis=1))
    train = np.array(train).T
    return {"batch_sizes": list(batch_sizes), "ghost_of": ghost_of, "eval_acc": eval_acc, "train_acc": train,
            "gap": eval_acc[:, None] - train}


def precise_bn(net: StackedMLP, batch_size: int = 60) -> dict:
    """Test accuracy with running (EMA) statistics of two momenta and with statistics recomputed after training.

    ``net`` is :func:`diagnose`'s trained "with BN" network: its running
    statistics have momentum ``net.momentum`` (PyTorch's convention), its
    ``slow_stats`` a smaller one (0.01 is Keras' 0.99), both over the same
    batches. "Precise BN" recomputes every layer's statistics with the final
    weights over the training set in batches of ``batch_size``
    (:meth:`StackedMLP.population_stats`), the same for both.

    Returns
    -------
    dict
        ``"ema"``: momentum -> (S,) test accuracies; ``"precise"``: (S,).

    References
    ----------
    Wu & Johnson, arXiv:2105.07576, Section 3 (EMA vs PreciseBN).
    """
    d = load_digits_split(seed=0)
    ema = {net.momentum: np.asarray(net.evaluate(d.X_test, d.y_test)[0], float),
           net.slow_momentum: np.asarray(net.evaluate(d.X_test, d.y_test, stats=net.slow_stats)[0], float)}
    precise = np.asarray(net.evaluate(d.X_test, d.y_test, stats=net.population_stats(d.X_train, batch_size))[0], float)
    return {"ema": ema, "precise": precise}


class FrozenBNMLP(StackedMLP):
    """A :class:`StackedMLP` whose batch norm can be frozen: running statistics in training, not updated.

    With ``frozen = True`` a training step normalizes with the running
    statistics (as evaluation mode does), so each row's output depends on that
    row only, and the backward is the per-feature affine map
    ``dx = dout * gamma / sqrt(running_var + eps)``; gamma and beta still learn.
    Not frozen, it is a :class:`StackedMLP` whose ``fit`` can also keep a
    second, slower running average (``slow_stats``).

    References
    ----------
    Wu & Johnson, arXiv:2105.07576, Section 4 (FrozenBN); PyTorch documentation,
    ``torch.nn.BatchNorm1d`` (``track_running_stats``, evaluation mode).
    """

    _frozen = False

    def fit(self, X, y, *, slow_momentum: float | None = None, callback=None, **kwargs):
        """:meth:`StackedMLP.fit`; with ``slow_momentum``, also keep running statistics of that momentum in ``slow_stats``.

        The running statistics do not change training, so a second average over
        the same batches costs nothing: each step's batch mean and unbiased
        variance are read back from the update of the first one,
        ``batch = (running_new - (1 - m) running_old) / m``.
        """
        if slow_momentum is None:
            return super().fit(X, y, callback=callback, **kwargs)
        m, s = self.momentum, slow_momentum
        old = [[a.copy() for a in self.running_mean], [a.copy() for a in self.running_var]]
        self.slow_stats = ([a.copy() for a in old[0]], [a.copy() for a in old[1]])
        self.slow_momentum = s

        def track(step):
            for k, now in enumerate((self.running_mean, self.running_var)):
                for i, r in enumerate(now):
                    batch = (r - (1 - m) * old[k][i]) / m
                    self.slow_stats[k][i] = (1 - s) * self.slow_stats[k][i] + s * batch
                    old[k][i] = r.copy()
            if callback is not None:
                callback(step)

        return super().fit(X, y, callback=track, **kwargs)

    @property
    def frozen(self) -> bool:
        """Whether batch norm uses its running statistics in training too (and does not update them)."""
        return self._frozen

    @frozen.setter
    def frozen(self, value: bool) -> None:
        if value and self.norm != "batch":
            raise ValueError("only a network with batch norm (norm='batch') can be frozen")
        self._frozen = bool(value)


def finetune_small_batches(net: StackedMLP, steps: int = 100, batch_size: int = 2, lr: float = 0.02) -> dict:
    """Fine-tune a trained "with BN" ``net`` (left unchanged) at ``batch_size``, with BN in training mode or frozen.

    Returns
    -------
    dict
        ``"before"``, ``"train_mode"``, ``"frozen"``: (S,) test accuracies (eval
        mode) before and after fine-tuning on the training set (a new batch
        order per seed).

    References
    ----------
    Wu & Johnson, arXiv:2105.07576, Section 4 (FrozenBN: population
    statistics in training, for small normalization batches).
    """
    d = load_digits_split(seed=0)
    out = {"before": np.asarray(net.evaluate(d.X_test, d.y_test)[0], float)}
    for name, frozen in (("train_mode", False), ("frozen", True)):
        tuned = FrozenBNMLP.__new__(FrozenBNMLP)
        tuned.__dict__.update(copy.deepcopy(net.__dict__))
        tuned.frozen = frozen
        tuned.seeds = [s + 1000 for s in net.seeds]            # a new batch order for fine-tuning
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            tuned.fit(d.X_train, d.y_train, steps=steps, batch_size=batch_size, lr=lr)
        out[name] = np.asarray(tuned.evaluate(d.X_test, d.y_test)[0], float)
    return out
