"""The claims of 04_train_vs_inference, asserted as the notebook asserts them: on its seeds, on other seeds, on perturbed inputs.

A single run at a large learning rate is chaotic: the rounding of another BLAS
kernel (another CPU) ends it 0.3 higher or lower. So every claim is about five
seeds, with the notebook's margins, and must hold for all three variants.
"""
import copy

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bn_helpers import nn, plots  # noqa: E402
from bn_helpers.data import load_digits_split, rounding_noise  # noqa: E402
from bn_helpers.experiments import train_eval as te  # noqa: E402
from bn_helpers.experiments._lockstep import fit_lockstep  # noqa: E402

# one worker runs the whole module: its module-scoped fixtures are computed once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("test_experiments_04")

# The notebook's settings
LRS = [0.1, 0.3, 1.0, 3.0, 10.0]
STDS = [1e-3, 1e-2, 1e-1, 1.0]
STEPS = 200
VARIANTS = ["notebook seeds", "other seeds", "inputs perturbed at rounding level"]


def _over(variant, run):
    if variant == "notebook seeds":
        return run(range(5))
    if variant == "other seeds":
        return run(range(5, 10))
    with rounding_noise(1e-6):
        return run(range(5))


@pytest.fixture(scope="module", params=VARIANTS)
def lrs(request):
    return _over(request.param, lambda seeds: te.lr_sweep(LRS, seeds=seeds, depth=6, width=32, steps=STEPS,
                                                           eval_every=20))


@pytest.fixture(scope="module", params=VARIANTS)
def init(request):
    return _over(request.param, lambda seeds: te.init_sweep(STDS, seeds=seeds, width=32, lr=0.3, steps=STEPS))


@pytest.fixture(scope="module", params=VARIANTS)
def sig(request):
    return _over(request.param, lambda seeds: te.lr_sweep([0.1, 1.0, 3.0], seeds=seeds, activation="sigmoid",
                                                           width=32, steps=STEPS, norms=(None,)))


# ---------------------------------------------------------------- learning rate

def test_sweep_has_one_accuracy_per_seed_and_learning_rate(lrs):
    assert lrs.values == LRS and len(lrs.seeds) == 5
    assert lrs.steps == list(range(20, STEPS + 1, 20))
    for label in ("with BN", "without BN"):
        assert lrs.accuracy[label].shape == (5, len(LRS))
        assert lrs.curves[label].shape == (5, len(LRS), len(lrs.steps))
        assert np.array_equal(lrs.curves[label][:, :, -1], lrs.accuracy[label])


def test_both_train_up_to_learning_rate_1_on_every_seed(lrs):
    bn, plain = lrs.accuracy["with BN"], lrs.accuracy["without BN"]
    upto = LRS.index(1.0) + 1
    assert min(bn[:, :upto].min(), plain[:, :upto].min()) > 0.9


def test_only_batch_norm_trains_at_learning_rate_3_on_every_seed(lrs):
    j = LRS.index(3.0)
    bn, plain = lrs.accuracy["with BN"][:, j], lrs.accuracy["without BN"][:, j]
    assert (bn - plain).min() > 0.3 and bn.min() > 0.75
    assert lrs.curves["without BN"][:, j].max() < 0.6  # no seed, at no evaluated step


def test_neither_trains_at_learning_rate_10(lrs):
    j = LRS.index(10.0)
    assert max(lrs.accuracy["with BN"][:, j].max(), lrs.accuracy["without BN"][:, j].max()) < 0.5


def test_sigmoid_without_batch_norm_stays_at_chance_on_every_seed(sig):
    assert list(sig.accuracy) == ["without BN"] and sig.accuracy["without BN"].shape == (5, 3)
    assert sig.accuracy["without BN"].max() < 0.15


# ---------------------------------------------------------------- initial weight scale

def test_only_batch_norm_learns_from_tiny_weights_on_every_seed(init):
    with_bn, without = init.accuracy["with BN"], init.accuracy["without BN"]
    assert with_bn.shape == without.shape == (5, len(STDS))
    assert without[:, :2].max() < 0.15 and with_bn[:, :2].min() > 0.2
    assert with_bn[:, :2].mean(axis=0).min() > 0.45


