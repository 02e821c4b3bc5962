"""Plots of assignment 01_why_normalize: loss contours, the layer flow, Ioffe's percentile drift, seed bands.

Every helper draws on axes it is given and returns them, labelled and titled.
Conditions ("with BN", "without BN", "noisy BN") take their colours from
:func:`bn_helpers.plots.style.condition_color`; a quantity measured over
several seeds is drawn as its mean (line) and its min-max over the seeds (band),
as :func:`bn_helpers.plots.basic.plot_seed_bands` draws training curves.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter
from numpy.typing import ArrayLike

from .._validate import as_float_array
from .style import condition_color

__all__ = ["plot_loss_contours", "plot_layer_flow", "plot_percentiles", "plot_unit_drift"]

_PLAIN = FuncFormatter(lambda v, _: f"{v:g}")


def plot_loss_contours(ax: Axes, problem, path: ArrayLike, *, title: str, span: float = 1.0,
                       xlabel: str = "weight of feature 1", ylabel: str = "weight of feature 2",
                       levels: int = 6) -> Axes:
    """Contours of a two-weight quadratic loss, each labelled, and a gradient-descent path on them.

    Both axes have the same scale (a circle looks round), so the contours
    show the true shape of the bowl. The square window is centred on the
    minimum ``w*`` and reaches ``span`` times ``|w* - path[0]|`` (times 1.15)
    on each side, so that the start of the path shows. The contours are those
    of the excess loss ``L(w) - L(w*)``, at levels spaced geometrically from
    1% to 100% of its value at the start of the path, each labelled with its
    value.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    problem : bn_helpers.experiments.why_normalize.Regression
    path : array_like, shape (K, 2)
        Iterates of gradient descent, from :func:`~bn_helpers.experiments.why_normalize.gd_path`.
    title, xlabel, ylabel : str
    span : float, default 1.0
    levels : int, default 6

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
    reach = span * float(np.linalg.norm(path[0] - w_star)) * 1.15 + 1e-12
    w1 = np.linspace(w_star[0] - reach, w_star[0] + reach, 400)
    w2 = np.linspace(w_star[1] - reach, w_star[1] + reach, 400)
    low = float(problem.loss(w_star))
    excess = loss_grid(problem, w1, w2) - low
    lv = (float(problem.loss(path[0])) - low) * np.geomspace(1e-2, 1.0, levels)
    cs = ax.contour(w1, w2, excess, levels=lv, cmap="viridis", linewidths=0.9)
    ax.clabel(cs, fmt=lambda v: f"{v:.2g}", fontsize=8, inline=True)
    ax.plot(path[:, 0], path[:, 1], "-o", color="tab:red", markersize=2.5, linewidth=1.0,
            label=f"gradient descent, {len(path) - 1} steps")
    ax.plot(*w_star, marker="*", color="black", markersize=12, linestyle="none", label="minimum w*")
    ax.plot([], [], color="tab:green", linewidth=0.9, label="contours of L(w) − L(w*), labelled")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, xlim=(w1[0], w1[-1]), ylim=(w2[0], w2[-1]))
    ax.set_aspect("equal", adjustable="box")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def _by_seed(values, name: str, width: int) -> np.ndarray:
    """(S, L, width) from one run's (L, width) or several seeds' (S, L, width)."""
    arr = as_float_array(values, name, (2, 3))
    arr = arr[None] if arr.ndim == 2 else arr
    if arr.shape[-1] != width or arr.shape[1] == 0:
        raise ValueError(f"{name} must be (layers, {width}) or (seeds, layers, {width}) with at least one "
                         f"layer; got shape {arr.shape}")
    return arr


def _std_axis(ax: Axes, lo: float, hi: float) -> bool:
    """Log scale with labelled 1-2-5 ticks when the values span more than 3x; linear otherwise."""
    if lo > 0 and hi / lo > 3:
        ax.set_yscale("log")
        decades = np.log10(hi / lo)
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades < 2.5 else (1.0,)))
        ax.yaxis.set_major_formatter(_PLAIN)
        ax.yaxis.set_minor_formatter(NullFormatter())
        return True
    ax.set_yscale("linear")
    pad = max(0.1 * (hi - lo), 0.05 * hi, 1e-3)
    ax.set_ylim(max(0.0, lo - pad), hi + pad)
    return False


