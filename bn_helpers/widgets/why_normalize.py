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
import numpy as np
from IPython.display import display

from ..diagnostics import layer_stats, saturation_fraction, sigmoid_saturation_fraction
from ..experiments.why_normalize import layer_flow_outputs
from ..plots.why_normalize import _PLAIN, _RANGES, _std_axis, plot_layer_flow
from ._live import FigurePane, Measured, log_slider_steps, setting, sticky_limits

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
        outputs = layer_flow_outputs(int(depth), float(init_scale), activation, norm, seed=seed)
        out[label] = layer_stats(outputs)
        last = outputs[-1]
        if activation == "tanh":
            out["saturated"][label] = saturation_fraction(last)
        elif activation == "sigmoid":
            out["saturated"][label] = sigmoid_saturation_fraction(last)
        else:
            out["saturated"][label] = float((last == 0).all(axis=0).mean())
    return out


def _set_band(band, x, low, high) -> None:
    """New data for a ``fill_between`` band, in place (Matplotlib >= 3.10: ``set_data``; before: its polygon)."""
    if hasattr(band, "set_data"):   # FillBetweenPolyCollection
        band.set_data(x, low, high)
    else:
        band.set_verts([np.concatenate([np.column_stack([x, high]), np.column_stack([x, low])[::-1]])])


