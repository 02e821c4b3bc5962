"""Small plotting helpers for the course's figures.

Every helper draws on axes it is given and returns them, so that a notebook
decides the figure's layout. Every axis gets a label, a title, and a legend
when it shows more than one series.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike, NDArray

from .._validate import as_float_array
from .style import condition_color

__all__ = ["plot_clouds", "plot_unit_histograms", "plot_lines", "plot_seed_bands"]

#: Half-widths tried, in order, when ``plot_clouds`` chooses its own limits.
#: Few steps, so that moving a slider shifts the cloud instead of the axes.
_LIMS = (2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 50.0)


def _stats(a: NDArray) -> str:
    """'μ=(m1, m2), σ=(s1, s2)' for the columns of ``a`` (biased std)."""
    mean, std = a.mean(axis=0), a.std(axis=0)
    return (f"μ=({mean[0]:.2f}, {mean[1]:.2f}), "
            f"σ=({std[0]:.2f}, {std[1]:.2f})").replace("-0.00", "0.00")


def _auto_lim(*arrays: NDArray) -> float:
    """Smallest half-width in ``_LIMS`` holding every point with a 5% margin."""
    reach = 1.05 * max(float(np.max(np.abs(a))) for a in arrays)
    return next((lim for lim in _LIMS if lim >= reach), reach)


def plot_clouds(ax_in: Axes, ax_out: Axes, x: ArrayLike, y: ArrayLike, *,
                lim: float | None = None) -> tuple[Axes, Axes]:
    """Scatter a 2-feature cloud before and after normalization.

    Both axes get the same square limits centred on the origin, and lines
    through the origin, so that a shift or a change of scale is visible.
    Each title gives the cloud's per-feature mean and (biased) std.

    Parameters
    ----------
    ax_in, ax_out : matplotlib.axes.Axes
        Axes for the input cloud and for the normalized cloud.
    x : array_like, shape (N, 2)
        Input cloud: N examples with D = 2 features.
    y : array_like, shape (N, 2)
        The same cloud after normalization.
    lim : float, optional
        Half-width of both axes; by default the smallest of 2.5, 5, 10, 15,
        20, 30, 50 that holds every point.

    Returns
    -------
    (ax_in, ax_out) : tuple of matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``x`` or ``y`` is not of shape (N, 2), or ``lim`` is not positive.
    """
    x = as_float_array(x, "x", (2,))
    y = as_float_array(y, "y", (2,))
    if x.shape[1] != 2 or y.shape[1] != 2:
        raise ValueError(f"x and y must have 2 features (N, 2); got shapes {x.shape} and {y.shape}")
    lim = _auto_lim(x, y) if lim is None else float(lim)
    if not lim > 0:
        raise ValueError(f"lim must be a positive number; got {lim}")
    panels = ((ax_in, x, "Input", "tab:blue"), (ax_out, y, "After BatchNorm", "tab:orange"))
    for ax, cloud, name, color in panels:
        ax.axhline(0.0, color="0.6", linewidth=0.8, zorder=0)
        ax.axvline(0.0, color="0.6", linewidth=0.8, zorder=0)
        ax.scatter(cloud[:, 0], cloud[:, 1], s=18, alpha=0.7, color=color, edgecolors="none")
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal",
               xlabel="feature 1", ylabel="feature 2")
        ax.set_title(f"{name}\n{_stats(cloud)}", fontsize=11)
    return ax_in, ax_out


def plot_unit_histograms(axes: Sequence[Sequence[Axes]], before: ArrayLike, after: ArrayLike,
                         units: Sequence[int] = (0, 1, 2), *, bins: int = 30) -> NDArray:
    """Small multiples: one row per hidden unit, its values before BatchNorm (left) and after (right).

    The right histogram of a row uses the left one's bin edges mapped through
    the same standardization, so its bars are the left bars moved and
    rescaled: batch norm shifts and scales each unit, it does not change the
    shape of its distribution. Before is drawn in the course's "without BN"
    colour, after in the "with BN" colour.

    Parameters
    ----------
    axes : grid of matplotlib.axes.Axes, shape (len(units), 2)
        Row ``k`` gets unit ``units[k]``: before BN in column 0, after in column 1
        (e.g. ``plt.subplots(len(units), 2, sharex="col")``).
    before : array_like, shape (N, D)
        Pre-activations of a hidden layer: N examples, D units.
    after : array_like, shape (N, D)
        The same pre-activations after batch normalization.
    units : sequence of int, default (0, 1, 2)
        Columns of ``before`` to draw; each panel's legend gives its mean and std.
    bins : int, default 30
        Number of bins per unit.

    Returns
    -------
    ndarray of Axes, shape (len(units), 2)

    Raises
    ------
    ValueError
        If the shapes differ, ``units`` is empty, a unit is not in 0..D-1, or
        ``axes`` is not a (len(units), 2) grid.
    """
    before = as_float_array(before, "before", (2,))
    after = as_float_array(after, "after", (2,))
    if before.shape != after.shape:
        raise ValueError("before and after must have the same shape (N, D); "
                         f"got {before.shape} and {after.shape}")
    units = [int(j) for j in units]
    d = before.shape[1]
    if not units or any(not 0 <= j < d for j in units):
        raise ValueError(f"units must be a non-empty list of columns in 0..{d - 1}; got {units}")
    grid = np.empty((len(units), 2), dtype=object)
    flat = list(np.ravel(np.asarray(axes, dtype=object)))
    if len(flat) != grid.size:
        raise ValueError(f"axes must be a grid of shape ({len(units)}, 2), one row per unit; got {len(flat)} axes")
    grid.ravel()[:] = flat
    colours = (condition_color("without BN"), condition_color("with BN"))
    for row, j in enumerate(units):
        edges = np.histogram_bin_edges(before[:, j], bins=bins)
        m_in, s_in, m_out, s_out = before[:, j].mean(), before[:, j].std(), after[:, j].mean(), after[:, j].std()
        mapped = (edges - m_in) / s_in * s_out + m_out if s_in > 0 else np.histogram_bin_edges(after[:, j], bins)
        panels = ((before[:, j], edges, colours[0]), (after[:, j], mapped, colours[1]))
        for col, (data, edge, colour) in enumerate(panels):
            ax = grid[row, col]
            label = f"unit {j}: μ={data.mean():.2f}, σ={data.std():.2f}".replace("-0.00", "0.00")
            ax.hist(data, bins=edge, histtype="stepfilled", color=colour, alpha=0.35, edgecolor=colour, lw=1.2,
                    label=label)
            ax.set_ylabel("count")
            ax.legend(fontsize="small", loc="upper left", handlelength=1.0, frameon=False)
            if row == 0:
                ax.set_title(("Before BatchNorm", "After BatchNorm")[col])
            if row == len(units) - 1:
                ax.set_xlabel(("pre-activation value", "normalized value (γ = 1, β = 0)")[col])
    return grid


def plot_lines(ax: Axes, x: ArrayLike, series: Mapping[str, ArrayLike], *, xlabel: str,
               ylabel: str, title: str, logx: bool = False, logy: bool = False) -> Axes:
    """Plot one or more named series against a shared ``x``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    x : array_like, shape (N,)
    series : mapping of str to array_like, each of shape (N,)
        Label to values; a legend is drawn when there is more than one.
    xlabel, ylabel, title : str
        Must not be empty.
    logx, logy : bool, default False
        Use a logarithmic x or y axis.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.

    Raises
    ------
    ValueError
        If ``series`` is empty, a series' length differs from ``x``, or a
        label is empty.
    """
    x = as_float_array(x, "x", (1,))
    if not series:
        raise ValueError("series must hold at least one named series")
    if not (xlabel and ylabel and title):
        raise ValueError("xlabel, ylabel and title must not be empty")
    for name, values in series.items():
        if not name:
            raise ValueError("every series needs a non-empty label")
        values = as_float_array(values, f"series[{name!r}]", (1,))
        if values.shape != x.shape:
            raise ValueError(f"series[{name!r}] must have shape {x.shape} like x; got {values.shape}")
        ax.plot(x, values, marker="o" if len(x) <= 20 else None, label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if len(series) > 1:
        ax.legend()
    return ax


def plot_seed_bands(ax: Axes, x: ArrayLike, runs: Mapping[str, ArrayLike], *, xlabel: str, ylabel: str,
                    title: str, logx: bool = False, colors: Mapping[str, str] | None = None) -> Axes:
    """Several seeds per condition: the mean as a line, the range from the lowest to the highest seed as a band.

    A claim about training is a claim about a distribution over seeds: the band
    shows where every seed ended, so a gap between two bands holds for every seed.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    x : array_like, shape (N,)
    runs : mapping of str to array_like, each of shape (S, N)
        Condition label to one row per seed (S >= 1).
    xlabel, ylabel, title : str
        Must not be empty.
    logx : bool, default False
        A logarithmic x axis.
    colors : mapping of str to colour, optional
        Colour per label; by default :func:`bn_helpers.plots.style.condition_color`
        ("with BN" blue, "without BN" orange, ...).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, with a legend naming each condition; its title says what the
        line and the band are and over how many seeds.

    Raises
    ------
    ValueError
        If ``runs`` is empty, a label is empty, a run is not (S, N) with N the
        length of ``x``, or a title or axis label is empty.
    """
    x = as_float_array(x, "x", (1,))
    n_seeds = 0
    if not runs:
        raise ValueError("runs must hold at least one condition")
    if not (xlabel and ylabel and title):
        raise ValueError("xlabel, ylabel and title must not be empty")
    for name, values in runs.items():
        if not name:
            raise ValueError("every condition needs a non-empty label")
        values = as_float_array(values, f"runs[{name!r}]", (2,), layout="(S, N): one row per seed")
        if values.shape[1] != x.shape[0]:
            raise ValueError(f"runs[{name!r}] must have shape (S, {x.shape[0]}), one row per seed; "
                             f"got {values.shape}")
        colour = (colors or {}).get(name) or condition_color(name)
        n_seeds = max(n_seeds, values.shape[0])
        ax.fill_between(x, values.min(axis=0), values.max(axis=0), color=colour, alpha=0.25, lw=0)
        ax.plot(x, values.mean(axis=0), marker="o" if len(x) <= 20 else None, ms=4, color=colour, label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if logx:
        ax.set_xscale("log")
    ax.legend(fontsize="small", title=f"mean; band: min–max over {n_seeds} seeds", title_fontsize="small")
    return ax
