"""Pictures of assignment 05_variants: which values each normalization averages, and small batches.

* :func:`plot_norm_axes` — the N x C x (H*W) block four times, one set of values that
  batch, layer, instance and group norm average together shaded (Wu & He, Figure 2).
* :func:`plot_batch_size_accuracy` — test accuracy against the batch size, several seeds per normalization.
* :func:`plot_xhat_histograms` — the normalized values of a BN layer in training vs at evaluation.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from .style import condition_color

__all__ = ["NORM_SETS", "norm_set", "plot_norm_axes", "plot_batch_size_accuracy", "plot_xhat_histograms"]

#: Title and the axes averaged over, per method, for a (N, C, H*W) block.
NORM_SETS = {
    "batch": ("Batch norm\nper channel,\nover (N, H, W)", "spatial_batchnorm_forward"),
    "layer": ("Layer norm\nper example,\nover (C, H, W)", "layernorm_forward"),
    "instance": ("Instance norm\nper example and channel,\nover (H, W)", "instancenorm_forward"),
    "group": ("Group norm (G = 2)\nper example and group,\nover (C/G, H, W)", "groupnorm_forward"),
}

_SHADE, _REST = "#1f77b4", "#d9d9d9"


def norm_set(kind: str, N: int = 4, C: int = 6, HW: int = 5, G: int = 2) -> np.ndarray:
    """Boolean mask (N, C, HW): the values averaged together with entry (0, 0, :) by ``kind``."""
    mask = np.zeros((N, C, HW), dtype=bool)
    if kind == "batch":
        mask[:, 0, :] = True
    elif kind == "layer":
        mask[0, :, :] = True
    elif kind == "instance":
        mask[0, 0, :] = True
    elif kind == "group":
        mask[0, : C // G, :] = True
    else:
        raise ValueError(f"kind must be one of {list(NORM_SETS)}; got {kind!r}")
    return mask


def plot_norm_axes(axes=None, N: int = 4, C: int = 6, HW: int = 5, G: int = 2):
    """Draw the (N, C, H*W) block once per method, the values averaged together shaded blue.

    Parameters
    ----------
    axes : sequence of 4 matplotlib 3-D axes, optional
        Created (a 1 x 4 figure) when omitted.
    N, C, HW, G : int
        Sizes of the drawn block; G groups for group norm.

    Returns
    -------
    list of Axes3D

    References
    ----------
    Wu & He, "Group Normalization", arXiv:1803.08494, Figure 2.
    """
    if axes is None:
        fig = plt.figure(figsize=(14, 4.2))
        axes = [fig.add_subplot(1, 4, i + 1, projection="3d") for i in range(4)]
    for ax, (kind, (title, _)) in zip(axes, NORM_SETS.items()):
        mask = norm_set(kind, N, C, HW, G)
        # voxel grid indexed (x, y, z) = (C, H*W, N), batch index 0 on top
        filled = np.ones((C, HW, N), dtype=bool)
        colors = np.empty((C, HW, N), dtype=object)
        shade = mask.transpose(1, 2, 0)[:, :, ::-1]
        colors[shade] = _SHADE
        colors[~shade] = _REST + "55"
        ax.voxels(filled, facecolors=colors, edgecolor="#555555", linewidth=0.3)
        ax.set_xlabel("C (channel)", labelpad=-8)
        ax.set_ylabel("H·W (position)", labelpad=-8)
        ax.set_zlabel("N (example)", labelpad=-10)
        ax.set_xticks([]), ax.set_yticks([]), ax.set_zticks([])
        ax.set_box_aspect((C, HW, N))
        ax.view_init(elev=22, azim=-58)
        ax.set_title(title, fontsize=10)
    axes[0].figure.legend(handles=[Patch(color=_SHADE, label="one set of values that share a mean and variance"),
                                   Patch(color=_REST, label="other values")],
                          loc="lower center", ncol=2, frameon=False)
    return list(axes)


def plot_batch_size_accuracy(ax, batch_sizes: Sequence[int], accuracy: dict, labels: dict | None = None,
                             recalibrated=None):
    """Test accuracy against the batch size, several seeds: mean line, band from the lowest to the highest seed.

    Every seed is also drawn as a dot, so that a gap between two bands reads
    as "every seed of one is below every seed of the other". Colours are the
    course's (:func:`bn_helpers.plots.style.condition_color`): batch norm
    blue, layer norm green, group norm olive, batch renorm cyan.

    Parameters
    ----------
    ax : matplotlib Axes
    batch_sizes : sequence of int
        The x values (drawn on a log2 axis).
    accuracy : dict of str to array_like, shape (len(batch_sizes), S)
        Key ("batch", "layer", ...) to the accuracy of each of S seeds at each
        batch size; a 1-D list is one seed.
    labels : dict of str to str, optional
        Legend text per key (default: the key).
    recalibrated : array_like, shape (len(batch_sizes), S), optional
        Batch norm after recomputing its running statistics on the training
        set: drawn dashed in batch norm's colour, with its dots hollow.

    Returns
    -------
    matplotlib Axes
    """
    labels = labels or {}
    x = np.asarray(batch_sizes, dtype=float)
    series = [(labels.get(k, k), np.asarray(v, dtype=float).reshape(len(x), -1), "-") for k, v in accuracy.items()]
    if recalibrated is not None:
        name = labels.get("batch", "batch norm") + ", running stats recomputed"
        series.insert(1, (name, np.asarray(recalibrated, dtype=float).reshape(len(x), -1), "--"))
    offsets = np.linspace(-0.12, 0.12, len(series))              # spread the dots of one batch size apart
    for (label, values, style), dx in zip(series, offsets):
        colour = condition_color(label)
        seeds = values.shape[1]
        if style == "-":
            ax.fill_between(x, values.min(axis=1), values.max(axis=1), color=colour, alpha=0.18, lw=0)
        ax.plot(x, values.mean(axis=1), style, color=colour, lw=1.8, label=label)
        xs = np.repeat(x * 2.0 ** dx, seeds).reshape(len(x), seeds)
        ax.scatter(xs, values, s=12, zorder=3, color=colour if style == "-" else "white", edgecolors=colour,
                   linewidths=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xticks(x, [str(int(b)) for b in x])
    ax.minorticks_off()
    ax.set_xlabel("batch size in training (same number of epochs and learning rate at each)")
    ax.set_ylabel("test accuracy (eval mode)")
    ax.set_ylim(0, 1.02)
    ax.axhline(0.1, color="gray", lw=0.8, ls=":", label="chance (10 classes)")
    ax.set_title("Small batches hurt batch norm, not layer or group norm\n"
                 f"line: mean of {seeds} seeds · band: lowest to highest seed · dots: single seeds", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return ax


def plot_xhat_histograms(ax, train, evals, batch_size: int = 2):
    """Histograms of a BN layer's x_hat: on training batches of ``batch_size`` vs in eval mode.

    Returns
    -------
    matplotlib Axes
    """
    bins = np.linspace(-4, 4, 81)
    ax.hist(np.clip(train, -4, 4), bins=bins, density=True, color="0.35", alpha=0.7,
            label=f"training, batches of {batch_size}")
    ax.hist(np.clip(evals, -4, 4), bins=bins, density=True, histtype="step", lw=1.6,
            color=condition_color("with BN"), label="eval mode (running statistics)")
    ax.set_xlabel("x_hat of the first BN layer (clipped to [-4, 4])")
    ax.set_ylabel("density")
    ax.set_title("What the network saw in training vs at test time")
    ax.legend(fontsize=8)
    return ax
