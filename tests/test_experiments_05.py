"""The claims of 05_variants, asserted as the notebook asserts them: on its seeds, on other seeds, on perturbed inputs.

At batch size 2 a single training run is chaotic (rounding differences of one
BLAS kernel grow into accuracy differences of tenths), so every claim is about
five seeds, with the notebook's margins, and must hold for all three sweeps.
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bn_helpers import nn, norms, plots  # noqa: E402
from bn_helpers.data import load_digits_split, rounding_noise  # noqa: E402
from bn_helpers.experiments import variants as ve  # noqa: E402

# one worker runs the whole module: its module-scoped fixtures are computed once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("test_experiments_05")

SIZES = (2, 4, 8, 16, 32)


@pytest.fixture(scope="module", params=["notebook seeds", "other seeds", "inputs perturbed at rounding level"])
def sweep(request):
    if request.param == "notebook seeds":
        return ve.batch_size_sweep(SIZES, seeds=range(5), epochs=1, lr=0.1)
    if request.param == "other seeds":
        return ve.batch_size_sweep(SIZES, seeds=range(5, 10), epochs=1, lr=0.1)
    with rounding_noise(1e-6):
        return ve.batch_size_sweep(SIZES, seeds=range(5), epochs=1, lr=0.1)


def _rows(sweep):
    i = {b: k for k, b in enumerate(sweep.batch_sizes)}
    return i, sweep.accuracy["batch"], sweep.accuracy["layer"], sweep.accuracy["group"], sweep.accuracy["renorm"]


def test_sweep_has_one_accuracy_per_seed_and_batch_size(sweep):
    assert sweep.batch_sizes == list(SIZES) and len(sweep.seeds) == 5
    assert all(a.shape == (5, 5) for a in sweep.accuracy.values()) and sweep.recalibrated.shape == (5, 5)
    assert set(sweep.stacks) == {(k, b) for k in ve.KINDS for b in SIZES}


def test_batch_size_2_every_bn_seed_far_behind_every_ln_gn_seed(sweep):
    i, bn, ln, gn, _ = _rows(sweep)
    assert bn[i[2]].max() < 0.65 < 0.75 < min(ln[i[2]].min(), gn[i[2]].min())


def test_batch_size_4_lifts_every_bn_seed_and_from_8_on_all_train(sweep):
    i, bn, *_ = _rows(sweep)
    assert (bn[i[4]] - bn[i[2]]).min() > 0.25
    assert min(a[i[8]:].min() for a in sweep.accuracy.values()) > 0.8


def test_layer_and_group_norm_are_flat_batch_norm_is_not(sweep):
    _, bn, ln, gn, _ = _rows(sweep)
    assert np.ptp(ln.mean(1)) < 0.1 and np.ptp(gn.mean(1)) < 0.1 < 0.4 < np.ptp(bn.mean(1))


def test_recomputing_running_stats_does_not_rescue_batch_norm(sweep):
    i, bn, ln, gn, _ = _rows(sweep)
    rec = sweep.recalibrated
    assert rec[i[2]].max() < 0.65 < 0.75 < min(ln[i[2]].min(), gn[i[2]].min())
    assert gn[i[4]].mean() > max(bn[i[4]].mean(), rec[i[4]].mean())        # batch 4: on average only


def test_batch_renorm_sits_between_on_average(sweep):
    i, bn, ln, gn, brn = _rows(sweep)
    assert bn[i[2]].mean() + 0.05 < brn[i[2]].mean() < min(ln[i[2]].mean(), gn[i[2]].mean()) - 0.2


def test_batches_of_two_normalize_to_plus_minus_one_for_every_seed(sweep):
    d = load_digits_split()
    for j in range(5):
        vals = ve.normalized_values(sweep.stacks["batch", 2].model(j), d.X_train, batch_size=2)
        assert vals["train_at_pm1"] > 0.9 and vals["eval_at_pm1"] < 0.1


def test_format_sweep_prints_mean_and_range_per_row(sweep):
    text = ve.format_sweep(sweep)
    assert "5 seeds" in text
    row = next(line for line in text.splitlines() if line.strip().startswith("batch norm |"))
    a = sweep.accuracy["batch"][0]
    assert f"{a.mean():.3f} [{a.min():.2f}, {a.max():.2f}]" in row
    assert any("stats recomputed" in line for line in text.splitlines())


# --------------------------------------------------------------------------- the stacked trainer

@pytest.mark.parametrize("norm", ve.KINDS)
@pytest.mark.parametrize("batch_size, steps", [(2, 3), (8, 40), (32, 37)])
def test_seed_stack_trains_each_seed_as_nn_fit_does(norm, batch_size, steps):
    """Same weights, running statistics and accuracy as nn.fit per seed (short runs: longer ones amplify rounding)."""
    d = load_digits_split()
    stack = ve.SeedStack(norm, [3, 7]).fit(d.X_train, d.y_train, batch_size, steps=steps, lr=0.1)
    acc = stack.accuracy(d.X_test, d.y_test)
    for j, seed in enumerate([3, 7]):
        ref = ve.build(norm, seed=seed)
        nn.fit(ref, d.X_train, d.y_train, steps=steps, batch_size=batch_size, lr=0.1, seed=seed, progress=False)
        mine = stack.model(j)
        for (name, p), (_, q) in zip(ref.params(), mine.params()):
            np.testing.assert_allclose(q, p, rtol=1e-9, atol=1e-9, err_msg=name)
        for a, b in zip(ref, mine):
            if isinstance(a, nn.BatchNorm1d):
                np.testing.assert_allclose(b.running_mean, a.running_mean, atol=1e-9)
                np.testing.assert_allclose(b.running_var, a.running_var, atol=1e-9)
        assert acc[j] == nn.accuracy(ref, d.X_test, d.y_test)


def test_seed_stack_epochs_follow_nn_fit_batch_order():
    d = load_digits_split(n_train=40)
    stack = ve.SeedStack("layer", [1]).fit(d.X_train, d.y_train, 16, epochs=2, lr=0.1)
    ref = ve.build("layer", seed=1)
    nn.fit(ref, d.X_train, d.y_train, epochs=2, batch_size=16, lr=0.1, seed=1, progress=False)
    np.testing.assert_allclose(stack.model(0)[0].W, ref[0].W, atol=1e-12)


def test_seed_stack_recalibrated_matches_recalibrate():
    d = load_digits_split()
    stack = ve.SeedStack("batch", [0, 1]).fit(d.X_train, d.y_train, 4, steps=30, lr=0.1)
    fixed = stack.recalibrated(d.X_train)
    for j in range(2):
        ref = ve.recalibrate(stack.model(j), d.X_train)
        for a, b in zip(ref, fixed.model(j)):
            if isinstance(a, nn.BatchNorm1d):
                np.testing.assert_allclose(b.running_mean, a.running_mean, atol=1e-10)
                np.testing.assert_allclose(b.running_var, a.running_var, atol=1e-10)
    assert stack.running_var[0][0, 0, 0] != fixed.running_var[0][0, 0, 0]   # the original is untouched
    assert fixed.momentum == stack.momentum == 0.1


def test_seed_stack_rejects_an_unknown_norm():
    with pytest.raises(ValueError, match="norm must be one of"):
        ve.SeedStack("instance", [0])


# --------------------------------------------------------------------------- the layers and helpers

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


# --------------------------------------------------------------------------- pictures

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


def test_batch_size_figure_draws_means_bands_and_every_seed_in_course_colours():
    fig, ax = plt.subplots()
    acc = {"batch": [[0.3, 0.5], [0.9, 0.92]], "layer": [[0.9, 0.88], [0.95, 0.93]]}
    plots.plot_batch_size_accuracy(ax, [2, 32], acc, ve.LABELS, [[0.4, 0.42], [0.9, 0.91]])
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    np.testing.assert_allclose(lines["batch norm"].get_ydata(), [0.4, 0.91])                    # mean of the seeds
    np.testing.assert_allclose(lines["batch norm, running stats recomputed"].get_ydata(), [0.41, 0.905])
    assert lines["batch norm, running stats recomputed"].get_linestyle() == "--"
    assert lines["batch norm"].get_color() == plots.condition_color("with BN")
    assert lines["layer norm"].get_color() == plots.condition_color("layer norm")
    dots = [c for c in ax.collections if c.get_offsets().shape[0] == 4]                        # 2 sizes x 2 seeds
    assert len(dots) == 3
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title() and ax.get_legend() is not None
    plt.close(fig)