_RANGES = {"relu": (0.0, np.inf), "tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


def plot_layer_flow(axes_pair: Sequence[Axes], curves: Mapping[str, ArrayLike], *,
                    what: str = "activation", activation: str | None = None) -> tuple[Axes, Axes]:
    """Where each layer's activations lie (mean +- std) and their std, one colour per network.

    Parameters
    ----------
    axes_pair : pair of matplotlib.axes.Axes
        The first gets each layer's mean (line) and mean +- std (band, cut
        to the activation's range when ``activation`` is given: a ReLU output
        is never negative); the second the standard deviation, on a log scale
        when it spans more than a factor 3 (linear otherwise, so that the
        ticks stay labelled).
    curves : mapping of str to array_like
        Label (``"without BN"``, ``"with BN"``; coloured by
        :func:`~bn_helpers.plots.style.condition_color`) to per-layer
        ``(mean, std)``: shape (L, 2) for one run, or (S, L, 2) for S seeds,
        drawn as the mean over the seeds with a min-max band (std panel);
        layers are numbered from 1.
    what : str, default "activation"
        Named in the axis labels.
    activation : {"relu", "tanh", "sigmoid"}, optional
        The activation whose outputs are drawn, for the range of the band.

    Returns
    -------
    (ax_mean, ax_std) : tuple of matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``curves`` is empty or a curve is not (L, 2) or (S, L, 2) with L >= 1.

    References
    ----------
    Seed 000, "Multi-Layer Flow"; Ioffe & Szegedy, arXiv:1502.03167, Section 2.
    """
    ax_mean, ax_std = axes_pair
    if not curves:
        raise ValueError("curves must hold at least one named list of (mean, std)")
    data = {label: _by_seed(stats, f"curves[{label!r}]", 2) for label, stats in curves.items()}
    if activation is not None and activation not in _RANGES:
        raise ValueError(f"activation must be one of {sorted(_RANGES)} or None; got {activation!r}")
    low, high = _RANGES.get(activation, (-np.inf, np.inf))
    markers = iter("osD^v")
    lo_m, hi_m, lo_s, hi_s = np.inf, -np.inf, np.inf, -np.inf
    n_seeds = max(len(a) for a in data.values())
    for label, stats in data.items():
        layers = np.arange(1, stats.shape[1] + 1)
        colour, m = condition_color(label), next(markers, "o")
        mean, std = stats[..., 0].mean(axis=0), stats[..., 1].mean(axis=0)
        band = np.clip(mean - std, low, high), np.clip(mean + std, low, high)
        ax_mean.fill_between(layers, *band, color=colour, alpha=0.15, linewidth=0)
        ax_mean.plot(layers, mean, marker=m, color=colour, label=f"{label}: mean, band ± std")
        if len(stats) > 1:
            ax_std.fill_between(layers, stats[..., 1].min(axis=0), stats[..., 1].max(axis=0), color=colour,
                                alpha=0.25, linewidth=0)
        ax_std.plot(layers, std, marker=m, color=colour, label=label)
        lo_m, hi_m = min(lo_m, band[0].min()), max(hi_m, band[1].max())
        lo_s, hi_s = min(lo_s, stats[..., 1].min()), max(hi_s, stats[..., 1].max())
    ax_mean.axhline(0.0, color="0.6", linewidth=0.8, zorder=0)
    ax_mean.set(xlabel="layer", ylabel=f"{what} value", title=f"Where each layer's {what}s lie")
    pad = 0.08 * max(hi_m - lo_m, 1e-3)
    ax_mean.set_ylim(min(lo_m - pad, -0.1), max(hi_m + pad, 0.1))
    if max(-lo_m, hi_m) > 20:
        ax_mean.set_yscale("symlog", linthresh=1.0)
        ax_mean.yaxis.set_major_formatter(_PLAIN)
    log = _std_axis(ax_std, lo_s, hi_s)
    seeds = f"; band: min–max over {n_seeds} seeds" if n_seeds > 1 else ""
    ax_std.set(xlabel="layer", ylabel=f"std of the {what}s" + (" (log scale)" if log else ""),
               title=f"Std of each layer's {what}s{seeds}")
    for ax in (ax_mean, ax_std):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize="small")
    return ax_mean, ax_std


