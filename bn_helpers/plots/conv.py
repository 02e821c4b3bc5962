"""Plots of the conv-net sweep (assignment 05) and of batch norm as a regularizer (assignment 06)."""
from __future__ import annotations

from typing import Mapping

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from .style import condition_color
from .variants import plot_batch_size_accuracy

__all__ = ["plot_conv_sweep", "plot_generalization"]


def plot_conv_sweep(ax: Axes, sweep, labels: Mapping | None = None) -> Axes:
    """Test accuracy of the conv net against the batch size, one band per normalization (every seed a dot).

    Parameters
    ----------
    ax : matplotlib Axes
    sweep : bn_helpers.experiments.conv.ConvSweep
    labels : mapping, optional
        Legend text per normalization (default: ``bn_helpers.experiments.conv.LABELS``).

    Returns
    -------
    matplotlib Axes
    """
    from ..experiments.conv import LABELS

    labels = dict(labels or LABELS)
    plot_batch_size_accuracy(ax, sweep.batch_sizes, sweep.accuracy, labels)
    for line in [ln for ln in ax.lines if ln.get_label().startswith("chance")]:
        line.remove()                                      # chance (0.1) is far below this plot's range
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    lows = min(np.min(v) for v in sweep.accuracy.values())
    ax.set_ylim(max(0.0, np.floor(lows * 20) / 20 - 0.05), 1.0)
    ax.set_xlabel("batch size in training (one epoch, the same learning rate at each)")
    ax.set_title("Conv net on 8×8 digits: statistics over N·H·W\n"
                 f"line: mean of {len(sweep.seeds)} seeds · band: lowest to highest seed · dots: single seeds",
                 fontsize=10)
    return ax


def plot_generalization(ax: Axes, runs: Mapping[str, Mapping[str, np.ndarray]]) -> Axes:
    """Training against test accuracy per condition and seed: one arrow per seed, from test up to training.

    Parameters
    ----------
    ax : matplotlib Axes
    runs : mapping of str to mapping
        Condition label to ``{"train_acc": (S,), "test_acc": (S,)}`` (eval mode).

    Returns
    -------
    matplotlib Axes
    """
    for i, (label, r) in enumerate(runs.items()):
        colour = condition_color(label)
        train, test = np.asarray(r["train_acc"]), np.asarray(r["test_acc"])
        xs = i + np.linspace(-0.15, 0.15, len(train))
        ax.vlines(xs, test, train, color=colour, lw=1.5)
        ax.scatter(xs, train, marker="^", color=colour, zorder=3)
        ax.scatter(xs, test, marker="o", facecolor="white", edgecolor=colour, zorder=3)
    ax.set_xticks(range(len(runs)), list(runs), fontsize=8)
    ax.set_ylabel("accuracy (eval mode)")
    ax.set_title("Generalization gap per seed: training (▲) minus test (○)", fontsize=10)
    handles = [Line2D([], [], ls="", marker="^", color="0.4", label="training set"),
               Line2D([], [], ls="", marker="o", mfc="white", mec="0.4", label="test set")]
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return ax
