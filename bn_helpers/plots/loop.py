"""The training curves of :mod:`bn_helpers.loop`: your layer's run beside the reference's."""
from __future__ import annotations

from typing import Mapping

import numpy as np
from matplotlib.axes import Axes

from .basic import plot_seed_bands

__all__ = ["plot_loop_curves"]

#: Colours: the reference in the course's "with BN" blue, yours in black, known-wrong layers in warm colours.
_COLORS = {"reference": "tab:blue", "yours": "black"}
_OTHERS = ("tab:red", "tab:orange", "tab:purple", "tab:brown")


def plot_loop_curves(ax: Axes, runs: Mapping[str, dict], what: str = "test_acc", *, window: int = 10) -> Axes:
    """Test accuracy (or training loss) against the step, one band over the seeds per run.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    runs : mapping of str to dict
        Label (e.g. ``"reference"``, ``"yours"``) to a history of
        :func:`bn_helpers.loop.train`: ``"loss"`` (S, steps), ``"eval_step"``
        (E,), ``"test_acc"`` (S, E).
    what : {"test_acc", "loss"}, default "test_acc"
        The test accuracy at each evaluation, or the training loss averaged
        over consecutive windows of ``window`` steps (one batch's loss is noisy).
    window : int, default 10

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``: the mean over seeds as a line, the range of the seeds as a
        band; axis labels, a title and a legend.

    Raises
    ------
    ValueError
        If ``what`` is neither, ``runs`` is empty, or ``window`` < 1.
    """
    if what not in ("test_acc", "loss"):
        raise ValueError(f"what must be 'test_acc' or 'loss'; got {what!r}")
    if not runs or window < 1:
        raise ValueError("runs must hold at least one run, and window must be >= 1")
    others = iter(_OTHERS * len(runs))
    colors = {label: _COLORS.get(label) or next(others) for label in runs}
    if what == "test_acc":
        x = next(iter(runs.values()))["eval_step"]
        series = {label: h["test_acc"] for label, h in runs.items()}
        plot_seed_bands(ax, x, series, xlabel="training step", ylabel="test accuracy (eval mode)",
                        title="Test accuracy while training", colors=colors)
    else:
        steps = next(iter(runs.values()))["loss"].shape[1] // window * window
        x = np.arange(steps).reshape(-1, window).mean(axis=1) + 1
        series = {label: h["loss"][:, :steps].reshape(len(h["loss"]), -1, window).mean(axis=2)
                  for label, h in runs.items()}
        plot_seed_bands(ax, x, series, xlabel="training step", ylabel=f"training loss (mean of {window} steps)",
                        title="Training loss", colors=colors)
        ax.set_yscale("log")
    # the reference drawn wide and every other run dashed on top, so that a run that coincides stays visible
    for line in ax.get_lines():
        if line.get_label() == "reference":
            line.set_linewidth(4)
            line.set_alpha(0.6)
        else:
            line.set_linestyle((0, (4, 2)))
    title = ax.get_legend().get_title().get_text()
    ax.legend(fontsize="small", title=title, title_fontsize="small")
    return ax
