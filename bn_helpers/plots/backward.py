"""Figures of assignment 03_backward: batch norm's computational graph and per-layer gradient norms."""
from __future__ import annotations

from typing import Mapping

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

from .style import condition_color

__all__ = ["BN_GRAPH_NODES", "BN_GRAPH_EDGES", "plot_bn_graph", "plot_gradient_flow"]

#: Node -> (x, y) position, the formula it computes, and its kind.
BN_GRAPH_NODES = {
    "x": ((0.0, 0.0), "input (N, D)", "data"),
    "mean": ((2.4, 1.5), "sum(x) / N", "statistic"),
    "centered": ((4.8, 0.0), "x - mean", "data"),
    "var": ((7.5, 1.5), "sum(centered²)/N", "statistic"),
    "inv_std": ((12.3, 1.5), "1/sqrt(var+eps)", "statistic"),
    "x_hat": ((15.0, 0.0), "centered · inv_std", "data"),
    "gamma": ((15.0, -1.6), "(D,) parameter", "parameter"),
    "beta": ((19.6, -1.6), "(D,) parameter", "parameter"),
    "out": ((19.6, 0.0), "gamma·x_hat + beta", "data"),
}
#: Forward edges (from, to), each labelled in the backward direction by its local derivative.
BN_GRAPH_EDGES = {
    ("x", "mean"): "1/N",
    ("x", "centered"): "1",
    ("mean", "centered"): "-1",
    ("centered", "var"): "2·centered/N",
    ("var", "inv_std"): "-½·inv_std³",
    ("centered", "x_hat"): "inv_std",
    ("inv_std", "x_hat"): "centered",
    ("x_hat", "out"): "gamma",
    ("gamma", "out"): "x_hat",
    ("beta", "out"): "1",
}
_COLORS = {"data": "#cfe2f3", "statistic": "#fde9c9", "parameter": "#d9ead3"}


def plot_bn_graph(ax: Axes, highlight: str | None = None, show_derivatives: bool = True) -> Axes:
    """Draw batch norm's forward graph, with each edge's local derivative for the backward walk.

    Nodes: ``x``, ``mean``, ``centered``, ``var``, ``inv_std``, ``x_hat``,
    ``out`` and the parameters ``gamma``, ``beta``. Arrows point forward; the
    label on each arrow is the derivative of its head with respect to its tail,
    which the backward pass multiplies by (and sums over the batch where a
    statistic of shape (D,) meets an (N, D) array).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    highlight : str, optional
        A node drawn with a thick red outline (the one being discussed).
    show_derivatives : bool, default True
        Label the edges with their local derivatives.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``highlight`` is not a node of the graph.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3 (the chain rule below
    Algorithm 1); Kratzert, "Understanding the backward pass through Batch
    Normalization Layer" (2016), whose staged graph this follows.
    """
    if highlight is not None and highlight not in BN_GRAPH_NODES:
        raise ValueError(f"highlight must be one of {sorted(BN_GRAPH_NODES)}; got {highlight!r}")
    ax.set(xlim=(-1.2, 21.0), ylim=(-2.2, 2.1), xticks=[], yticks=[],
           xlabel="forward: along the arrows · backward: against them, multiplying by the red labels",
           title="Batch norm as a computational graph (one feature; statistics over the batch)")
    boxes = {}
    for name, ((x, y), formula, kind) in BN_GRAPH_NODES.items():
        edge = dict(ec="tab:red", lw=2.5) if name == highlight else dict(ec="0.3", lw=1.0)
        text = ax.text(x, y, f"{name}\n{formula}", ha="center", va="center", fontsize=9, linespacing=1.4,
                       bbox=dict(boxstyle="round,pad=0.4", fc=_COLORS[kind], **edge), zorder=3)
        boxes[name] = _half_size(ax, text)
    for (a, b), label in BN_GRAPH_EDGES.items():
        start, end = _box_exit(BN_GRAPH_NODES[a][0], BN_GRAPH_NODES[b][0], boxes[a], boxes[b])
        ax.annotate("", xy=end, xytext=start, zorder=2,
                    arrowprops=dict(arrowstyle="-|>", mutation_scale=16, shrinkA=0, shrinkB=0, color="0.3", lw=1.2))
        if show_derivatives:
            _edge_label(ax, start, end, label)
    handles = [Line2D([], [], marker="s", linestyle="", markersize=10, markerfacecolor=c, markeredgecolor="0.3",
                      label=f"{k} node") for k, c in _COLORS.items()]
    handles.append(Line2D([], [], color="0.3", marker=">", markevery=[1], label="forward edge"))
    if show_derivatives:
        handles.append(Line2D([], [], color="tab:red", linestyle="", marker="$d$", label="local derivative (backward)"))
    ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9, ncol=1)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax


