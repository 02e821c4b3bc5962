"""The seed's Multi-Layer Flow view, measured: per-layer mean and std with and without BN.

:func:`layer_flow_curves` is the logic (a plain, tested function);
:class:`LayerFlowView` wires sliders for depth and init scale and a menu for
the activation to it.

References
----------
CS5720 Week 3 seed slides, "Multi-Layer Flow" (there: illustrative numbers,
"layer 1 μ=2.3 σ=0.5 ... unstable" vs "with BN μ=0 σ=1"; here: measured on
the digits).
"""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display

from ..diagnostics import saturation_fraction, sigmoid_saturation_fraction
from ..experiments.why_normalize import layer_flow
from ..plots.why_normalize import plot_layer_flow
from ._live import FigurePane

__all__ = ["layer_flow_curves", "LayerFlowView"]

ACTIVATIONS = ("tanh", "relu", "sigmoid")


def layer_flow_curves(depth: int, init_scale: float, activation: str = "tanh", seed: int = 0) -> dict:
    """Per-layer (mean, std) of the activations at initialization, without and with BN.

    Parameters
    ----------
    depth : int
        Hidden layers, >= 1.
    init_scale : float
        Gain on the N(0, 1/fan_in) initial weights, > 0.
    activation : {"tanh", "relu", "sigmoid"}
    seed : int, default 0

    Returns
    -------
    dict
        ``"without BN"`` and ``"with BN"``: lists of (mean, std), one per
        layer; ``"saturated"``: the fraction of saturated units in the last
        layer, ``{"without BN": ..., "with BN": ...}`` (tanh: ``|a| > 0.97``;
        sigmoid: within 0.03 of 0 or 1; ReLU: units whose output is 0 for
        every example of the batch, "dead").

    Raises
    ------
    ValueError
        If ``depth`` < 1, ``init_scale`` <= 0 or the activation is unknown.

    References
    ----------
    Seed 000, "Multi-Layer Flow"; Ioffe & Szegedy, arXiv:1502.03167, Section 1.
    """
    if int(depth) != depth or depth < 1:
        raise ValueError(f"depth must be an integer >= 1; got {depth}")
    if not init_scale > 0:
        raise ValueError(f"init_scale must be > 0; got {init_scale}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")
    out: dict = {"saturated": {}}
    for label, norm in (("without BN", None), ("with BN", "batch")):
        flow = layer_flow(int(depth), float(init_scale), activation, norm, seed=seed)
        out[label] = flow["stats"]
        last = flow["activations"][-1]
        if activation == "tanh":
            out["saturated"][label] = saturation_fraction(last)
        elif activation == "sigmoid":
            out["saturated"][label] = sigmoid_saturation_fraction(last)
        else:
            out["saturated"][label] = float((last == 0).all(axis=0).mean())
    return out


class LayerFlowView:
    """Depth, init scale and activation; per-layer mean and std of the activations, with and without BN.

    Attributes
    ----------
    depth : ipywidgets.IntSlider
    init_scale : ipywidgets.FloatLogSlider
    activation : ipywidgets.Dropdown
    fig : matplotlib.figure.Figure
    axes : ndarray of Axes, shape (2,)
        Means per layer, and standard deviations per layer (log scale).
    state : dict
        The latest result of :func:`layer_flow_curves`.
    widget : ipywidgets.VBox

    References
    ----------
    Seed 000, "Multi-Layer Flow".
    """

    def __init__(self, depth: int = 10, init_scale: float = 1.0, activation: str = "tanh", seed: int = 0):
        style = {"description_width": "initial"}
        self.seed = seed
        self.depth = widgets.IntSlider(value=depth, min=1, max=20, step=1, description="depth",
                                       continuous_update=False, style=style)
        self.init_scale = widgets.FloatLogSlider(value=init_scale, base=2, min=-3, max=3, step=0.25,
                                                 description="init scale (× 1/√fan_in)",
                                                 continuous_update=False, style=style)
        self.activation = widgets.Dropdown(options=ACTIVATIONS, value=activation, description="activation",
                                           style=style)
        self.fig, self.axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
        plt.close(self.fig)
        self._measured_by: dict = {}      # (depth, init_scale, activation) -> layer_flow_curves(...)
        self.pane = FigurePane(self.fig)  # live (ipympl) in JupyterLab, a PNG elsewhere
        self.out = self.pane.out
        controls = (self.depth, self.init_scale, self.activation)
        self.widget = widgets.VBox([widgets.HBox(controls), self.pane.widget])
        for w in controls:
            w.observe(self._on_change, names="value")
        self.update()

    def update(self) -> None:
        """Measure again from the controls and redraw."""
        key = (self.depth.value, self.init_scale.value, self.activation.value)
        if key not in self._measured_by:  # measure once per setting: moving back is instant
            self._measured_by[key] = layer_flow_curves(*key, self.seed)
        self.state = self._measured_by[key]
        for ax in self.axes:
            ax.clear()
        curves = {k: self.state[k] for k in ("without BN", "with BN")}
        plot_layer_flow(self.axes, curves, activation=self.activation.value)
        sat = self.state["saturated"]
        self.fig.suptitle(
            f"{self.depth.value} {self.activation.value} layers, init scale {self.init_scale.value:.3g}; "
            f"{'dead' if self.activation.value == 'relu' else 'saturated'} units in the last layer: {sat['without BN']:.0%} without BN, {sat['with BN']:.0%} with BN",
            fontsize=11)
        self.pane.show()

    def _on_change(self, change) -> None:
        self.update()

    def _ipython_display_(self) -> None:
        display(self.widget)
