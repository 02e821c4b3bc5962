"""Figures of :mod:`bn_helpers.experiments.practice`: what a practitioner looks at, and BN coupling the batch.

Each helper takes an ``ax`` (or an array of axes) and returns it, labelled,
titled and with a legend; conditions are coloured by :func:`condition_color`.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
from numpy.typing import ArrayLike

from .basic import plot_seed_bands
from .style import condition_color

__all__ = ["plot_layer_histograms", "plot_update_ratios", "plot_batch_coupling", "plot_train_test_gap",
           "plot_seed_points"]


def _shade(colour: str, k: int, n: int):
    """Layer ``k`` of ``n``: from a light tint of the condition's colour (first layer) to the colour itself."""
    import matplotlib.colors as mcolors
    rgb = np.array(mcolors.to_rgb(colour))
    t = 0.25 + 0.75 * k / max(n - 1, 1)
    return tuple(1 - t * (1 - rgb))


def plot_layer_histograms(axes, diag: Mapping[str, dict]):
    """Per-layer histograms at initialization: tanh outputs (top row) and their gradients (bottom row), one column per condition.

    ``diag`` is :func:`bn_helpers.experiments.practice.diagnose`'s result; each
    layer is a line (light = first layer, dark = last), its legend entry gives
    the saturated fraction (|a| > 0.97) or the gradient's std (seed 0).
    """
    axes = np.asarray(axes).reshape(2, len(diag))
    for j, (label, r) in enumerate(diag.items()):
        colour = condition_color(label)
        n = len(r["act"])
        for k in range(n):
            a, g = r["act"][k], r["grad"][k]
            h, e = np.histogram(a, bins=np.linspace(-1, 1, 41), density=True)
            axes[0, j].plot((e[1:] + e[:-1]) / 2, h, color=_shade(colour, k, n),
                            label=f"layer {k + 1}: {np.mean(np.abs(a) > 0.97):.0%} saturated")
            lim = np.quantile(np.abs(g), 0.99) + 1e-30
            h, e = np.histogram(g, bins=np.linspace(-lim, lim, 41), density=True)
            axes[1, j].plot((e[1:] + e[:-1]) / 2, h, color=_shade(colour, k, n), label=f"layer {k + 1}: std {g.std():.1e}")
        axes[0, j].set(title=f"{label}: tanh outputs at init", xlabel="tanh output", ylabel="density")
        axes[1, j].set(title=f"{label}: their gradients at init", xlabel="dloss / d(tanh output)", ylabel="density")
        axes[1, j].ticklabel_format(axis="x", style="sci", scilimits=(-2, 2))
        for ax in axes[:, j]:
            ax.legend(fontsize=7)
    return axes


def plot_update_ratios(axes, diag: Mapping[str, dict], target: float = -3.0):
    """log10 update:data ratio of each hidden layer's weights over training, one axis per condition.

    Lines are the mean over seeds of each layer (light = first layer), bands
    the range over seeds; the dashed line is Karpathy's rule of thumb, 1e-3.
    """
    axes = np.ravel(axes)
    for ax, (label, r) in zip(axes, diag.items()):
        colour = condition_color(label)
        lr, steps = r["log_ratio"], r["ratio_steps"]        # (T, L, S)
        n = lr.shape[1]
        for k in range(n):
            c = _shade(colour, k, n)
            ax.fill_between(steps, lr[:, k].min(axis=1), lr[:, k].max(axis=1), color=c, alpha=0.2, lw=0)
            ax.plot(steps, lr[:, k].mean(axis=1), color=c, label=f"layer {k + 1}")
        ax.axhline(target, color="k", ls="--", lw=1, label="1e-3 (rule of thumb)")
        ax.set(title=f"{label} ({lr.shape[2]} seeds)", xlabel="training step", ylabel="log10 update:data ratio",
               ylim=(-4.5, 0))
        ax.legend(fontsize=7, ncol=2)
    return axes


def plot_batch_coupling(ax, coupling: Mapping[str, ArrayLike], seed_index: int = 0):
    """One image's ten logits, each dot one batch it was put in: training mode scatters, eval mode does not."""
    for mode, colour, dx in (("train", condition_color("with BN"), -0.15), ("eval", "0.2", 0.15)):
        v = np.asarray(coupling[mode])[:, seed_index]                  # (trials, K)
        k = np.arange(v.shape[1])
        for t in range(v.shape[0]):
            ax.plot(k + dx, v[t], "o", ms=3, color=colour, alpha=0.5,
                    label=(f"{'training' if mode == 'train' else 'eval'} mode, {v.shape[0]} batches") if t == 0 else None)
    ax.set(xticks=np.arange(v.shape[1]), xlabel="class", ylabel="logit of the same image",
           title="One test image in different batches of 16 (seed 0)")
    ax.legend()
    return ax


def plot_train_test_gap(ax, gap: Mapping, ghost: Mapping | None = None):
    """Eval-mode accuracy minus training-mode accuracy against the normalization batch size (mean, seed range)."""
    bs = gap["batch_sizes"]
    plot_seed_bands(ax, bs, {"with BN": gap["gap"]}, xlabel="normalization batch size B", logx=True,
                    ylabel="eval acc − train-mode acc", title="Train–test gap against the batch size")
    if ghost is not None:
        ax.plot(ghost["batch_sizes"], np.asarray(ghost["gap"]).mean(axis=0), "kx", ms=8,
                label=f"ghost batches of B in batches of {ghost['ghost_of']} (mean)")
        ax.legend()
    ax.minorticks_off()
    ax.set_xticks(bs, [str(b) for b in bs])
    return ax


def plot_seed_points(ax, values: Mapping[str, ArrayLike], *, ylabel: str, title: str):
    """One column per condition, one dot per seed, a bar at the mean; condition colours where the label has one."""
    for i, (label, v) in enumerate(values.items()):
        v = np.asarray(v, dtype=float)
        colour = condition_color(label)
        ax.bar(i, v.mean(), color=colour, alpha=0.35, width=0.6)
        ax.plot(np.full(v.shape, i) + np.linspace(-0.15, 0.15, len(v)), v, "o", color=colour,
                label=f"{label}: {v.min():.2f}–{v.max():.2f}")
    ax.set_xticks(range(len(values)), list(values), fontsize=8)
    ax.set(ylabel=ylabel, title=title, ylim=(0, 1.3), yticks=np.linspace(0, 1, 6))
    ax.legend(fontsize=7, loc="upper center", ncol=min(len(values), 2))
    return ax