class LayerFlowView:
    """Depth, init scale and activation; per-layer mean and std of the activations, with and without BN.

    A move of a control updates the same artists (lines, bands, title) with
    new data; the axes keep their limits while the data fit them, so that,
    live, only the curves are drawn again (see :class:`._live.FigurePane`).
    Each setting is measured once, and, live, the settings one move away
    are measured while the hand rests (:class:`._live.Measured`).

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
        self.fig, self.axes = plt.subplots(1, 2, figsize=(9, 3.9), layout="constrained")
        plt.close(self.fig)
        self._artists = None              # label -> (mean line, band, std line), once drawn
        self.pane = FigurePane(self.fig)  # live (ipympl) in JupyterLab, a PNG elsewhere
        # (depth, init_scale, activation) -> layer_flow_curves(...), once per setting: moving back is instant
        self._measured_by = Measured(lambda *key: layer_flow_curves(*key, self.seed))
        self.pane.on_live = self._measure_ahead
        self.out = self.pane.out
        controls = (self.depth, self.init_scale, self.activation)
        self.widget = widgets.VBox([widgets.HBox(controls), self.pane.widget])
        for w in controls:
            w.observe(self._on_change, names="value")
        self.update()

    def _neighbours(self) -> list:
        """The settings one move away: a slider step (the next step of the same slider first), then the other
        activations (measuring one takes longer than redrawing the axes it changes)."""
        d, s, a = self.depth, self.init_scale, self.activation
        keys = []
        for step in (1, -1):
            if d.min <= d.value + step <= d.max:
                keys.append((d.value + step, setting(s.value), a.value))
        keys += [(d.value, value, a.value) for value in log_slider_steps(s)]
        keys += [(d.value, setting(s.value), other) for other in a.options if other != a.value]
        return keys

    def _measure_ahead(self) -> None:
        """Live (a hand on the controls): measure the neighbouring settings while the hand rests."""
        if self.pane.live:
            self._measured_by.ahead(self._neighbours())

    def _curves(self) -> tuple:
        """Per label: (layers, mean, band low, band high, std), the band cut to the activation's range."""
        low, high = _RANGES[self.activation.value]
        out = {}
        for label in ("without BN", "with BN"):
            stats = np.asarray(self.state[label], dtype=np.float64)
            mean, std = stats[:, 0], stats[:, 1]
            out[label] = (np.arange(1, len(stats) + 1), mean, np.clip(mean - std, low, high),
                          np.clip(mean + std, low, high), std)
        return out

    def _title(self) -> str:
        sat = self.state["saturated"]
        return (f"{self.depth.value} {self.activation.value} layers, init scale {self.init_scale.value:.3g}; "
                f"{'dead' if self.activation.value == 'relu' else 'saturated'} units in the last layer: "
                f"{sat['without BN']:.0%} without BN, {sat['with BN']:.0%} with BN")

    def update(self) -> None:
        """Measure again from the controls and update the figure's artists in place."""
        key = (self.depth.value, setting(self.init_scale.value), self.activation.value)
        self._measured_by.stop()   # the old neighbours are no longer measured ahead
        self.state = self._measured_by[key]
        ax_mean, ax_std = self.axes
        if self._artists is None:  # the first time: the static plot, whose artists are then updated in place
            curves = {k: self.state[k] for k in ("without BN", "with BN")}
            plot_layer_flow(self.axes, curves, activation=self.activation.value)
            mean_lines = {ln.get_label().split(":")[0]: ln for ln in ax_mean.get_lines() if "BN" in ln.get_label()}
            std_lines = {ln.get_label(): ln for ln in ax_std.get_lines() if "BN" in ln.get_label()}
            bands = dict(zip(("without BN", "with BN"), ax_mean.collections))
            self._artists = {k: (mean_lines[k], bands[k], std_lines[k]) for k in mean_lines}
            self._suptitle = self.fig.suptitle(self._title(), fontsize=11)
            ax_mean.set_xlim(0.5, self.depth.value + 0.5)
            ax_std.set_xlim(0.5, self.depth.value + 0.5)
            self._set_limits(self._curves(), first=True)
            self.pane.show(dynamic=self._dynamic(), full=True, static_key=self._static_key())
            self._measure_ahead()
            return
        before = [(ax.get_xlim(), ax.get_ylim(), ax.get_yscale()) for ax in self.axes]
        curves = self._curves()
        for label, (layers, mean, lo, hi, std) in curves.items():
            line, band, std_line = self._artists[label]
            line.set_data(layers, mean)
            _set_band(band, layers, lo, hi)
            std_line.set_data(layers, std)
        depth = self.depth.value
        right = ax_mean.get_xlim()[1]   # layers 1..depth; room for a few more when the net grows
        if not (depth + 0.5 <= right and depth >= 0.5 * (right - 0.5)):
            right = (5 * int(np.ceil(depth / 5)) if depth + 0.5 > right else depth) + 0.5
        for ax in self.axes:
            ax.set_xlim(0.5, right)
        self._set_limits(curves)
        self._suptitle.set_text(self._title())
        after = [(ax.get_xlim(), ax.get_ylim(), ax.get_yscale()) for ax in self.axes]
        self.pane.show(dynamic=self._dynamic(), full=after != before, static_key=self._static_key())
        self._measure_ahead()

    def _static_key(self) -> tuple:
        """What a move changes outside :meth:`_dynamic`: each axes' limits, scales and y label (the mean
        panel's symlog formatter goes with its scale); a background drawn for it is reused (FigurePane.show)."""
        return tuple((ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale(), ax.get_ylabel())
                     for ax in self.axes)

    def _set_limits(self, curves: dict, first: bool = False) -> None:
        """The y axes: kept while the data fit them (and fill a third), else set as :func:`plot_layer_flow` would.

        The mean panel of a bounded activation (tanh, sigmoid) spans the
        activation's whole range, so that a band reaching it (saturation)
        shows; ReLU's gets the static plot's limits (symlog beyond 20). The
        std panel is log when the stds span more than 3x, linear otherwise.
        """
        ax_mean, ax_std = self.axes
        lo_m = min(c[2].min() for c in curves.values())
        hi_m = max(c[3].max() for c in curves.values())
        symlog = max(-lo_m, hi_m) > 20
        low, high = _RANGES[self.activation.value]
        if np.isfinite(high):   # tanh, sigmoid: the whole range of the activation
            want = (low - 0.05 * (high - low), high + 0.05 * (high - low))
        else:
            pad = 0.08 * max(hi_m - lo_m, 1e-3)
            want = (min(lo_m - pad, -0.1), max(hi_m + pad, 0.1))
        if first or symlog != (ax_mean.get_yscale() == "symlog"):
            if symlog:
                ax_mean.set_yscale("symlog", linthresh=1.0)
                ax_mean.yaxis.set_major_formatter(_PLAIN)
            else:
                ax_mean.set_yscale("linear")
            ax_mean.set_ylim(*want)
        elif symlog:
            ax_mean.set_ylim(*want)
        else:
            ax_mean.set_ylim(*sticky_limits(ax_mean.get_ylim(), want, data=(lo_m, hi_m)))
        lo_s = min(c[4].min() for c in curves.values())
        hi_s = max(c[4].max() for c in curves.values())
        was_log = ax_std.get_yscale() == "log"
        if not first and (lo_s > 0 or not was_log):   # keep the scale and limits while the stds fit them
            kept = sticky_limits(ax_std.get_ylim(), (np.nan, np.nan), log=was_log, data=(lo_s, hi_s))
            if not np.isnan(kept[0]):
                return
        log = _std_axis(ax_std, lo_s, hi_s)   # as plot_layer_flow decides: log beyond 3x, labelled ticks
        if log:   # autoscale's 5 % margins (in decades) the first time, then room for the next moves
            span, margin = np.log10(hi_s / lo_s), 0.05 if first else 0.15
            ax_std.set_ylim(lo_s * 10 ** (-margin * span), hi_s * 10 ** (margin * span))
        what = ax_std.get_ylabel().replace(" (log scale)", "")
        ax_std.set_ylabel(what + (" (log scale)" if log else ""))

    def _dynamic(self) -> list:
        """What a move changes when the axes stay: the curves, the bands, the title and the legends
        (placed at draw time where the curves leave room: ``loc="best"``)."""
        legends = [ax.get_legend() for ax in self.axes if ax.get_legend() is not None]
        return [a for arts in self._artists.values() for a in arts] + [self._suptitle, *legends]

    def _on_change(self, change) -> None:
        with self.pane.lock:   # the controls' messages may come in several threads (see FigurePane.lock)
            self.update()

    def _ipython_display_(self) -> None:
        display(self.widget)
