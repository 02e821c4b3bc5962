"""The seed's two interactive views, as ipywidgets.

Each view's logic is a plain function that can be tested without a browser:
:func:`scatter_clouds` behind :class:`ScatterView`, :func:`step_by_step`
behind :class:`StepByStepView`. The classes only wire widgets to them.

References
----------
CS5720 Week 3 seed slides, "How Batch Normalization Transforms Data" (the
scatter of a cloud before and after BN) and "Step-by-Step Math" (the worked
example 2.3, -0.5, 1.8, 3.2, -1.2 with gamma = 1.2, beta = 0.3).
"""
from __future__ import annotations

import html
import re
import threading
from typing import NamedTuple

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display
from numpy.typing import ArrayLike, NDArray

from ..data import WORKED_BATCH, WORKED_BETA, WORKED_GAMMA
from ..numerics import batchnorm_forward
from ..plots import plot_clouds
from ..plots.basic import _auto_lim, _stats
from ._live import FigurePane

__all__ = ["scatter_clouds", "ScatterView", "parse_batch", "Step", "step_by_step", "steps_to_html",
           "StepByStepView"]

#: Correlation between the two input features of :func:`scatter_clouds`.
CORRELATION = 0.5


# --------------------------------------------------------------------------- scatter

def scatter_clouds(shift: float, scale: float, batch_size: int, gamma: float, beta: float,
                   seed: int = 0, eps: float = 1e-5) -> dict[str, NDArray]:
    """A 2-feature batch and its batch-normalized version.

    ``x = (z @ L.T) * scale + shift`` with ``z`` standard normal from
    ``numpy.random.default_rng(seed)`` and ``L`` a fixed mixing that gives the
    two features correlation 0.5 (each keeps unit variance before scaling).
    The same seed gives the same ``z``, so changing ``shift``, ``scale``,
    ``gamma`` or ``beta`` moves the same points, and a larger ``batch_size``
    adds points to the smaller batch.

    Parameters
    ----------
    shift : float
        Added to both features.
    scale : float
        Multiplies both features' spread; must be > 0.
    batch_size : int
        N, the number of examples; at least 2.
    gamma, beta : float
        BN scale and shift, applied to both features.
    seed : int, default 0
    eps : float, default 1e-5

    Returns
    -------
    dict
        ``x`` (N, 2) the input cloud, ``y`` (N, 2) the output of
        :func:`~bn_helpers.numerics.batchnorm_forward`, and ``x_mean``,
        ``x_std``, ``y_mean``, ``y_std`` (2,) the per-feature means and
        biased stds.

    Raises
    ------
    ValueError
        If ``batch_size`` is not an integer >= 2 or ``scale`` is not > 0.

    References
    ----------
    CS5720 Week 3 seed slides, "How Batch Normalization Transforms Data".
    """
    n = int(batch_size)
    if n != batch_size or n < 2:
        raise ValueError("batch_size must be an integer >= 2 (a variance needs 2 examples); "
                         f"got {batch_size}")
    if not scale > 0:
        raise ValueError(f"scale must be > 0; got {scale}")
    mixing = np.array([[1.0, 0.0], [CORRELATION, np.sqrt(1.0 - CORRELATION**2)]])
    z = np.random.default_rng(seed).standard_normal((n, 2))
    x = (z @ mixing.T) * scale + shift
    y, _ = batchnorm_forward(x, [gamma, gamma], [beta, beta], eps)
    return {"x": x, "y": y, "x_mean": x.mean(axis=0), "x_std": x.std(axis=0),
            "y_mean": y.mean(axis=0), "y_std": y.std(axis=0)}


def _slider(cls, description: str, value, lo, hi, step):
    return cls(value=value, min=lo, max=hi, step=step, description=description,
               continuous_update=False, style={"description_width": "initial"})


