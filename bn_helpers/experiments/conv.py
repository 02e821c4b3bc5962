"""Normalization in a small conv net on the digits, against the batch size (assignment 05, Section 3.3).

Wu & He (arXiv:1803.08494, Section 4.1, Figure 1) train ResNet-50 on ImageNet
at 32 down to 2 images per GPU: batch norm's error grows as the batch shrinks,
group norm's does not move. There, batch norm's statistics pool N*H*W values
per channel: noisy but continuous, never the +-1 of a fully connected layer at
N = 2 (05, Section 3.1). This module measures the same sweep on
:class:`bn_helpers.convnet.ConvNet` (8x8 digits; the seeds of one setting
trained in lockstep, float32, BLAS on one thread):

* :func:`conv_sweep` — eval-mode test accuracy of each normalization at each
  batch size, every seed; for batch norm also the accuracy with batch
  statistics at the training batch size (what the network was trained with).
* :func:`xhat_near_one` — the share of the normalized values of the first
  batch-norm layer that sit within 0.01 of +-1, in training batches of B.
"""
from __future__ import annotations

import time
from typing import NamedTuple, Sequence

import numpy as np
from numpy.typing import NDArray

from .. import convnet
from ..data import load_digits_split
from ._threads import one_thread

__all__ = ["LABELS", "SETTINGS", "ConvSweep", "conv_sweep", "format_conv_sweep", "xhat_near_one"]

#: Legend labels (keys of ``bn_helpers.plots.style``'s colours).
LABELS = {"batch": "batch norm", "group": "group norm", "layer": "layer norm", "instance": "instance norm",
          None: "without BN"}
#: The sweep's settings: the notebook and the tests use the same.
#: One epoch at every batch size (small batches take more steps), the same learning rate, SGD with momentum
#: 0.9; the 4x4 maps are flattened into the last layer: with global average pooling this net reaches only
#: 0.5-0.8 test accuracy in one epoch (measured), too little to compare normalizations.
SETTINGS = {"channels": (16, 16), "epochs": 1, "steps": None, "lr": 0.02, "scale_lr": False, "momentum": 0.9,
            "G": 4, "head": "flatten"}


class ConvSweep(NamedTuple):
    """Test accuracy of the conv net against the batch size, every seed.

    Attributes
    ----------
    batch_sizes : list of int
    seeds : list of int
    accuracy : dict of str to ndarray, shape (len(batch_sizes), len(seeds))
        Normalization to the test accuracy in eval mode.
    batch_stats : ndarray, shape (len(batch_sizes), len(seeds))
        Batch norm's test accuracy with batch statistics over consecutive
        test batches of the training batch size (training mode).
    nets : dict of int to ConvNet
        The trained networks by batch size: one stack, the seeds of each
        normalization in the order of ``accuracy``.
    seconds : float
        Wall time of the whole sweep.
    """

    batch_sizes: list
    seeds: list
    accuracy: dict
    batch_stats: NDArray
    nets: dict
    seconds: float


