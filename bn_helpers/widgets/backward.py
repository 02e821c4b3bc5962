"""The seed's "Gradient Flow" view as an ipywidget, with measured numbers.

:func:`gradient_flow_curves` does the work (a plain function, tested without a
browser); :class:`GradientFlowView` wires a dropdown for the activation and a
slider for the initialization scale to it and draws
:func:`bn_helpers.plots.plot_gradient_flow`.

References
----------
CS5720 Week 3 seed slides, "Gradient Flow" (whose numbers, |∇| = 1.0, 0.01,
... without BN and 1.0, 0.95, ... with BN, are illustrations, not
measurements).
"""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display
from numpy.typing import NDArray

from ..experiments.backward import gradient_flow
from ..plots import plot_gradient_flow
from ..plots.style import condition_color
from ._live import FigurePane, Measured, log_slider_steps, setting, sticky_limits

__all__ = ["SEED_ILLUSTRATION", "gradient_flow_curves", "GradientFlowView"]

#: The seed slide's illustrative |∇| at layers 20, 15, 10, 5, 1 (layer 1 "≈ 0" drawn as 1e-8).
SEED_ILLUSTRATION = {
    "layers": np.array([20, 15, 10, 5, 1]),
    "without BN": np.array([1.0, 0.01, 1e-4, 1e-6, 1e-8]),
    "with BN": np.array([1.0, 0.95, 0.90, 0.85, 0.80]),
}


def gradient_flow_curves(activation: str = "sigmoid", gain: float = 1.0, depth: int = 20,
                         seed: int = 0) -> dict[str, NDArray]:
    """Measured weight-gradient norms per layer, without and with batch norm.

    Parameters
    ----------
    activation : {"sigmoid", "tanh", "relu"}, default "sigmoid"
    gain : float, default 1.0
        Multiplies the std of the N(0, 1/fan_in) initialization.
    depth : int, default 20
        Hidden layers of width 100.
    seed : int, default 0

    Returns
    -------
    dict
        ``"without BN"`` and ``"with BN"``: arrays of shape (depth + 1,), the
        ``||dW||`` of each Linear layer (input side first).

    Raises
    ------
    ValueError
        From :func:`bn_helpers.experiments.backward.gradient_flow` (bad
        activation, non-positive gain).

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 3.3.
    """
    return {label: gradient_flow(activation, norm, depth=depth, gain=gain, seed=seed)
            for label, norm in (("without BN", None), ("with BN", "batch"))}