class ScatterView:
    """Sliders for a 2-D batch and BN's ``gamma``, ``beta``; input and output clouds.

    Attributes
    ----------
    shift, scale, gamma, beta : ipywidgets.FloatSlider
    batch_size : ipywidgets.IntSlider
    fig : matplotlib.figure.Figure
    axes : ndarray of Axes, shape (2,)
        Input cloud, and the cloud after BatchNorm.
    state : dict
        The latest result of :func:`scatter_clouds`.
    widget : ipywidgets.VBox
        What to display; ``ScatterView()`` as a cell's last line shows it.

    References
    ----------
    CS5720 Week 3 seed slides, "How Batch Normalization Transforms Data".
    """

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.shift = _slider(widgets.FloatSlider, "shift", 2.0, -5.0, 5.0, 0.1)
        self.scale = _slider(widgets.FloatSlider, "scale", 2.0, 0.1, 5.0, 0.1)
        self.batch_size = _slider(widgets.IntSlider, "batch size N", 50, 2, 200, 1)
        self.gamma = _slider(widgets.FloatSlider, "γ (gamma)", 1.0, 0.1, 3.0, 0.1)
        self.beta = _slider(widgets.FloatSlider, "β (beta)", 0.0, -3.0, 3.0, 0.1)
        sliders = (self.shift, self.scale, self.batch_size, self.gamma, self.beta)
        self.fig, self.axes = plt.subplots(1, 2, figsize=(9, 4.4), layout="constrained")
        plt.close(self.fig)  # shown through the pane only, not again by the inline backend
        self.pane = FigurePane(self.fig)
        self.out = self.pane.out
        self.widget = widgets.VBox([widgets.HBox(sliders[:3]), widgets.HBox(sliders[3:]), self.pane.widget])
        self._clouds = None  # the two scatter collections, once drawn
        for s in sliders:
            s.observe(self._on_change, names="value")
        self.update()

    def update(self) -> None:
        """Recompute :attr:`state` from the sliders and update the figure's artists in place."""
        self.state = scatter_clouds(self.shift.value, self.scale.value, self.batch_size.value,
                                    self.gamma.value, self.beta.value, seed=self.seed)
        x, y = self.state["x"], self.state["y"]
        if self._clouds is None:
            plot_clouds(*self.axes, x, y)
            self._clouds = [ax.collections[-1] for ax in self.axes]
            full = True
        else:  # the same artists, new data: no new figure, no new axes
            lim = _auto_lim(x, y)
            full = self.axes[0].get_xlim() != (-lim, lim)     # the axes change only when the limits do
            for ax, cloud, points, name in zip(self.axes, self._clouds, (x, y), ("Input", "After BatchNorm")):
                cloud.set_offsets(points)
                if full:
                    ax.set(xlim=(-lim, lim), ylim=(-lim, lim))
                ax.set_title(f"{name}\n{_stats(points)}", fontsize=11)
        self.pane.show(dynamic=[*self._clouds, *(ax.title for ax in self.axes)], full=full)

    def _on_change(self, change) -> None:
        with self.pane.lock:   # the controls' messages may come in several threads (see FigurePane.lock)
            self.update()

    def _ipython_display_(self) -> None:
        display(self.widget)


# --------------------------------------------------------------------------- step by step

_TOKEN_SEP = re.compile(r"[,;\s]+")


def parse_batch(text: str) -> NDArray:
    """Read a batch typed as text, e.g. ``"2.3, -0.5, 1.8"`` or ``"[2.3 -0.5 1.8]"``.

    Numbers are separated by commas, semicolons and/or spaces; one pair of
    enclosing brackets is allowed, and the typographic minus "−" is read as "-".

    Parameters
    ----------
    text : str

    Returns
    -------
    ndarray, shape (N,), float64

    Raises
    ------
    TypeError
        If ``text`` is not a string.
    ValueError
        If a token is not a finite number (the message quotes it), or there
        are fewer than 2 numbers.
    """
    if not isinstance(text, str):
        raise TypeError(f"the batch must be given as text; got {type(text).__name__}")
    body = text.strip().replace("\u2212", "-")
    if len(body) >= 2 and body[0] + body[-1] in ("[]", "()"):
        body = body[1:-1]
    values = []
    for token in filter(None, _TOKEN_SEP.split(body)):
        try:
            value = float(token)
        except ValueError:
            raise ValueError(f"{token!r} is not a number") from None
        if not np.isfinite(value):
            raise ValueError(f"{token!r} is not a finite number")
        values.append(value)
    if len(values) < 2:
        raise ValueError(f"need at least 2 numbers to compute a batch variance; got {len(values)}")
    return np.array(values, dtype=np.float64)