def _half_size(ax: Axes, text) -> tuple[float, float]:
    """Half width and half height of a node's box, in data units (from the rendered text)."""
    renderer = ax.figure.canvas.get_renderer()
    text.update_bbox_position_size(renderer)
    box = text.get_bbox_patch().get_window_extent(renderer)
    (x0, y0), (x1, y1) = ax.transData.inverted().transform([[box.x0, box.y0], [box.x1, box.y1]])
    return abs(x1 - x0) / 2, abs(y1 - y0) / 2


def _box_exit(pa, pb, size_a, size_b, gap: float = 0.08):
    """Where the segment from box centre ``pa`` to box centre ``pb`` leaves box a and enters box b."""
    (xa, ya), (xb, yb) = pa, pb
    dx, dy = xb - xa, yb - ya

    def t_exit(w, h):  # fraction of the segment inside a box of half size (w, h) around its end
        return min(w / abs(dx) if dx else np.inf, h / abs(dy) if dy else np.inf)

    ta = t_exit(size_a[0] + gap, size_a[1] + gap)
    tb = 1 - t_exit(size_b[0] + gap, size_b[1] + gap)
    return (xa + ta * dx, ya + ta * dy), (xa + tb * dx, ya + tb * dy)


def _edge_label(ax: Axes, start, end, label: str) -> None:
    """The local derivative beside the edge's midpoint: above a horizontal edge, to the side of a slanted one."""
    (x0, y0), (x1, y1) = start, end
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    if abs(y1 - y0) < 1e-9:
        ax.annotate(label, (mx, my), xytext=(0, 5), textcoords="offset points", ha="center", va="bottom",
                    fontsize=9, color="tab:red")
    else:  # right of an edge that rises to the right, left of one that falls (away from its neighbours here)
        side = 1 if (x1 - x0) * (y1 - y0) > 0 else -1
        ax.annotate(label, (mx, my), xytext=(6 * side, 0), textcoords="offset points", va="center",
                    ha="left" if side > 0 else "right", fontsize=9, color="tab:red")


def plot_gradient_flow(ax: Axes, series: Mapping[str, ArrayLike], *, relative: bool = True,
                       title: str = "Weight-gradient norm per layer at initialization") -> Axes:
    """Per-layer weight-gradient norms on a log scale, one line per network (a band over seeds).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    series : mapping of str to array_like of shape (L,) or (S, L)
        Label -> ``||dW||`` of layers 1..L (input side first), e.g. from
        :func:`bn_helpers.experiments.backward.gradient_flow`; with S rows (one
        per seed) the line is their geometric mean and a band spans the lowest
        to the highest seed. Colours are the course's
        (:func:`bn_helpers.plots.style.condition_color`): "with BN" blue,
        "without BN" orange.
    relative : bool, default True
        Divide each seed's norms by its last (output) layer's, as the seed's
        view does (layer 20 = 1.0).
    title : str
        The axes' title.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``series`` is empty or a line has a non-positive last value with ``relative``.

    References
    ----------
    The seed's "Gradient Flow" slide (illustrative numbers); Glorot & Bengio,
    AISTATS 2010, Figure 7 (per-layer gradient statistics).
    """
    if not series:
        raise ValueError("series must hold at least one line")
    for label, values in series.items():
        values = np.atleast_2d(np.asarray(values, dtype=np.float64))
        if relative:
            if not np.all(values[:, -1] > 0):
                raise ValueError(f"{label}: the last layer's norm must be positive to divide by it")
            values = values / values[:, -1:]
        values = np.maximum(values, 1e-300)
        layers = np.arange(1, values.shape[1] + 1)
        colour = condition_color(label)
        if values.shape[0] > 1:
            ax.fill_between(layers, values.min(axis=0), values.max(axis=0), color=colour, alpha=0.25, lw=0)
            label = f"{label} ({values.shape[0]} seeds: geometric mean, band lowest to highest)"
        ax.semilogy(layers, np.exp(np.log(values).mean(axis=0)), marker="o", markersize=3.5, color=colour,
                    label=label)
    ax.set(xlabel="layer (1 = next to the input)",
           ylabel="‖dW‖ / ‖dW of output layer‖" if relative else "‖dW‖", title=title)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=9)
    return ax
