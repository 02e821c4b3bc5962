"""Tests of the Multi-Layer Flow view of 01_why_normalize: its logic, and the view driven like a user would."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bn_helpers.experiments.why_normalize import layer_flow  # noqa: E402
from bn_helpers.plots import plot_layer_flow, plot_loss_contours, plot_percentiles  # noqa: E402
from bn_helpers.widgets import LayerFlowView, layer_flow_curves  # noqa: E402


def test_curves_are_measured_per_layer():
    c = layer_flow_curves(depth=6, init_scale=1.0, activation="tanh")
    assert len(c["without BN"]) == len(c["with BN"]) == 6
    acts = layer_flow(6, 1.0, "tanh", None)["activations"]
    for (m, s), a in zip(c["without BN"], acts):
        assert np.isclose(m, a.mean()) and np.isclose(s, a.std())


def test_without_bn_tanh_signal_fades_with_bn_it_does_not():
    c = layer_flow_curves(depth=10, init_scale=1.0, activation="tanh")
    stds = [s for _, s in c["without BN"]]
    assert stds[-1] < 0.5 * stds[0]                                  # 0.59 -> 0.22
    bn = [s for _, s in c["with BN"]]
    assert max(bn) - min(bn) < 0.1


def test_init_scale_changes_nothing_with_bn():
    a = layer_flow_curves(depth=8, init_scale=0.25, activation="relu")
    b = layer_flow_curves(depth=8, init_scale=4.0, activation="relu")
    assert np.allclose(a["with BN"], b["with BN"], atol=1e-3)   # equal up to eps
    assert b["without BN"][-1][1] > 100 * a["without BN"][-1][1]


def test_saturation_reported_for_each_activation():
    t = layer_flow_curves(depth=4, init_scale=3.0, activation="tanh")["saturated"]
    assert t["without BN"] > 0.3 and t["with BN"] < 0.1
    for act in ("relu", "sigmoid"):
        s = layer_flow_curves(depth=4, init_scale=1.0, activation=act)["saturated"]
        assert 0 <= s["without BN"] <= 1 and 0 <= s["with BN"] <= 1


@pytest.mark.parametrize("kwargs, match", [
    ({"depth": 0, "init_scale": 1.0}, "depth"),
    ({"depth": 3, "init_scale": 0.0}, "init_scale"),
    ({"depth": 3, "init_scale": 1.0, "activation": "gelu"}, "activation"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layer_flow_curves(**kwargs)


def _lines(ax):
    return {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}


def test_view_draws_what_the_controls_say():
    view = LayerFlowView(depth=5, init_scale=1.0, activation="tanh")
    ax_mean, ax_std = view.axes
    lines = _lines(ax_std)
    assert set(lines) == {"without BN", "with BN"}
    x, y = lines["without BN"].get_data()
    assert list(x) == [1, 2, 3, 4, 5]
    assert np.allclose(y, [s for _, s in view.state["without BN"]])
    assert "5 tanh layers" in view.fig._suptitle.get_text()
    assert ax_std.get_yscale() == "log" and ax_mean.get_xlabel() == "layer" and ax_mean.get_title()

    view.depth.value = 12
    view.activation.value = "relu"
    view.init_scale.value = 2.0
    lines = _lines(view.axes[1])
    x, y = lines["without BN"].get_data()
    assert len(x) == 12
    assert y[-1] > 10 * y[0]                         # ReLU at scale 2 explodes without BN
    xb, yb = lines["with BN"].get_data()
    assert np.ptp(yb) < 0.1
    title = view.fig._suptitle.get_text()
    assert "12 relu layers" in title and "init scale 2" in title and "dead" in title
    assert len(view.axes[0].get_lines()) == 3         # two curves and the zero line: old ones cleared
    plt.close(view.fig)


def test_plot_helpers_label_their_axes():
    from bn_helpers.experiments.why_normalize import gd_path, scaled_regression
    fig, axes = plt.subplots(1, 4)
    p = scaled_regression(standardized=True)
    plot_loss_contours(axes[0], p, gd_path(p, 0.5, 5), title="t")
    plot_layer_flow(axes[1:3], {"a": [(0.0, 1.0), (0.1, 0.5)]})
    plot_percentiles(axes[3], [0, 10, 20], np.zeros((3, 3)), title="p", start=10)
    for ax in axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title() and ax.get_legend() is not None
    assert len(axes[3].get_lines()[0].get_xdata()) == 2
    with pytest.raises(ValueError):
        plot_percentiles(axes[3], [0, 10], np.zeros((3, 3)), title="p")
    with pytest.raises(ValueError):
        plot_layer_flow(axes[1:3], {})
    plt.close(fig)