class Step(NamedTuple):
    """One step of the batch-norm computation, for display.

    ``title`` e.g. "Batch mean"; ``formula`` the general formula; ``detail``
    the formula with the batch's numbers (lines separated by "\\n");
    ``values`` the step's result: a float for the mean and the variance, an
    (N,) array for ``x_hat`` and ``y``.
    """

    title: str
    formula: str
    detail: str
    values: float | NDArray


def _num(v: float, decimals: int = 2) -> str:
    """``v`` with ``decimals`` decimals, never "-0.00"."""
    s = f"{v:.{decimals}f}"
    return s.lstrip("-") if float(s) == 0 else s


def _stat(v: float) -> str:
    """A statistic with 2 to 4 decimals: 1.12, 2.8376, 2.00."""
    s = _num(v, 4)
    return s[:-2] + s[-2:].rstrip("0") if s.endswith("0") else s


def _paren(s: str) -> str:
    """A formatted number, in parentheses when negative: 2.3, (-0.5)."""
    return f"({s})" if s.startswith("-") else s


def _join(items: list[str], sep: str = " + ") -> str:
    """Join ``items``, eliding the middle of long lists."""
    return sep.join(items if len(items) <= 8 else [*items[:5], "…", *items[-2:]])


def step_by_step(batch: str | ArrayLike, gamma: float = WORKED_GAMMA, beta: float = WORKED_BETA,
                 eps: float = 1e-5) -> list[Step]:
    """The four steps of batch norm on one feature, with the numbers written out.

    The numbers come from :func:`~bn_helpers.numerics.batchnorm_forward`
    (biased variance, ``eps`` inside the square root).

    Parameters
    ----------
    batch : str or array_like, shape (N,)
        The values of one feature over a batch, N >= 2; a string is read
        with :func:`parse_batch`.
    gamma, beta : float, default 1.2 and 0.3
        Scale and shift (those of the worked example).
    eps : float, default 1e-5

    Returns
    -------
    list of Step
        "Batch mean", "Batch variance", "Normalize", "Scale and shift".

    Raises
    ------
    ValueError
        If the batch cannot be read, is not 1-D, or has fewer than 2 values.

    References
    ----------
    CS5720 Week 3 seed slides, "Step-by-Step Math": for 2.3, -0.5, 1.8, 3.2,
    -1.2 the mean is 1.12, the variance 2.8376, x_hat_1 = 0.70 and
    y_1 = 1.2 * 0.70 + 0.3 = 1.14.
    """
    x = parse_batch(batch) if isinstance(batch, str) else np.asarray(batch, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"batch must be 1-D (N,), the values of one feature; got shape {x.shape}")
    y, cache = batchnorm_forward(x[:, None], [gamma], [beta], eps)
    mean, var, x_hat, y = float(cache.mean[0]), float(cache.var[0]), cache.x_hat[:, 0], y[:, 0]
    m, std = len(x), np.sqrt(var + eps)
    sq_dev = [_stat((v - mean) ** 2) for v in x]
    norm_lines = [f"x̂_{i} = ({x[i - 1]:g} - {_paren(_stat(mean))}) / {_stat(std)} = {_num(x_hat[i - 1])}"
                  for i in range(1, m + 1)]
    g, b = _paren(f"{gamma:g}"), _paren(f"{beta:g}")
    scale_lines = [f"y_{i} = {g}·{_paren(_num(x_hat[i - 1]))} + {b} = {_num(y[i - 1])}"
                   for i in range(1, m + 1)]
    return [
        Step("Batch mean", "μ_B = (1/m) Σ x_i",
             f"μ_B = ({_join([_paren(f'{v:g}') for v in x])}) / {m} = {_stat(mean)}", mean),
        Step("Batch variance", "σ²_B = (1/m) Σ (x_i - μ_B)²   (biased: divide by m, not m - 1)",
             f"squared deviations (x_i - μ_B)²: {_join(sq_dev, ', ')}\n"
             f"σ²_B = ({_join(sq_dev)}) / {m} = {_stat(var)}", var),
        Step("Normalize", "x̂_i = (x_i - μ_B) / √(σ²_B + ε)",
             f"√(σ²_B + ε) = √({_stat(var)} + {eps:g}) = {_stat(std)}\n"
             + _join(norm_lines, "\n")
             + f"\nmean(x̂) = {_num(x_hat.mean())}, std(x̂) = {_num(x_hat.std())}", x_hat),
        Step("Scale and shift", "y_i = γ·x̂_i + β",
             _join(scale_lines, "\n"), y),
    ]