def plot_percentiles(ax: Axes, step: ArrayLike, percentiles: ArrayLike, *, title: str,
                     q: Sequence[float] = (15, 50, 85), start: int = 0, color: str = "tab:blue") -> Axes:
    """Ioffe & Szegedy's Figure 1(b, c): percentiles of one unit's input over training.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    step : array_like, shape (K,)
    percentiles : array_like, shape (K, len(q))
        One unit's percentiles at each recorded step (e.g.
        ``run["unit_percentiles"][seed, :, :, unit]`` of
        :func:`~bn_helpers.experiments.why_normalize.ics_run`).
    title : str
    q : sequence of float, default (15, 50, 85)
    start : int, default 0
        Steps before ``start`` are not drawn (batch norm's running statistics
        settle during the first ~50 steps).
    color : str
        E.g. ``condition_color("with BN")``.

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
    ax.margins(y=0.25)                                   # room for the legend above the curves
    ax.legend(fontsize="small", loc="upper center", ncols=len(q))
    return ax


def plot_unit_drift(ax: Axes, drifts: Mapping[str, ArrayLike], *, q: Sequence[float] = (15, 50, 85),
                    start: int = 100) -> Axes:
    """How far each unit's percentiles travel: a box over all units and seeds, a dot per seed's mean.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    drifts : mapping of str to array_like, each (S, len(q), D)
        From :func:`~bn_helpers.experiments.why_normalize.unit_drift`, one
        entry per condition (coloured by :func:`~bn_helpers.plots.style.condition_color`).
    q : sequence of float, default (15, 50, 85)
    start : int, default 100
        The first step of the measured window (named in the label).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``drifts`` is empty or an entry is not (S, len(q), D).

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 4.1 and Figure 1(b, c).
    """
    if not drifts:
        raise ValueError("drifts must hold at least one condition")
    k = len(drifts)
    width = 0.8 / k
    for c, (label, values) in enumerate(drifts.items()):
        v = as_float_array(values, f"drifts[{label!r}]", (3,), layout="(S, len(q), D)")
        if v.shape[1] != len(q):
            raise ValueError(f"drifts[{label!r}] must be (S, {len(q)}, D); got shape {v.shape}")
        colour = condition_color(label)
        pos = np.arange(len(q)) + (c - (k - 1) / 2) * width
        box = ax.boxplot([v[:, j].ravel() for j in range(len(q))], positions=pos, widths=0.8 * width,
                         whis=(5, 95), showfliers=False, patch_artist=True, manage_ticks=False)
        for patch in box["boxes"]:
            patch.set(facecolor=colour, alpha=0.35, edgecolor=colour)
        for part in ("whiskers", "caps", "medians"):
            for line in box[part]:
                line.set_color(colour)
        means = v.mean(axis=2)                                               # (S, len(q))
        for j in range(len(q)):
            ax.plot(np.full(len(means), pos[j]), means[:, j], "o", color="black", markersize=3.5,
                    markerfacecolor=colour, zorder=3, label=f"{label}: one seed's mean over units" if j == 0 else None)
        ax.plot([], [], "s", color=colour, alpha=0.5, label=f"{label}: all units (box 25–75%, whiskers 5–95%)")
    ax.set_xticks(np.arange(len(q)), [f"{qq:g}th" for qq in q])
    ax.set(xlabel="percentile", ylabel=f"movement of a unit from step {start} on\n(max − min of its percentile)",
           title="How far each unit's percentiles travel")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="x-small")
    return ax
