"""Figures of assignment 06_in_practice: per-device statistics, data-parallel accuracy, folded outputs."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

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
    ax.axhspan(synced_mean - sd, synced_mean + sd, color="tab:orange", alpha=0.2, label="synced mean ± std")
    ax.axhline(synced_mean, color="tab:orange", lw=2)
    ax.errorbar(k, means, yerr=np.sqrt(variances), fmt="o", color="tab:blue", capsize=4,
                label="per-device mean ± std")
    ax.set_xticks(k)
    ax.set_xlabel("device")
    ax.set_ylabel(f"pre-activation of unit {unit}")
    ax.set_title(f"Statistics BN would use for unit {unit}")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_parallel_accuracy(ax: Axes, runs: Mapping[str, Mapping[str, Sequence[float]]]) -> Axes:
    """Grouped bars: test accuracy per seed, per-device vs synced statistics, for each device layout.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    runs : mapping of label (e.g. "8 devices × 4") to a dict with lists
        ``"per_device"`` and ``"synced"`` (one accuracy per seed).

    Returns
    -------
    matplotlib.axes.Axes
    """
    labels = list(runs)
    width = 0.38
    for j, (key, colour) in enumerate((("per_device", "tab:blue"), ("synced", "tab:orange"))):
        for i, label in enumerate(labels):
            accs = np.asarray(runs[label][key], float)
            x = i + (j - 0.5) * width
            ax.bar(x, accs.mean(), width, color=colour, alpha=0.6,
                   label=("per-device statistics" if key == "per_device" else "synchronized statistics") if i == 0 else None)
            ax.plot(np.full(len(accs), x), accs, "k.", ms=6, label="one seed" if i == 0 and j == 0 else None)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("devices × examples per device")
    ax.set_ylabel("test accuracy (eval mode)")
    ax.set_title("Data-parallel BN on the digits")
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
    ax.plot([lo, hi], [lo, hi], color="tab:orange", lw=1, label="y = x")
    ax.plot(u, f, ".", ms=2, alpha=0.4, color="tab:blue", label="one logit")
    ax.set_xlabel("logit, Linear → BN → ReLU (eval mode)")
    ax.set_ylabel("logit, folded Linear → ReLU")
    ax.set_title(f"Folded vs unfolded: max |difference| {np.abs(u - f).max():.1e}")
    ax.legend(loc="upper left", fontsize="small")
    return ax
