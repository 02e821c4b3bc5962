"""Plots of assignment 01_why_normalize: loss contours, the layer flow, Ioffe's percentile drift.

Every helper draws on axes it is given and returns them, labelled and titled.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, MaxNLocator
from numpy.typing import ArrayLike

from .._validate import as_float_array

__all__ = ["plot_loss_contours", "plot_layer_flow", "plot_percentiles"]


def plot_loss_contours(ax: Axes, problem, path: ArrayLike, *, title: str, span: float = 1.0,
                       xlabel: str = "weight of feature 1", ylabel: str = "weight of feature 2",
                       levels: int = 12) -> Axes:
    """Contours of a two-weight quadratic loss and a gradient-descent path on them.

    The window is centred on the minimum ``w*`` and reaches ``span`` times
    ``|w* - path[0]|`` in each weight, so that the start of the path shows.
    Contour levels are spaced geometrically between the minimum and the
    loss at the start.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    problem : bn_helpers.experiments.why_normalize.Regression
    path : array_like, shape (K, 2)
        Iterates of gradient descent, from :func:`~bn_helpers.experiments.why_normalize.gd_path`.
    title, xlabel, ylabel : str
    span : float, default 1.0
    levels : int, default 12

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``path`` is not of shape (K, 2).

    References
    ----------
    LeCun, Bottou, Orr, Mueller, "Efficient BackProp" (1998), Figure 4.
    """
    from ..experiments.why_normalize import loss_grid

    path = as_float_array(path, "path", (2,))
    if path.shape[1] != 2:
        raise ValueError(f"path must have shape (K, 2); got {path.shape}")
    w_star = problem.w_star
    reach = span * np.abs(path[0] - w_star) * 1.15 + 1e-12
    w1 = np.linspace(w_star[0] - reach[0], w_star[0] + reach[0], 240)
    w2 = np.linspace(w_star[1] - reach[1], w_star[1] + reach[1], 240)
    grid = loss_grid(problem, w1, w2)
    low = float(problem.loss(w_star))
    high = float(problem.loss(path[0]))
    lv = low + (high - low) * np.geomspace(1e-4, 1.0, levels)
    ax.contour(w1, w2, grid, levels=lv, cmap="viridis", linewidths=0.8)
    ax.plot(path[:, 0], path[:, 1], "-o", color="tab:red", markersize=2.5, linewidth=1.0,
            label=f"gradient descent, {len(path) - 1} steps")
    ax.plot(*w_star, marker="*", color="black", markersize=12, linestyle="none", label="minimum w*")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, xlim=(w1[0], w1[-1]), ylim=(w2[0], w2[-1]))
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_layer_flow(axes_pair: Sequence[Axes], curves: Mapping[str, Sequence[tuple[float, float]]], *,
                    what: str = "activation") -> tuple[Axes, Axes]:
    """Mean and standard deviation of each layer's activations, one line per network.

    Parameters
    ----------
    axes_pair : pair of matplotlib.axes.Axes
        The first gets the means, the second the standard deviations (log scale).
    curves : mapping of str to list of (mean, std)
        E.g. ``{"without BN": layer_stats(...), "with BN": ...}``; layers are
        numbered from 1.
    what : str, default "activation"
        Named in the axis labels.

    Returns
    -------
    (ax_mean, ax_std) : tuple of matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``curves`` is empty or a curve has no layers.

    References
    ----------
    Seed 000, "Multi-Layer Flow"; Ioffe & Szegedy, arXiv:1502.03167, Section 2.
    """
    ax_mean, ax_std = axes_pair
    if not curves:
        raise ValueError("curves must hold at least one named list of (mean, std)")
    markers = iter("osD^v")
    lo, hi = -1.0, 1.0
    for label, stats in curves.items():
        stats = np.asarray(stats, dtype=np.float64).reshape(-1, 2)
        if not len(stats):
            raise ValueError(f"curves[{label!r}] has no layers")
        layers = np.arange(1, len(stats) + 1)
        m = next(markers, "o")
        ax_mean.plot(layers, stats[:, 0], marker=m, label=label)
        ax_std.plot(layers, stats[:, 1], marker=m, label=label)
        lo, hi = min(lo, 1.1 * stats[:, 0].min()), max(hi, 1.1 * stats[:, 0].max())
    ax_mean.axhline(0.0, color="0.6", linewidth=0.8, zorder=0)
    ax_mean.set(xlabel="layer", ylabel=f"mean of the {what}s", title=f"Mean of each layer's {what}s")
    ax_std.set(xlabel="layer", ylabel=f"std of the {what}s (log scale)", title=f"Std of each layer's {what}s",
               yscale="log")
    # a mean of 0.001 should look like 0: never zoom in closer than [-1, 1]
    ax_mean.set_ylim(lo, hi)
    if max(-lo, hi) > 20:
        ax_mean.set_yscale("symlog", linthresh=1.0)
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax_std.yaxis.set_major_formatter(plain)
    ax_std.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:.1g}"[0] in "25" else ""))
    for ax in (ax_mean, ax_std):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize="small")
    return ax_mean, ax_std


def plot_percentiles(ax: Axes, step: ArrayLike, percentiles: ArrayLike, *, title: str,
                     q: Sequence[float] = (15, 50, 85), start: int = 0, color: str = "tab:blue") -> Axes:
    """Ioffe & Szegedy's Figure 1(b, c): percentiles of a layer's input over training.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    step : array_like, shape (K,)
    percentiles : array_like, shape (K, len(q))
        From :func:`bn_helpers.diagnostics.percentiles_over_training`.
    title : str
    q : sequence of float, default (15, 50, 85)
    start : int, default 0
        Steps before ``start`` are not drawn (batch norm's running statistics
        settle during the first ~50 steps).
    color : str

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If the shapes disagree.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 4.1 and Figure 1(b, c).
    """
    step = as_float_array(step, "step", (1,))
    pct = as_float_array(percentiles, "percentiles", (2,))
    if pct.shape != (len(step), len(q)):
        raise ValueError(f"percentiles must have shape ({len(step)}, {len(q)}); got {pct.shape}")
    keep = step >= start
    styles = {0: ":", len(q) - 1: ":"}
    for j, qq in enumerate(q):
        ax.plot(step[keep], pct[keep, j], styles.get(j, "-"), color=color, label=f"{qq:g}th percentile")
    ax.set(xlabel="training step", ylabel="input to the last sigmoid", title=title)
    ax.legend(fontsize="small")
    return ax