def steps_to_html(steps: list[Step]) -> str:
    """Render steps as numbered HTML blocks: title, formula, detail."""
    blocks = []
    for k, s in enumerate(steps, start=1):
        detail = html.escape(s.detail).replace("\n", "<br>")
        blocks.append(f"<h4 style='margin:0.6em 0 0.2em'>{k}. {html.escape(s.title)}</h4>"
                      f"<div><code>{html.escape(s.formula)}</code></div>"
                      f"<div style='font-family:monospace; margin-left:1em'>{detail}</div>")
    return "\n".join(blocks)


class StepByStepView:
    """Type a batch and ``gamma``, ``beta``; see the four steps of BN with numbers.

    Attributes
    ----------
    batch : ipywidgets.Text
        The batch, e.g. "2.3, -0.5, 1.8, 3.2, -1.2"; read when Enter is
        pressed or the box loses focus.
    gamma, beta : ipywidgets.FloatText
    html : ipywidgets.HTML
        The steps, or a red "Could not read the batch: ..." message.
    steps : list of Step or None
        The latest result of :func:`step_by_step`, None after an error.
    widget : ipywidgets.VBox

    References
    ----------
    CS5720 Week 3 seed slides, "Step-by-Step Math".
    """

    def __init__(self):
        style = {"description_width": "initial"}
        self.batch = widgets.Text(value=", ".join(f"{v:g}" for v in WORKED_BATCH),
                                  description="batch", continuous_update=False, style=style,
                                  layout=widgets.Layout(width="28em"))
        self.gamma = widgets.FloatText(value=WORKED_GAMMA, description="γ (gamma)", style=style,
                                       layout=widgets.Layout(width="12em"))
        self.beta = widgets.FloatText(value=WORKED_BETA, description="β (beta)", style=style,
                                      layout=widgets.Layout(width="12em"))
        self.html = widgets.HTML()
        self.steps: list[Step] | None = None
        self._lock = threading.Lock()   # the boxes' messages may come in several threads (see FigurePane.lock)
        self.widget = widgets.VBox([widgets.HBox([self.batch, self.gamma, self.beta]), self.html])
        for w in (self.batch, self.gamma, self.beta):
            w.observe(self._on_change, names="value")
        self.update()

    def update(self) -> None:
        """Recompute :attr:`steps` and :attr:`html` from the inputs; never raises on bad input."""
        try:
            self.steps = step_by_step(self.batch.value, self.gamma.value, self.beta.value)
        except (ValueError, TypeError) as exc:
            self.steps = None
            self.html.value = (f"<p style='color:#c00000'>Could not read the batch: "
                               f"{html.escape(str(exc))}</p>")
        else:
            self.html.value = steps_to_html(self.steps)

    def _on_change(self, change) -> None:
        with self._lock:
            self.update()

    def _ipython_display_(self) -> None:
        display(self.widget)
