"""Tests of the Multi-Layer Flow view of 01_why_normalize: its logic, and the view driven like a user would."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bn_helpers.experiments.why_normalize import layer_flow  # noqa: E402
from bn_helpers.widgets import LayerFlowView, layer_flow_curves  # noqa: E402


def test_curves_are_measured_per_layer():
    c = layer_flow_curves(depth=6, init_scale=1.0, activation="tanh")
    assert len(c["without BN"]) == len(c["with BN"]) == 6
    acts = layer_flow(6, 1.0, "tanh", None)["activations"]
    for (m, s), a in zip(c["without BN"], acts):
        assert np.isclose(m, a.mean()) and np.isclose(s, a.std())


@pytest.mark.parametrize("seed", [0, 1, 2, 7])
def test_the_settings_the_notebook_suggests_show_what_it_says(seed):
    # tanh at 0.5: the signal fades with depth (0.38 -> 0.0007 at seed 0); with BN it stays put
    c = layer_flow_curves(depth=10, init_scale=0.5, activation="tanh", seed=seed)
    stds = [s for _, s in c["without BN"]]
    assert stds[-1] < 0.1 * stds[0] and np.all(np.diff(stds) < 0)
    bn = [s for _, s in c["with BN"]]
    assert max(bn) < 1.2 * min(bn)
    # ReLU at 1, the standard init: the spread shrinks with depth (0.56 -> 0.02)
    r = [s for _, s in layer_flow_curves(depth=10, init_scale=1.0, activation="relu", seed=seed)["without BN"]]
    assert r[-1] < 0.2 * r[0]
    # ReLU at 2: it grows (the notebook's figure)
    r = [s for _, s in layer_flow_curves(depth=10, init_scale=2.0, activation="relu", seed=seed)["without BN"]]
    assert r[-1] > 5 * r[0]


def test_the_signal_fades_with_rounding_noise_on_the_inputs_too():
    from bn_helpers.data import rounding_noise
    with rounding_noise(1e-6):
        c = layer_flow_curves(depth=10, init_scale=0.5, activation="tanh")
    stds = [s for _, s in c["without BN"]]
    assert stds[-1] < 0.1 * stds[0]


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
    assert ax_mean.get_xlabel() == "layer" and ax_mean.get_title()
    assert ax_std.get_yscale() == "linear"            # tanh at 1 over 5 layers: the std spans less than 3x
    view.fig.canvas.draw()
    assert len([t for t in ax_std.get_yticklabels() if t.get_text()]) >= 2
    assert lines["with BN"].get_color() == "tab:blue" and lines["without BN"].get_color() == "tab:orange"

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
    assert view.axes[1].get_yscale() == "log"         # now the std spans more than 3x: log, labelled ticks
    fig = view.fig
    fig.canvas.draw()
    shown = [t for t in view.axes[1].get_yticklabels() if t.get_text()]
    assert len(shown) >= 2
    assert len(view.axes[0].get_lines()) == 3         # two curves and the zero line: old ones cleared
    band = view.axes[0].collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() >= 0                            # ReLU outputs are never negative: the band stops at 0
    plt.close(view.fig)


def test_the_view_starts_where_the_notebook_opens_it():
    view = LayerFlowView(depth=10, init_scale=0.5, activation="tanh")
    stds = [s for _, s in view.state["without BN"]]
    assert stds[-1] < 0.1 * stds[0]
    assert "init scale 0.5" in view.fig._suptitle.get_text()
    plt.close(view.fig)


def test_view_goes_live_when_the_front_end_answers():
    pytest.importorskip("ipympl")
    view = LayerFlowView(depth=3)
    pane = view.pane
    assert not pane.live and pane.widget.children == (pane.out,) and pane.widget in view.widget.children
    pane._on_message(pane.canvas, {"type": "initialized"}, [])        # what ipympl's front end sends
    assert pane.live and pane.widget.children == (pane.canvas,)
    redraws = pane.redraws
    view.depth.value = 5
    assert pane.redraws == redraws + 1 and not view.fig.get_constrained_layout()   # layout kept from the first draw
    assert all(len(ln.get_xdata()) == 5 for ln in view.axes[0].get_lines() if "BN" in ln.get_label())


def test_live_view_updates_its_artists_in_place():
    """A move changes the data of the same lines, bands and title (no cleared axes), and redraws only them
    while the limits hold the data."""
    pytest.importorskip("ipympl")
    view = LayerFlowView(depth=10, init_scale=0.5, activation="tanh")
    pane = view.pane
    pane._on_message(pane.canvas, {"type": "initialized"}, [])
    ax_mean, ax_std = view.axes
    artists = [*ax_mean.get_lines(), *ax_mean.collections, *ax_std.get_lines(), view.fig._suptitle]
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in view.axes]
    view.init_scale.value = 2 ** -0.75          # one step down: the curves move inside the same axes
    assert [*ax_mean.get_lines(), *ax_mean.collections, *ax_std.get_lines(), view.fig._suptitle] == artists
    assert [(ax.get_xlim(), ax.get_ylim()) for ax in view.axes] == limits
    assert pane._background is not None and "init scale 0.595" in view.fig._suptitle.get_text()
    for move in ({"activation": "relu"}, {"depth": 13}, {"init_scale": 2.0}):
        for name, value in move.items():
            getattr(view, name).value = value
        assert [*ax_mean.get_lines(), *ax_mean.collections, *ax_std.get_lines(), view.fig._suptitle] == artists
        expected = layer_flow_curves(view.depth.value, view.init_scale.value, view.activation.value)
        for label in ("without BN", "with BN"):
            std = _lines(ax_std)[label].get_ydata()
            np.testing.assert_allclose(std, [s for _, s in expected[label]])
            mean = [ln for ln in ax_mean.get_lines() if ln.get_label().startswith(label)][0].get_ydata()
            np.testing.assert_allclose(mean, [m for m, _ in expected[label]])
        for ax in view.axes:   # the limits hold every point drawn
            lo, hi = ax.get_ylim()
            ys = np.concatenate([ln.get_ydata() for ln in ax.get_lines() if "BN" in ln.get_label()])
            assert lo <= ys.min() and ys.max() <= hi and ax.get_xlim()[1] >= view.depth.value
    band = ax_mean.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() >= 0                       # ReLU: the band stops at 0, as in the static plot
    assert ax_std.get_yscale() == "log"          # ReLU at 2 explodes without BN: log scale, as the static plot
    plt.close(view.fig)


def test_measured_once_per_setting_and_ahead_only_in_an_event_loop():
    import asyncio

    from bn_helpers.widgets._live import Measured

    calls = []
    m = Measured(lambda a, b: calls.append((a, b)) or a + b, pause=0.0)
    assert m[1, 2] == 3 and m[1, 2] == 3 and calls == [(1, 2)]      # measured once
    m.ahead([(2, 2), (3, 3)])                                          # no running loop: nothing ahead
    assert calls == [(1, 2)] and (2, 2) not in m

    async def idle():
        m.ahead([(1, 2), (2, 2), (3, 3)])
        await asyncio.sleep(0.05)
        m.ahead([(4, 4), (5, 5)])
        m.stop()                                                       # the controls moved on: dropped
        await asyncio.sleep(0.05)

    asyncio.run(idle())
    assert calls == [(1, 2), (2, 2), (3, 3)] and m[3, 3] == 6 and (4, 4) not in m


def test_measurements_ahead_run_in_the_views_loop_when_a_move_comes_in_another_thread():
    """ipykernel 7 may handle a move in a subshell's thread: the measurements ahead still run in the loop where the
    view was made (the notebook's main thread), one at a time, holding the lock a move takes."""
    import asyncio
    import threading

    from bn_helpers.widgets._live import Measured

    where, lock = [], threading.RLock()

    def measure(a):
        assert lock._is_owned()                       # noqa: SLF001: the lock is held while measuring
        where.append((a, threading.current_thread() is threading.main_thread()))
        return a

    async def run():
        m = Measured(measure, pause=0.0, lock=lock)   # made in a cell: the main thread's loop
        mover = threading.Thread(target=m.ahead, args=([(1,), (2,)],))
        mover.start()
        mover.join()
        for _ in range(100):
            if len(m) == 2:
                break
            await asyncio.sleep(0.01)
        return m

    m = asyncio.run(run())
    assert where == [(1, True), (2, True)] and m[(2,)] == 2


def test_live_view_measures_the_next_settings_while_idle():
    pytest.importorskip("ipympl")
    import asyncio

    async def run():
        view = LayerFlowView(depth=4, init_scale=1.0, activation="tanh")
        view.pane._on_message(view.pane.canvas, {"type": "initialized"}, [])
        await asyncio.sleep(0)
        for _ in range(200):
            if all(k in view._measured_by for k in view._neighbours()):
                break
            await asyncio.sleep(0.05)
        return view

    view = asyncio.run(run())
    from bn_helpers.widgets._live import setting
    assert (5, 1.0, "tanh") in view._measured_by and (4, setting(2 ** 0.25), "tanh") in view._measured_by
    assert view._measured_by[5, 1.0, "tanh"] == layer_flow_curves(5, 1.0, "tanh")
    view.depth.value = 5                                       # found ready: the same dict, not measured again
    assert view.state is view._measured_by[5, 1.0, "tanh"]
    plt.close(view.fig)


@pytest.mark.parametrize("activation, norm", [("tanh", None), ("relu", "batch"), ("sigmoid", None)])
def test_the_views_fast_measurement_is_layer_flows(activation, norm):
    from bn_helpers.experiments.why_normalize import layer_flow_outputs

    fast = layer_flow_outputs(4, 0.7, activation, norm, seed=3)
    full = layer_flow(4, 0.7, activation, norm, seed=3)["activations"]
    assert len(fast) == len(full) == 4
    for a, b in zip(fast, full):
        np.testing.assert_array_equal(a, b)
