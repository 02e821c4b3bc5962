"""Figures of assignment 06_in_practice: per-device statistics, data-parallel accuracy, folded outputs."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from .style import condition_color

#: Synchronized BN normalizes with the statistics of the whole batch: plain batch norm, the course's blue.
SYNCED = condition_color("with BN")
#: Per-device statistics are not one of the course's conditions: its neutral dark grey.
PER_DEVICE = condition_color("per-device BN")

__all__ = ["plot_device_stats", "plot_parallel_accuracy", "plot_fold_outputs"]


def plot_device_stats(ax: Axes, means: ArrayLike, variances: ArrayLike, synced_mean: float,
                      synced_var: float, unit: int = 0) -> Axes:
    """One unit's batch mean ± std on each device, against the synchronized mean ± std.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    means, variances : array_like, shape (K,)
        The unit's per-device batch mean and biased variance.
    synced_mean, synced_var : float
        The same over the whole global batch.
    unit : int, default 0
        Only for the title.

    Returns
    -------
    matplotlib.axes.Axes
    """
    means, variances = np.asarray(means, float), np.asarray(variances, float)
    k = np.arange(len(means))
    sd = np.sqrt(synced_var)
    ax.axhspan(synced_mean - sd, synced_mean + sd, color=SYNCED, alpha=0.2, label="synced mean ± std")
    ax.axhline(synced_mean, color=SYNCED, lw=2)
    ax.errorbar(k, means, yerr=np.sqrt(variances), fmt="o", color=PER_DEVICE, capsize=4,
                label="per-device mean ± std")
    ax.set_xticks(k)
    ax.set_xlabel("device")
    ax.set_ylabel(f"pre-activation of unit {unit}")
    ax.set_title(f"Statistics BN would use for unit {unit}")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_parallel_accuracy(ax: Axes, runs: Mapping[str, Mapping[str, Sequence[float]]]) -> Axes:
    """Grouped bars: mean test accuracy over seeds, per-device vs synced statistics, one dot per seed.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    runs : mapping of label (e.g. "8 × 4") to a dict with sequences
        ``"per_device"`` and ``"synced"`` (one accuracy per seed, the same seeds).

    Returns
    -------
    matplotlib.axes.Axes
        Bars at the mean, a black dot per seed, a line joining each seed's two
        runs (same initial weights, same batches).
    """
    labels = list(runs)
    width = 0.38
    n_seeds = 0
    for i, label in enumerate(labels):
        pair = [np.asarray(runs[label][key], float) for key in ("per_device", "synced")]
        xs = [i - width / 2, i + width / 2]
        for j, (accs, colour, name) in enumerate(zip(pair, (PER_DEVICE, SYNCED),
                                                   ("per-device statistics", "synchronized statistics"))):
            ax.bar(xs[j], accs.mean(), width, color=colour, alpha=0.55, label=name if i == 0 else None)
            ax.plot(np.full(len(accs), xs[j]), accs, "k.", ms=6, label="one seed" if i == 0 and j == 0 else None)
        ax.plot(np.vstack([np.full(len(pair[0]), xs[0]), np.full(len(pair[1]), xs[1])]), np.vstack(pair),
                color="k", lw=0.5, alpha=0.5)
        n_seeds = max(n_seeds, len(pair[0]))
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("devices × examples per device")
    ax.set_ylabel("test accuracy (eval mode)")
    ax.set_title(f"Data-parallel BN on the digits ({n_seeds} seeds)")
    ax.legend(loc="lower left", fontsize="small")
    return ax


def plot_fold_outputs(ax: Axes, unfolded: ArrayLike, folded: ArrayLike) -> Axes:
    """Scatter of the folded network's logits against the unfolded one's, with the diagonal.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    unfolded, folded : array_like, same shape
        Logits of the same inputs, eval mode.

    Returns
    -------
    matplotlib.axes.Axes
    """
    u, f = np.ravel(unfolded), np.ravel(folded)
    lo, hi = float(min(u.min(), f.min())), float(max(u.max(), f.max()))
    ax.plot([lo, hi], [lo, hi], color="0.3", lw=1, ls="--", label="y = x")
    ax.plot(u, f, ".", ms=2, alpha=0.4, color=SYNCED, label="one logit")
    ax.set_xlabel("logit, Linear → BN → ReLU (eval mode)")
    ax.set_ylabel("logit, folded Linear → ReLU")
    ax.set_title(f"Folded vs unfolded: max |difference| {np.abs(u - f).max():.1e}")
    ax.legend(loc="upper left", fontsize="small")
    return ax
