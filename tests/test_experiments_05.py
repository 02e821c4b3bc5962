"""The claims of 05_variants, asserted on the notebook's own seeded run (same settings, one seed)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bn_helpers import nn, norms, plots  # noqa: E402
from bn_helpers.data import load_digits_split  # noqa: E402
from bn_helpers.experiments import variants as ve  # noqa: E402


@pytest.fixture(scope="module")
def sweep():
    return ve.batch_size_sweep((2, 32), ("batch", "layer", "group", "renorm"), epochs=2, lr=0.1)


def test_batch_norm_falls_behind_at_batch_size_2(sweep):
    acc = sweep.accuracy
    assert acc["batch"][0] < 0.6 and min(acc["layer"][0], acc["group"][0]) > 0.85


def test_all_train_at_batch_size_32(sweep):
    assert min(a[1] for a in sweep.accuracy.values()) > 0.9


def test_recomputing_running_stats_does_not_rescue_batch_norm(sweep):
    assert sweep.recalibrated[2] < sweep.accuracy["layer"][0] - 0.3
    assert sweep.recalibrated[32] > 0.9


def test_batch_renorm_recovers_part_of_the_gap(sweep):
    acc = sweep.accuracy
    assert acc["renorm"][0] > acc["batch"][0] + 0.15 and acc["renorm"][0] < acc["layer"][0] - 0.15


def test_batches_of_two_normalize_to_plus_minus_one(sweep):
    d = load_digits_split()
    vals = ve.normalized_values(sweep.models["batch", 2], d.X_train, batch_size=2)
    assert vals["train_at_pm1"] > 0.9 and vals["eval_at_pm1"] < 0.1


def test_recalibrate_sets_population_statistics_and_keeps_the_model():
    d = load_digits_split()
    model = ve.build("batch")
    fixed = ve.recalibrate(model, d.X_train)
    assert model[1].running_mean.tolist() == [0.0] * 100  # the original is untouched
    h = fixed[0].forward(d.X_train)
    assert np.allclose(fixed[1].running_mean, h.mean(0)) and np.allclose(fixed[1].running_var, h.var(0, ddof=1))
    assert not fixed[1].training and fixed[1].momentum == 0.1


def test_batch_renorm_layer_is_batch_norm_at_r_max_1_d_max_0():
    rng = np.random.default_rng(0)
    x, dout = rng.normal(2, 3, (8, 5)), rng.normal(size=(8, 5))
    bn, brn = nn.BatchNorm1d(5), ve.BatchRenorm1d(5, r_max=1.0, d_max=0.0)
    for _ in range(3):
        assert np.allclose(bn.forward(x), brn.forward(x))
        assert np.allclose(bn.backward(dout), brn.backward(dout))
    assert np.allclose(bn.running_var, brn.running_var)
    assert np.allclose(bn.eval().forward(x), brn.eval().forward(x))


def test_batch_renorm_layer_uses_the_reference_forward():
    rng = np.random.default_rng(1)
    x = rng.normal(2, 3, (4, 3))
    layer = ve.BatchRenorm1d(3)
    expected, _ = norms.batch_renorm_forward(x, np.ones(3), np.zeros(3), np.zeros(3), np.ones(3), 3.0, 5.0)
    assert np.allclose(layer.forward(x), expected)


def test_runs_are_reproducible():
    assert ve.small_batch_run("renorm", 16, epochs=1)["acc"] == ve.small_batch_run("renorm", 16, epochs=1)["acc"]


@pytest.mark.parametrize("kind, count", [("batch", 4 * 5), ("layer", 6 * 5), ("instance", 5), ("group", 3 * 5)])
def test_norm_sets_shade_the_right_values(kind, count):
    mask = plots.variants.norm_set(kind, N=4, C=6, HW=5, G=2)
    assert mask.sum() == count and mask[0, 0, 0]


def test_norm_axes_figure_has_four_titled_panels():
    axes = plots.plot_norm_axes()
    titles = [ax.get_title() for ax in axes]
    assert [t.split("\n")[0] for t in titles] == ["Batch norm", "Layer norm", "Instance norm", "Group norm (G = 2)"]
    assert all(ax.get_zlabel() == "N (example)" for ax in axes)
    plt.close("all")


def test_batch_size_bars_show_the_numbers():
    fig, ax = plt.subplots()
    plots.plot_batch_size_accuracy(ax, [2, 32], {"batch": [0.3, 0.9], "layer": [0.9, 0.95]}, ve.LABELS, {2: 0.4, 32: 0.9})
    heights = sorted(round(p.get_height(), 2) for p in ax.patches)
    assert heights == [0.3, 0.4, 0.9, 0.9, 0.9, 0.95]
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "batch norm, running stats recomputed" in labels and "layer norm" in labels
    plt.close(fig)