def conv_sweep(batch_sizes: Sequence[int] = (2, 4, 8, 16, 32), norms: Sequence[str] = convnet.NORMS,
               seeds: Sequence[int] = (0, 1, 2), **settings) -> ConvSweep:
    """Train :class:`~bn_helpers.convnet.ConvNet` for each normalization and batch size; eval-mode test accuracy.

    Every run has the same number of epochs and, by default, the same
    learning rate (with ``scale_lr=True`` it follows the linear scaling rule,
    ``lr * B / 16``, as Wu & He do: 0.1 * N / 32, Goyal et al.,
    arXiv:1706.02677, Section 2.1). All normalizations and seeds of one batch
    size are trained in one lockstep; seed s sets the initial weights and the
    batch order.

    Parameters
    ----------
    batch_sizes : sequence of int, default (2, 4, 8, 16, 32)
    norms : sequence of str, default all of :data:`bn_helpers.convnet.NORMS`
    seeds : sequence of int, default (0, 1, 2)
    **settings
        Overrides of :data:`SETTINGS` (``channels``, ``epochs`` or ``steps``, ``lr``,
        ``scale_lr``, ``momentum``, ``G``, ``head``).

    Returns
    -------
    ConvSweep

    References
    ----------
    Wu & He, arXiv:1803.08494, Section 4.1, Figure 1 (ImageNet, 32 to 2 images
    per GPU: BN's error 23.6% to 34.7%, GN's 24.1% throughout).
    """
    cfg = {**SETTINGS, **settings}
    d = load_digits_split(seed=0)
    S = len(seeds)
    acc = {k: np.zeros((len(batch_sizes), S)) for k in norms}
    batch_stats = np.full((len(batch_sizes), S), np.nan)
    nets = {}
    start = time.perf_counter()
    with one_thread():
        for i, b in enumerate(batch_sizes):      # every norm and seed of one batch size in one lockstep
            net = convnet.ConvNet([k for k in norms for _ in seeds], list(seeds) * len(norms),
                                  channels=cfg["channels"], G=cfg["G"], head=cfg["head"])
            lr = cfg["lr"] * b / 16 if cfg["scale_lr"] else cfg["lr"]
            net.fit(d.X_train, d.y_train, steps=cfg["steps"], epochs=cfg["epochs"], batch_size=b, lr=lr,
                    momentum=cfg["momentum"])
            a = net.accuracy(d.X_test, d.y_test)
            for j, k in enumerate(norms):
                acc[k][i] = a[j * S:(j + 1) * S]
            if "batch" in norms:
                j = list(norms).index("batch")
                batch_stats[i] = net.accuracy(d.X_test, d.y_test, training=True, batch_size=b)[j * S:(j + 1) * S]
            nets[b] = net
    return ConvSweep(list(batch_sizes), list(seeds), acc, batch_stats, nets, time.perf_counter() - start)


def format_conv_sweep(sweep: ConvSweep) -> str:
    """The sweep as a table: one row per normalization, "mean [lowest, highest]" over the seeds at each batch size."""
    rows = [(LABELS[k], v) for k, v in sweep.accuracy.items()]
    if "batch" in sweep.accuracy:
        rows.insert(1, ("batch norm, batch statistics", sweep.batch_stats))
    width = max(len(name) for name, _ in rows)
    head = f"{'batch size':>{width}} | " + " | ".join(f"{b:^18}" for b in sweep.batch_sizes)
    lines = [f"test accuracy, {len(sweep.seeds)} seeds: mean [lowest, highest]", head, "-" * len(head)]
    for name, values in rows:
        cells = (f"{v.mean():.3f} [{v.min():.2f}, {v.max():.2f}]" for v in np.asarray(values))
        lines.append(f"{name:>{width}} | " + " | ".join(f"{c:^18}" for c in cells))
    return "\n".join(lines)


def xhat_near_one(batch_size: int = 2, seeds: Sequence[int] = (0, 1, 2), batches: int = 20, tol: float = 0.01,
                  sample_seed: int = 0) -> dict:
    """Share of first-layer batch-norm values with ``| |x_hat| - 1 | < tol``, in random training batches of B.

    In a fully connected layer at N = 2 every ``x_hat`` is +-1 (share 1.0);
    in a convolutional layer the statistics of a channel pool N*H*W values
    (2 * 64 = 128 here), and ``x_hat`` is spread out. The network is an
    untrained :class:`~bn_helpers.convnet.ConvNet` with batch norm (the share
    is a property of the statistics, not of training).

    Returns
    -------
    dict
        ``"conv"``: (S,) the share per seed; ``"values_pooled"``: how many
        values one channel's statistics pool (``batch_size * 64``).
    """
    d = load_digits_split(seed=0)
    rng = np.random.default_rng(sample_seed)
    net = convnet.ConvNet("batch", seeds, channels=SETTINGS["channels"], head=SETTINGS["head"], dtype=np.float64)
    near = np.zeros(len(seeds))
    c1 = SETTINGS["channels"][0]
    for _ in range(batches):
        X = d.X_train[rng.choice(len(d.X_train), batch_size, replace=False)]
        _, caches = net.forward(X, training=True, update_stats=False)
        x_hat = caches["norm1"][0][0].x_hat.reshape(batch_size, len(seeds), c1, -1)
        near += (np.abs(np.abs(x_hat) - 1) < tol).mean(axis=(0, 2, 3))
    return {"conv": near / batches, "values_pooled": batch_size * 64}
