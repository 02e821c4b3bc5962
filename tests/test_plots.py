"""Tests of bn_helpers.plots: each helper returns its axes, labelled and titled."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bn_helpers import plots  # noqa: E402
from bn_helpers.numerics import batchnorm_forward  # noqa: E402
from bn_helpers.plots import plot_clouds, plot_lines, plot_unit_histograms  # noqa: E402


@pytest.fixture
def pair():
    fig, axes = plt.subplots(1, 2)
    yield axes
    plt.close(fig)


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def _cloud(n=40, seed=1, shift=2.0, scale=2.0):
    x = np.random.default_rng(seed).standard_normal((n, 2)) * scale + shift
    y, _ = batchnorm_forward(x, [1.0, 1.0], [0.0, 0.0])
    return x, y


def _labelled(ax):
    return bool(ax.get_xlabel()) and bool(ax.get_ylabel()) and bool(ax.get_title())


# --------------------------------------------------------------------------- plot_clouds

def test_plot_clouds_returns_labelled_axes_with_stats_in_titles(pair):
    x, y = _cloud()
    returned = plot_clouds(pair[0], pair[1], x, y)
    assert returned[0] is pair[0] and returned[1] is pair[1]
    assert all(_labelled(a) for a in pair)
    m, s = x.mean(axis=0), x.std(axis=0)
    assert f"μ=({m[0]:.2f}, {m[1]:.2f}), σ=({s[0]:.2f}, {s[1]:.2f})" in pair[0].get_title()
    assert "Input" in pair[0].get_title()
    assert "After BatchNorm" in pair[1].get_title()
    assert "μ=(0.00, 0.00), σ=(1.00, 1.00)" in pair[1].get_title()


def test_plot_clouds_draws_every_point_once_per_axis(pair):
    x, y = _cloud(n=33)
    plot_clouds(*pair, x, y)
    for a, cloud in zip(pair, (x, y)):
        assert len(a.collections) == 1
        np.testing.assert_allclose(a.collections[0].get_offsets(), cloud)


def test_plot_clouds_uses_same_symmetric_limits_holding_all_points(pair):
    x, y = _cloud(shift=6.0)
    plot_clouds(*pair, x, y)
    lo, hi = pair[0].get_xlim()
    assert lo == -hi
    assert hi >= np.abs(x).max()
    for a in pair:
        assert a.get_xlim() == (lo, hi) and a.get_ylim() == (lo, hi)


def test_plot_clouds_honours_lim_and_draws_origin_lines(pair):
    x, y = _cloud()
    plot_clouds(*pair, x, y, lim=7.0)
    for a in pair:
        assert a.get_xlim() == (-7.0, 7.0) and a.get_ylim() == (-7.0, 7.0)
        lines = [line.get_xydata() for line in a.lines]
        assert any(np.all(ln[:, 1] == 0) for ln in lines)  # horizontal through origin
        assert any(np.all(ln[:, 0] == 0) for ln in lines)  # vertical through origin


@pytest.mark.parametrize("bad", [np.zeros((5, 3)), np.zeros(5)])
def test_plot_clouds_rejects_non_two_feature_clouds(pair, bad):
    with pytest.raises(ValueError, match="x"):
        plot_clouds(*pair, bad, np.zeros((5, 2)))


def test_plot_clouds_rejects_non_positive_lim(pair):
    x, y = _cloud()
    with pytest.raises(ValueError, match="lim"):
        plot_clouds(*pair, x, y, lim=0)


# --------------------------------------------------------------------------- plot_unit_histograms

def _pre_activations(n=300, d=6):
    rng = np.random.default_rng(2)
    before = rng.standard_normal((n, d)) * np.arange(1, d + 1) + np.arange(d) * 3.0
    after, _ = batchnorm_forward(before, np.ones(d), np.zeros(d))
    return before, after


@pytest.fixture
def grid3():
    fig, axes = plt.subplots(3, 2)
    yield axes
    plt.close(fig)


def test_unit_histograms_one_row_per_unit_labelled(grid3):
    before, after = _pre_activations()
    returned = plot_unit_histograms(grid3, before, after, units=(0, 2, 5))
    assert returned.shape == (3, 2) and returned[1, 0] is grid3[1, 0]
    assert [a.get_title() for a in grid3[0]] == ["Before BatchNorm", "After BatchNorm"]
    assert all(a.get_ylabel() == "count" for a in grid3.ravel())
    assert grid3[-1, 0].get_xlabel() == "pre-activation value" and grid3[-1, 1].get_xlabel()
    for row, unit in zip(grid3, (0, 2, 5)):
        for a in row:
            (text,) = [t.get_text() for t in a.get_legend().get_texts()]
            assert text.startswith(f"unit {unit}:")
            assert len(a.patches) == 1


def test_unit_histograms_before_without_bn_colour_after_with_bn_colour(grid3):
    from matplotlib.colors import to_rgb
    before, after = _pre_activations()
    plot_unit_histograms(grid3, before, after, units=(0, 2, 5))
    assert to_rgb(grid3[0, 0].patches[0].get_facecolor()) == to_rgb(plots.condition_color("without BN"))
    assert to_rgb(grid3[0, 1].patches[0].get_facecolor()) == to_rgb(plots.condition_color("with BN"))


def test_unit_histograms_legend_shows_bn_statistics():
    fig, axes = plt.subplots(1, 2)
    before, after = _pre_activations()
    plot_unit_histograms(axes, before, after, units=(1,))
    (before_text,) = [t.get_text() for t in axes[0].get_legend().get_texts()]
    (after_text,) = [t.get_text() for t in axes[1].get_legend().get_texts()]
    assert f"μ={before[:, 1].mean():.2f}" in before_text
    assert after_text == "unit 1: μ=0.00, σ=1.00"
    plt.close(fig)


def test_unit_histograms_after_is_the_same_bars_standardized(grid3):
    before, after = _pre_activations(n=250)
    plot_unit_histograms(grid3, before, after, units=(0, 1, 4), bins=12)
    for row in grid3:
        left, right = (a.patches[0].get_xy() for a in row)
        # a stepfilled outline visits each bar top twice; every value is counted once
        assert left[:, 1].sum() / 2 == pytest.approx(250)
        np.testing.assert_allclose(right[:, 1], left[:, 1])          # the same bars ...
        assert np.ptp(right[:, 0]) < np.ptp(left[:, 0])               # ... rescaled (std 1 < the unit's std)


@pytest.mark.parametrize("units", [(), (0, 6), (-1,)])
def test_unit_histograms_rejects_bad_units(grid3, units):
    before, after = _pre_activations(d=6)
    with pytest.raises(ValueError, match="units"):
        plot_unit_histograms(grid3, before, after, units=units)


def test_unit_histograms_rejects_mismatched_shapes_and_grids(grid3):
    before, after = _pre_activations()
    with pytest.raises(ValueError, match="same shape"):
        plot_unit_histograms(grid3, before, after[:-1])
    with pytest.raises(ValueError, match="grid of shape"):
        plot_unit_histograms(grid3, before, after, units=(0, 1))


# --------------------------------------------------------------------------- plot_lines

def test_plot_lines_draws_each_series_with_legend(ax):
    x = np.array([1.0, 2.0, 4.0])
    series = {"with BN": [0.9, 0.5, 0.2], "without BN": [1.0, 0.8, 0.7]}
    assert plot_lines(ax, x, series, xlabel="epoch", ylabel="loss", title="Training loss") is ax
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("epoch", "loss", "Training loss")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["with BN", "without BN"]
    for line, values in zip(ax.get_lines(), series.values()):
        np.testing.assert_array_equal(line.get_xdata(), x)
        np.testing.assert_array_equal(line.get_ydata(), values)
    assert ax.get_xscale() == "linear" and ax.get_yscale() == "linear"


def test_plot_lines_single_series_has_no_legend_and_log_axes(ax):
    plot_lines(ax, [1, 10, 100], {"loss": [1.0, 0.1, 0.01]}, xlabel="step", ylabel="loss",
               title="t", logx=True, logy=True)
    assert ax.get_legend() is None
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"


def test_plot_lines_rejects_length_mismatch_and_empty_input(ax):
    kw = dict(xlabel="a", ylabel="b", title="c")
    with pytest.raises(ValueError, match="shape"):
        plot_lines(ax, [1, 2, 3], {"s": [1, 2]}, **kw)
    with pytest.raises(ValueError, match="at least one"):
        plot_lines(ax, [1, 2, 3], {}, **kw)
    with pytest.raises(ValueError, match="empty"):
        plot_lines(ax, [1, 2, 3], {"s": [1, 2, 3]}, xlabel="", ylabel="b", title="c")


# --------------------------------------------------------------------------- 01_why_normalize

def _drawn_tick_labels(ax):
    ax.figure.canvas.draw()
    return [t.get_text() for t in ax.get_yticklabels() if t.get_text()]


def test_loss_contours_have_equal_axes_labelled_levels_and_the_path(ax):
    from bn_helpers.experiments.why_normalize import gd_path, scaled_regression
    p = scaled_regression(seed=0)
    path = gd_path(p, 1 / p.eigvals[-1], 20)
    assert plots.plot_loss_contours(ax, p, path, title="raw", xlabel="w1", ylabel="w2") is ax
    assert ax.get_aspect() == 1.0                                          # a circle looks round
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert np.isclose(x1 - x0, y1 - y0)
    labels = [float(t.get_text()) for t in ax.texts]                       # clabel's numbers
    assert len(labels) >= 4 and min(labels) > 0
    assert _labelled(ax) and ax.get_legend() is not None
    red = [line for line in ax.get_lines() if line.get_label().startswith("gradient descent")][0]
    np.testing.assert_allclose(red.get_xydata(), path)
    with pytest.raises(ValueError, match="path"):
        plots.plot_loss_contours(ax, p, np.zeros((3, 3)), title="t")


def test_layer_flow_draws_seed_bands_in_the_course_colours(pair):
    rng = np.random.default_rng(0)
    grow = np.stack([np.stack([np.linspace(0.5, 10, 6), np.geomspace(1, 30, 6) * (1 + 0.1 * s)], axis=1)
                     for s in range(3)])                                  # (3 seeds, 6 layers, 2)
    flat = np.stack([np.stack([np.full(6, 0.4), 0.6 + 0.01 * rng.random(6)], axis=1) for _ in range(3)])
    ax_mean, ax_std = plots.plot_layer_flow(pair, {"without BN": grow, "with BN": flat}, activation="relu")
    lines = {line.get_label(): line for line in ax_std.get_lines()}
    assert lines["without BN"].get_color() == plots.condition_color("without BN") == "tab:orange"
    assert lines["with BN"].get_color() == "tab:blue"
    np.testing.assert_allclose(lines["without BN"].get_ydata(), grow[..., 1].mean(axis=0))
    assert len(ax_std.collections) == 2                                    # a min-max band per network
    assert ax_std.get_yscale() == "log" and len(_drawn_tick_labels(ax_std)) >= 2
    assert "3 seeds" in ax_std.get_title()
    bands = [c.get_paths()[0].vertices[:, 1] for c in ax_mean.collections]
    assert min(b.min() for b in bands) >= 0                                # clipped to ReLU's range
    assert _labelled(ax_mean) and _labelled(ax_std)


def test_layer_flow_within_a_factor_3_is_linear_with_labelled_ticks(pair):
    one_run = [(0.0, 0.84), (0.01, 0.83), (0.0, 0.85)]                    # the case whose log axis had no labels
    _, ax_std = plots.plot_layer_flow(pair, {"without BN": one_run, "with BN": [(0, 0.6), (0, 0.63), (0, 0.63)]})
    assert ax_std.get_yscale() == "linear"
    assert len(_drawn_tick_labels(ax_std)) >= 3
    assert "seeds" not in ax_std.get_title()
    lo, hi = pair[0].get_ylim()
    assert lo < -0.5 and hi > 0.5                                          # the ± std band shows: not an empty panel


@pytest.mark.parametrize("curves, match", [({}, "at least one"), ({"a": np.zeros((2, 3, 3))}, "layers"),
                                           ({"a": np.zeros((0, 2))}, "layers")])
def test_layer_flow_rejects_bad_curves(pair, curves, match):
    with pytest.raises(ValueError, match=match):
        plots.plot_layer_flow(pair, curves)
    with pytest.raises(ValueError, match="activation"):
        plots.plot_layer_flow(pair, {"a": [(0.0, 1.0)]}, activation="gelu")


def test_percentiles_of_one_unit_from_start_with_a_legend(ax):
    pct = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-3.0, 0.5, 3.0]])
    plots.plot_percentiles(ax, [0, 50, 100], pct, title="unit 3", start=50, color="tab:blue")
    assert [line.get_label() for line in ax.get_lines()] == ["15th percentile", "50th percentile", "85th percentile"]
    np.testing.assert_array_equal(ax.get_lines()[2].get_ydata(), [2.0, 3.0])
    assert all(line.get_color() == "tab:blue" for line in ax.get_lines()) and _labelled(ax)
    with pytest.raises(ValueError, match="shape"):
        plots.plot_percentiles(ax, [0, 10], pct, title="p")


def test_unit_drift_boxes_every_unit_and_dots_every_seed(ax):
    rng = np.random.default_rng(0)
    drifts = {"without BN": rng.random((5, 3, 100)) + 1, "with BN": rng.random((5, 3, 100)) * 0.5}
    plots.plot_unit_drift(ax, drifts)
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(dots) == 6 and all(len(d.get_ydata()) == 5 for d in dots)      # 3 percentiles x 2 networks
    np.testing.assert_allclose(dots[0].get_ydata(), drifts["without BN"][:, 0].mean(axis=1))
    assert dots[0].get_markerfacecolor() == "tab:orange" and dots[3].get_markerfacecolor() == "tab:blue"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["15th", "50th", "85th"]
    assert _labelled(ax) and ax.get_legend() is not None
    with pytest.raises(ValueError, match=r"\(S, 3, D\)"):
        plots.plot_unit_drift(ax, {"with BN": np.zeros((5, 2, 10))})
    with pytest.raises(ValueError, match="at least one"):
        plots.plot_unit_drift(ax, {})
