"""Batch norm as a regularizer, measured on the conv net of :mod:`bn_helpers.convnet` (assignment 06, Section 5).

Ioffe & Szegedy (arXiv:1502.03167, Section 3.4) note that a BN network's
output for one example depends on the rest of its batch, and that this
"was found to be advantageous to the generalization": in their Inception
runs dropout could be removed. Hoffer et al. (arXiv:1705.08741, Section 4)
normalize large batches in small "ghost" batches to keep that noise, and
report better generalization. This module measures, over seeds (float32,
every condition's seeds trained in lockstep, BLAS on one thread):

* :func:`generalization` — training and test accuracy (eval mode) after
  training with and without batch norm, and with ghost batches, at one
  large batch size;
* :func:`jitter` — Karpathy's "jitter": one test image's logits across
  random batches in training mode, for normalization batches of several sizes.
"""
from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from .. import convnet
from ..data import load_digits_split
from ._threads import one_thread

__all__ = ["CONDITIONS", "SETTINGS", "generalization", "jitter"]

#: Condition label -> (norm, ghost batch size or None).
CONDITIONS = {"without BN": (None, None), "with BN": ("batch", None), "with BN, ghost batches": ("batch", 16)}
#: Batch 128, ghost batches of 16, 15 epochs (135 steps): long enough for the training accuracy to pass 0.99;
#: channels (8, 16), a third cheaper than 05's (16, 16).
SETTINGS = {"batch_size": 128, "epochs": 15, "lr": 0.05, "momentum": 0.9, "channels": (8, 16), "head": "flatten"}


def generalization(seeds: Sequence[int] = (0, 1, 2), conditions: Sequence[str] = tuple(CONDITIONS),
                   **settings) -> dict:
    """Train each condition of :data:`CONDITIONS` on the digits' training set; accuracy on training and test sets.

    Every condition sees the same batches of ``batch_size`` (seed s: initial
    weights and batch order), the same epochs and learning rate; only the
    normalization differs. Accuracies are in eval mode (running statistics).

    Parameters
    ----------
    seeds : sequence of int, default (0, 1, 2)
    conditions : sequence of str, default all of :data:`CONDITIONS`
    **settings
        Overrides of :data:`SETTINGS`.

    Returns
    -------
    dict
        Condition -> ``{"train_acc", "test_acc", "gap", "test_loss"}``, each (S,),
        and ``"net"`` (the trained :class:`~bn_helpers.convnet.ConvNet`);
        ``"seconds"``: wall time.

    References
    ----------
    Hoffer, Hubara & Soudry, arXiv:1705.08741, Section 4 (ghost batch norm,
    Algorithm 1) and Table 1; Ioffe & Szegedy, arXiv:1502.03167, Section 3.4.
    """
    cfg = {**SETTINGS, **settings}
    d = load_digits_split(seed=0)
    out: dict = {}
    start = time.perf_counter()
    with one_thread():
        for label in conditions:
            norm, ghost = CONDITIONS[label]
            net = convnet.ConvNet(norm, seeds, channels=cfg["channels"], ghost=ghost, head=cfg["head"])
            net.fit(d.X_train, d.y_train, epochs=cfg["epochs"], batch_size=cfg["batch_size"], lr=cfg["lr"],
                    momentum=cfg["momentum"])
            train, test = net.accuracy(d.X_train, d.y_train), net.accuracy(d.X_test, d.y_test)
            logits = net.forward(d.X_test)[0]
            z = logits - logits.max(axis=2, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(axis=2, keepdims=True))
            loss = -np.take_along_axis(log_p, np.broadcast_to(d.y_test, log_p.shape[:2])[..., None], 2)[..., 0]
            out[label] = {"train_acc": train, "test_acc": test, "gap": train - test,
                          "test_loss": loss.mean(axis=1), "net": net}
    out["seconds"] = time.perf_counter() - start
    return out


def jitter(net: convnet.ConvNet, batch_sizes: Sequence[int] = (16, 128), index: int = 0, trials: int = 20,
           seed: int = 0) -> dict:
    """One test image's logits in training mode across ``trials`` random batches of each size.

    The image is put with ``B - 1`` random companions from the test set and
    normalized with the batch's statistics (running statistics not updated);
    in eval mode its logits would not move at all.

    Parameters
    ----------
    net : ConvNet
        A trained network with batch norm (S seeds); if it was trained with
        ghost batches, here each batch of B is normalized as a whole.
    batch_sizes : sequence of int, default (16, 128)
    index : int, default 0
        The test image.
    trials : int, default 20
    seed : int, default 0
        Of the companions' draw.

    Returns
    -------
    dict
        ``"batch_sizes"``; ``"logits"``: size -> (trials, S, 10);
        ``"spread"``: (len(batch_sizes), S), the std over trials of the
        image's logits, averaged over the 10 classes.

    References
    ----------
    A. Karpathy, *Building makemore Part 3* (2022): BN "jitters" each
    example's activations with its batch, a regularizer; Ioffe & Szegedy,
    arXiv:1502.03167, Section 3.4.
    """
    if "batch" not in net.kinds:
        raise ValueError(f"net must have batch norm; got norm={net.norm!r}")
    d = load_digits_split(seed=0)
    rng = np.random.default_rng(seed)
    ghost, net.ghost = net.ghost, None          # the normalization batch is the whole batch of B here
    others = np.delete(np.arange(len(d.X_test)), index)
    logits, spread = {}, []
    with one_thread():
        for b in batch_sizes:
            rows = []
            for _ in range(trials):
                batch = d.X_test[np.concatenate([[index], rng.choice(others, b - 1, replace=False)])]
                rows.append(net.forward(batch, training=True, update_stats=False)[0][:, 0])
            logits[b] = np.array(rows)
            spread.append(logits[b].std(axis=0).mean(axis=1))
    net.ghost = ghost
    return {"batch_sizes": list(batch_sizes), "logits": logits, "spread": np.array(spread)}