def test_both_train_near_the_usual_scale(init):
    assert min(init.accuracy["with BN"][:, 2].min(), init.accuracy["without BN"][:, 2].min()) > 0.8


def test_batch_norm_ahead_at_weight_std_1_on_every_seed(init):
    assert (init.accuracy["with BN"][:, 3] - init.accuracy["without BN"][:, 3]).min() > 0.15


@pytest.mark.parametrize("seeds", [range(5), range(5, 30)])
def test_tiny_weights_take_huge_first_steps_with_pre_activations_at_eps(seeds):
    """The notebook's explanation of the scatter from std 1e-3: relative steps ~1/||W||^2, variance near eps."""
    tiny, usual = te.first_step(1e-3, seeds=seeds), te.first_step(0.1, seeds=seeds)
    assert tiny["pre_var"].shape == tiny["update_ratio"].shape == (len(seeds), 6)
    assert np.all((tiny["pre_var"][:, 1:] > 1e-6) & (tiny["pre_var"][:, 1:] < 1e-4))
    assert tiny["update_ratio"].min() > 10 * usual["update_ratio"].max()
    big = te.first_step(1.0, seeds=seeds[:2])
    assert big["update_ratio"].max() < usual["update_ratio"].min()     # the other direction: large weights, small steps


def test_describe_prints_each_value_with_every_label(init):
    lines = te.describe(init, "std")
    assert len(lines) == len(STDS) and lines[0].startswith("std 0.001: with BN ")
    assert all("without BN" in line and "mean" in line for line in lines)


# ---------------------------------------------------------------- the lockstep trainer

@pytest.mark.parametrize("norm, activation", [("batch", "tanh"), (None, "sigmoid"), ("batch", "relu")])
def test_seeds_trained_at_once_end_where_each_trained_alone_ends(norm, activation):
    together = te.train_seeds([0, 3], depth=2, width=32, activation=activation, norm=norm, lr=0.5, steps=30,
                              eval_every=10)
    for i, seed in enumerate([0, 3]):
        alone = te.train_run(depth=2, width=32, activation=activation, norm=norm, lr=0.5, steps=30, seed=seed,
                             eval_every=10)
        gap = max(np.abs(p - q).max() for (_, p), (_, q) in zip(together["models"][i].params(),
                                                                  alone["model"].params()))
        assert gap < 1e-12
        assert together["eval_step"] == alone["eval_step"] == [10, 20, 30]
        assert np.allclose(together["test_acc"][i], alone["test_acc"])
        for a, b in zip(together["models"][i], alone["model"]):
            if isinstance(a, nn.BatchNorm1d):
                assert np.allclose(a.running_var, b.running_var, rtol=0, atol=1e-12)
                assert a.num_batches_tracked == b.num_batches_tracked == 30


def test_fit_lockstep_refuses_what_it_cannot_train():
    d = load_digits_split()
    a, b = nn.mlp([64, 8, 10], seed=0), nn.mlp([64, 8, 10], norm="batch", seed=1)
    with pytest.raises(ValueError, match="one seed per model"):
        fit_lockstep([a], d.X_train, d.y_train, steps=1, seeds=[0, 1])
    with pytest.raises(ValueError, match="same layers"):
        fit_lockstep([a, b], d.X_train, d.y_train, steps=1, seeds=[0, 1])
    rng = np.random.default_rng(0)
    ends_with_relu = nn.Sequential(nn.Linear(64, 8, rng), nn.ReLU())
    with pytest.raises(TypeError, match="last layer must be a Linear"):
        fit_lockstep([ends_with_relu], d.X_train, d.y_train, steps=1, seeds=[0])
    two_activations = nn.Sequential(nn.Linear(64, 8, rng), nn.ReLU(), nn.Tanh(), nn.Linear(8, 10, rng))
    with pytest.raises(TypeError, match="got Tanh where a Linear belongs"):
        fit_lockstep([two_activations], d.X_train, d.y_train, steps=1, seeds=[0])


def test_fit_lockstep_leaves_other_models_untouched():
    d = load_digits_split()
    models = [nn.mlp([64, 8, 10], norm="batch", seed=s) for s in (0, 1)]
    spare = copy.deepcopy(models[1])
    fit_lockstep(models[:1], d.X_train, d.y_train, steps=3, seeds=[0])
    assert all(np.array_equal(p, q) for (_, p), (_, q) in zip(models[1].params(), spare.params()))


