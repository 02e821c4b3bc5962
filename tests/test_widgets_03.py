"""The Gradient Flow view of 03_backward: its logic, and the view driven like a user would."""
import matplotlib

matplotlib.use("Agg")

import ipywidgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bn_helpers import plots  # noqa: E402
from bn_helpers.experiments.backward import gradient_flow  # noqa: E402
from bn_helpers.widgets import GradientFlowView, gradient_flow_curves  # noqa: E402
from bn_helpers.widgets.backward import SEED_ILLUSTRATION  # noqa: E402

# one worker runs the whole module: its module-scoped fixtures are computed once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("test_widgets_03")


def test_curves_are_the_measurements():
    curves = gradient_flow_curves("tanh", gain=0.5, depth=5)
    np.testing.assert_array_equal(curves["without BN"], gradient_flow("tanh", depth=5, gain=0.5))
    np.testing.assert_array_equal(curves["with BN"], gradient_flow("tanh", "batch", depth=5, gain=0.5))
    assert curves["with BN"].shape == (6,)


@pytest.fixture(scope="module")
def view():
    return GradientFlowView()


def _lines(ax):
    return {ln.get_label(): ln for ln in ax.get_lines()}


def test_defaults_draw_the_measured_sigmoid_curves(view):
    assert view.activation.value == "sigmoid" and view.gain.value == 1.0 and view.show_seed.value is False
    assert isinstance(view.widget, ipywidgets.Box) and not plt.fignum_exists(view.fig.number)
    lines = _lines(view.ax)
    assert set(lines) == {"without BN (measured)", "with BN (measured)"}
    assert lines["without BN (measured)"].get_color() == plots.condition_color("without BN")   # orange
    assert lines["with BN (measured)"].get_color() == plots.condition_color("with BN")         # blue
    y = lines["without BN (measured)"].get_ydata()
    np.testing.assert_allclose(y, view.state["without BN"] / view.state["without BN"][-1])
    assert y[0] < 1e-9 and lines["with BN (measured)"].get_ydata()[0] > 0.1
    assert "sigmoid" in view.ax.get_title() and view.ax.get_yscale() == "log"
    assert view.ax.get_xlabel() and view.ax.get_ylabel()


def test_activation_and_gain_redraw(view):
    view.activation.value = "tanh"
    view.gain.value = 0.5
    assert "tanh" in view.ax.get_title() and "0.5" in view.ax.get_title()
    np.testing.assert_array_equal(view.state["without BN"], gradient_flow("tanh", gain=0.5))
    drawn = _lines(view.ax)["with BN (measured)"].get_ydata()
    assert drawn[0] > 2                                     # with BN, tanh gradients grow toward the input
    view.activation.value, view.gain.value = "sigmoid", 1.0


def test_seed_illustration_is_shown_on_request(view):
    view.show_seed.value = True
    lines = _lines(view.ax)
    assert "without BN (seed's illustration)" in lines and "with BN (seed's illustration)" in lines
    np.testing.assert_array_equal(lines["with BN (seed's illustration)"].get_ydata(), SEED_ILLUSTRATION["with BN"])
    assert lines["with BN (seed's illustration)"].get_color() == plots.condition_color("with BN")
    assert len(view.ax.get_legend().get_texts()) == 4
    view.show_seed.value = False
    assert len(_lines(view.ax)) == 2


def test_graph_plot_has_every_node_and_a_title():
    fig, ax = plt.subplots()
    plots.plot_bn_graph(ax, highlight="var")
    texts = " ".join(t.get_text() for t in ax.texts)
    for node in ("x", "mean", "centered", "var", "inv_std", "x_hat", "out", "gamma", "beta"):
        assert f"{node}\n" in texts
    assert ax.get_title() and ax.get_legend() is not None
    with pytest.raises(ValueError, match="highlight must be one of"):
        plots.plot_bn_graph(ax, highlight="sigma")
    plt.close(fig)