class GradientFlowView:
    """Activation and init-scale controls; measured per-layer gradient norms with and without BN.

    Attributes
    ----------
    activation : ipywidgets.Dropdown
    gain : ipywidgets.FloatLogSlider
        Init std as a multiple of 1/sqrt(fan_in).
    show_seed : ipywidgets.Checkbox
        Also draw the seed's illustrative numbers (dashed).
    fig, ax : matplotlib Figure and Axes
    state : dict
        The latest result of :func:`gradient_flow_curves`.
    widget : ipywidgets.VBox

    References
    ----------
    CS5720 Week 3 seed slides, "Gradient Flow".
    """

    def __init__(self, depth: int = 20, seed: int = 0):
        self.depth, self.seed = depth, seed
        self.activation = widgets.Dropdown(options=["sigmoid", "tanh", "relu"], value="sigmoid",
                                           description="activation")
        self.gain = widgets.FloatLogSlider(value=1.0, base=10, min=-1, max=1, step=0.1, continuous_update=False,
                                           description="init std × √fan_in", style={"description_width": "initial"})
        self.show_seed = widgets.Checkbox(value=False, description="show the seed's illustration")
        self.fig, self.ax = plt.subplots(figsize=(7.5, 4.2), layout="constrained")
        plt.close(self.fig)
        self.pane = FigurePane(self.fig)
        self.pane.on_live = self._measure_ahead
        self.out = self.pane.out
        controls = (self.activation, self.gain, self.show_seed)
        self.widget = widgets.VBox([widgets.HBox(controls), self.pane.widget])
        self._measured = None   # the two measured lines, once drawn
        self._seed_lines = []   # the seed's illustration, while shown
        # (activation, gain) -> gradient_flow_curves(...), once per setting: moving back, or the checkbox, is instant
        self._measured_by = Measured(lambda act, gain: gradient_flow_curves(act, gain, self.depth, self.seed))
        for c in controls:
            c.observe(self._on_change, names="value")
        self.update()

    def _title(self) -> str:
        return (f"{self.depth}×100 {self.activation.value} net at init, "
                f"init std {self.gain.value:.2g}/√fan_in")

    def _neighbours(self) -> list:
        """The settings one move away: a slider step, then the other activations (measuring one takes longer than
        redrawing the axes it changes)."""
        return [(self.activation.value, g) for g in log_slider_steps(self.gain)] + \
            [(other, setting(self.gain.value)) for other in self.activation.options if other != self.activation.value]

    def _limits(self) -> tuple:
        """The y limits (log axis): kept while every shown line fits and fills half of them (in decades)."""
        ys = np.concatenate([ln.get_ydata() for ln in [*self._measured.values(), *self._seed_lines]])
        lo, hi = float(ys.min()), float(ys.max())
        span = max(np.log10(hi / lo), 0.1)   # autoscale's 5 % margins on either side, in decades
        tight = (lo * 10 ** (-0.05 * span), hi * 10 ** (0.05 * span))
        return sticky_limits(self.ax.get_ylim(), tight, log=True, data=(lo, hi))

    def update(self) -> None:
        """Measure again with the current controls and update the lines in place.

        Live, only the moving artists (the lines, the title, the legend) are
        drawn again over the kept background, unless the limits change; the
        settings one move away are then measured in the background.
        """
        key = (self.activation.value, setting(self.gain.value))
        self._measured_by.stop()    # the old neighbours are no longer measured ahead
        self.state = self._measured_by[key]
        series = {f"{k} (measured)": v for k, v in self.state.items()}
        if self._measured is None:
            plot_gradient_flow(self.ax, series, title=self._title())
            self._measured = {ln.get_label(): ln for ln in self.ax.get_lines()}
        else:  # the same lines, new data (relative to the output layer, as plot_gradient_flow draws them)
            for label, values in series.items():
                values = np.asarray(values, dtype=np.float64)
                self._measured[label].set_ydata(np.maximum(values / values[-1], 1e-300))
            self.ax.set_title(self._title())
        if self.show_seed.value and not self._seed_lines:
            for label in ("without BN", "with BN"):
                self._seed_lines += self.ax.semilogy(
                    SEED_ILLUSTRATION["layers"], SEED_ILLUSTRATION[label], linestyle="--",
                    color=condition_color(label), alpha=0.6, label=f"{label} (seed's illustration)")
            self.ax.legend(fontsize=8)
        elif not self.show_seed.value and self._seed_lines:
            for line in self._seed_lines:
                line.remove()
            self._seed_lines = []
            self.ax.legend(fontsize=9)
        limits = self.ax.get_ylim()
        self.ax.set_ylim(*self._limits())
        full = self.ax.get_ylim() != limits   # new ticks: draw everything
        dynamic = [*self._measured.values(), *self._seed_lines, self.ax.title, self.ax.get_legend()]
        self.pane.show(dynamic=dynamic, full=full)
        self._measure_ahead()

    def _measure_ahead(self) -> None:
        """Live (a hand on the controls): measure the settings one move away while the hand rests."""
        if self.pane.live:
            self._measured_by.ahead(self._neighbours())

    def _on_change(self, change) -> None:
        with self.pane.lock:   # the controls' messages may come in several threads (see FigurePane.lock)
            self.update()

    def _ipython_display_(self) -> None:
        display(self.widget)