def test_runs_are_reproducible():
    a = te.train_seeds([0, 1], depth=2, steps=30, norm="batch", lr=0.5)["final_acc"]
    b = te.train_seeds([0, 1], depth=2, steps=30, norm="batch", lr=0.5)["final_acc"]
    assert np.array_equal(a, b)


# ---------------------------------------------------------------- running statistics and the classic bugs

@pytest.mark.parametrize("seeds", [range(5), range(5, 10)])
def test_biased_running_variance_settles_at_three_quarters_on_every_seed(seeds):
    est = te.running_var_estimates(batch_size=4, steps=2000, seeds=seeds)
    assert est["unbiased"].shape == est["biased"].shape == (5, 2000)
    late = {k: v[:, 100:].mean(axis=1) for k, v in est.items()}
    assert np.abs(late["unbiased"] - 1).max() < 0.08 and np.abs(late["biased"] - 0.75).max() < 0.08


@pytest.mark.parametrize("bug, phrase", [
    ("zero_running_var", "zeros"), ("biased_running_var", "biased"), ("keras_momentum", "reversed"),
    ("updates_in_eval", "eval mode"), ("eval_uses_batch_stats", "batch statistics")])
def test_each_buggy_class_is_named_by_the_check(bug, phrase):
    assert phrase in te.diagnosis(te.buggy_batchnorm(bug))


def test_unknown_bug_is_refused():
    with pytest.raises(ValueError, match="bug must be one of"):
        te.buggy_batchnorm("typo")


@pytest.mark.parametrize("seed", range(10))
def test_batch_dependence_in_training_not_in_eval_on_every_seed(seed):
    # the notebook's Section 5.1 with other random draws: a layer trained 50 steps, one example in 20 batches
    rng = np.random.default_rng(seed)
    layer = nn.BatchNorm1d(3)
    for _ in range(50):
        layer.forward(rng.normal([1, -2, 0], [1, 3, 0.5], size=(32, 3)))
    pool, example = rng.normal([1, -2, 0], [1, 3, 0.5], size=(100, 3)), np.array([1.5, 0.0, 0.2])
    assert np.ptp(te.batch_dependence(layer.train(), example, pool, seed=seed), axis=0).min() > 0.3
    assert np.ptp(te.batch_dependence(layer.eval(), example, pool, seed=seed), axis=0).max() == 0
    with pytest.raises(ValueError, match="at least 7 rows"):
        te.batch_dependence(layer, example, pool[:3])


def test_zero_running_var_blows_up_eval_outputs():
    x = np.random.default_rng(1).normal(size=(4, 3))
    out = te.buggy_batchnorm("zero_running_var")(3).eval().forward(x)
    assert np.allclose(out, x / np.sqrt(1e-5))


# ---------------------------------------------------------------- the figure

def test_seed_bands_use_the_course_colours_and_say_what_the_band_is():
    fig, ax = plt.subplots()
    runs = {"with BN": np.array([[0.9, 0.95], [0.8, 0.97]]), "without BN": np.array([[0.1, 0.2], [0.3, 0.4]])}
    assert plots.plot_seed_bands(ax, [1, 2], runs, xlabel="lr", ylabel="accuracy", title="t", logx=True) is ax
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert matplotlib.colors.same_color(lines["with BN"].get_color(), plots.condition_color("with BN"))
    assert matplotlib.colors.same_color(lines["without BN"].get_color(), plots.condition_color("without BN"))
    assert np.allclose(lines["with BN"].get_ydata(), [0.85, 0.96])
    assert "2 seeds" in ax.get_legend().get_title().get_text() and ax.get_xscale() == "log"
    with pytest.raises(ValueError, match="one row per seed"):
        plots.plot_seed_bands(ax, [1, 2, 3], runs, xlabel="a", ylabel="b", title="c")
    with pytest.raises(ValueError, match="at least one"):
        plots.plot_seed_bands(ax, [1, 2], {}, xlabel="a", ylabel="b", title="c")
    plt.close(fig)