def test_graph_every_edge_has_an_arrowhead_and_its_label_beside_it():
    fig, ax = plt.subplots(figsize=(13, 4.6))
    plots.plot_bn_graph(ax)
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == len(plots.backward.BN_GRAPH_EDGES)
    assert all(a.arrow_patch.get_arrowstyle().__class__.__name__ == "CurveFilledB" for a in arrows)
    labels = {t.get_text(): t for t in ax.texts if t.get_text() in set(plots.backward.BN_GRAPH_EDGES.values())}
    assert set(labels) == set(plots.backward.BN_GRAPH_EDGES.values())
    assert all(np.hypot(*t.xyann) >= 5 for t in labels.values())     # offset from the edge, not on it
    fig.canvas.draw()
    boxes = {name: [t for t in ax.texts if t.get_text().startswith(name + "\n")][0].get_window_extent()
             for name in plots.backward.BN_GRAPH_NODES}
    for arrow in arrows:   # the arrow ends outside every node's box: the head is visible
        head = ax.transData.transform(arrow.xy)
        assert not any(b.contains(*head) for b in boxes.values())
    plt.close(fig)


def test_gradient_flow_several_seeds_band_and_course_colours():
    fig, ax = plt.subplots()
    runs = {"without BN": np.array([[1e-6, 1e-3, 1.0], [4e-6, 2e-3, 2.0]]), "with BN": np.array([[0.5, 0.6, 1.0]] * 2)}
    plots.plot_gradient_flow(ax, runs)
    lines = ax.get_lines()
    assert [ln.get_color() for ln in lines] == [plots.condition_color("without BN"), plots.condition_color("with BN")]
    np.testing.assert_allclose(lines[0].get_ydata(), np.sqrt([1e-6 * 2e-6, 1e-3 * 1e-3, 1.0]))  # geometric mean
    assert len(ax.collections) == 2 and "2 seeds" in lines[0].get_label()
    plt.close(fig)


def test_live_view_updates_the_same_lines_in_place():
    pytest.importorskip("ipympl")
    view = GradientFlowView(depth=5)
    pane = view.pane
    assert not pane.live and pane.widget.children == (pane.out,)
    pane._on_message(pane.canvas, {"type": "initialized"}, [])
    assert pane.live and pane.widget.children == (pane.canvas,)
    lines = _lines(view.ax)
    view.activation.value = "relu"
    view.gain.value = 2.0
    assert _lines(view.ax) == lines                                     # no new lines, no cleared axes
    expected = view.state["with BN"] / view.state["with BN"][-1]
    np.testing.assert_allclose(lines["with BN (measured)"].get_ydata(), expected)
    np.testing.assert_array_equal(view.state["without BN"], gradient_flow("relu", depth=5, gain=2.0))
    lo, hi = view.ax.get_ylim()
    ys = np.concatenate([ln.get_ydata() for ln in lines.values()])
    assert lo <= ys.min() and ys.max() <= hi                            # the limits follow the data
    assert "relu" in view.ax.get_title() and "2" in view.ax.get_title()
    redraws = pane.redraws
    view.show_seed.value = True
    assert len(_lines(view.ax)) == 4 and pane.redraws == redraws + 1


def test_live_view_redraws_only_the_lines_while_the_limits_hold():
    """In place: the same Line2D objects get the new data; a gain step keeps the y limits (a blit)."""
    pytest.importorskip("ipympl")
    view = GradientFlowView(depth=5)
    pane = view.pane
    pane._on_message(pane.canvas, {"type": "initialized"}, [])
    lines, limits = _lines(view.ax), view.ax.get_ylim()
    view.gain.value = 10 ** 0.1                              # one step of the slider
    assert _lines(view.ax) == lines and pane._background is not None
    np.testing.assert_allclose(lines["without BN (measured)"].get_ydata(),
                               view.state["without BN"] / view.state["without BN"][-1])
    np.testing.assert_allclose(view.state["with BN"], gradient_flow("sigmoid", "batch", depth=5, gain=10 ** 0.1),
                               rtol=1e-9)                    # the gain as a key: 12 significant digits
    assert view.ax.get_ylim() == limits                      # the curves still fit: the axes were not redrawn
    view.show_seed.value = True                              # the seed's numbers reach 1e-8: the limits follow
    lo, hi = view.ax.get_ylim()
    assert lo <= 1e-8 and hi >= 1 and {k: v for k, v in _lines(view.ax).items() if k in lines} == lines
    assert len(view.ax.get_legend().get_texts()) == 4
    view.show_seed.value = False
    assert _lines(view.ax) == lines and len(view.ax.get_legend().get_texts()) == 2
    plt.close(view.fig)
