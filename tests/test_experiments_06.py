"""The claims of 06_in_practice, asserted as the notebook asserts them: on its seeds, on other seeds, on perturbed inputs.

The identities (a bias before BN gets no gradient, folding is exact, merging is
exact) hold for any weights, so they are checked on several seeds and on
inputs perturbed at rounding level. The data-parallel comparison is a training
run: its claims are about five seeds with the notebook's margins, and must hold
for all three variants.
"""
import copy

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bn_helpers import nn, plots, stats  # noqa: E402
from bn_helpers.data import load_digits_split, rounding_noise  # noqa: E402
from bn_helpers.experiments import in_practice as ip  # noqa: E402
from bn_helpers.experiments._lockstep import fit_lockstep  # noqa: E402

# one worker runs the whole module: its module-scoped fixtures are computed once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("test_experiments_06")

# The notebook's settings for the data-parallel runs
DP = {"width": 64, "depth": 3, "steps": 300, "lr": 0.1}
VARIANTS = ["notebook seeds", "other seeds", "inputs perturbed at rounding level"]


def _over(variant, run):
    if variant == "notebook seeds":
        return run(range(5))
    if variant == "other seeds":
        return run(range(5, 10))
    with rounding_noise(1e-6):
        return run(range(5))


# ---------------------------------------------------------------- the bias before BN

@pytest.mark.parametrize("seed", range(5))
def test_bias_before_batch_norm_gets_no_gradient(seed):
    g = ip.bias_gradient(seed=seed)
    assert g["max_abs_db"] < 1e-14 and g["max_abs_dW"] > 1e-2
    with rounding_noise(1e-6):
        assert ip.bias_gradient(seed=seed)["max_abs_db"] < 1e-14


@pytest.mark.parametrize("seed", range(5))
def test_constant_shift_changes_nothing_after_batch_norm(seed):
    assert ip.shift_invariance(shift=7.0, seed=seed) < 1e-12
    with rounding_noise(1e-6):
        assert ip.shift_invariance(shift=7.0, seed=seed) < 1e-12


# ---------------------------------------------------------------- folding

@pytest.fixture(scope="module", params=VARIANTS)
def trained(request):
    if request.param == "notebook seeds":
        return ip.train_bn_net(sizes=(64, 100, 100, 10), steps=300)
    if request.param == "other seeds":
        return ip.train_bn_net(sizes=(64, 100, 100, 10), steps=300, seed=7)
    with rounding_noise(1e-6):
        return ip.train_bn_net(sizes=(64, 100, 100, 10), steps=300)


def test_folded_network_matches_the_unfolded_one(trained):
    model, X = trained["model"], trained["X_test"]
    folded = ip.fold_network(model)
    with nn.eval_mode(model):
        logits = model.forward(X)
    assert len(folded) == len(model) - 2 and not any(isinstance(m, nn.BatchNorm1d) for m in folded)
    assert np.abs(logits - folded.forward(X)).max() < 1e-10
    assert trained["acc"] > 0.9
    assert ip.time_forward(folded, X, repeats=5) > 0  # reported, not graded


# ---------------------------------------------------------------- per-device statistics and merging

@pytest.mark.parametrize("seed", range(3))
def test_merge_of_device_statistics_equals_the_synced_ones(seed):
    dev = ip.device_statistics(devices=8, per_device=4, seed=seed)
    mean, var = stats.merge_batch_stats(dev["counts"], dev["means"], dev["variances"])
    assert np.allclose(mean, dev["h"].mean(0)) and np.allclose(var, dev["h"].var(0))
    assert not np.allclose(dev["variances"].mean(0), var)  # the between-device term matters


def test_device_batchnorm_with_one_device_is_plain_batchnorm():
    x = np.random.default_rng(0).normal(size=(8, 3))
    a, b = ip.DeviceBatchNorm1d(3, devices=1), nn.BatchNorm1d(3)
    assert np.allclose(a.forward(x), b.forward(x)) and np.allclose(a.running_var, b.running_var)
    dout = np.random.default_rng(1).normal(size=(8, 3))
    assert np.allclose(a.backward(dout), b.backward(dout))


@pytest.mark.parametrize("devices", [None, 4])
def test_lockstep_training_of_device_batchnorm_is_nn_fit(devices):
    d = load_digits_split()
    models = [ip._mlp(devices, 20, 2, seed) for seed in (0, 1)]
    alone = [copy.deepcopy(m) for m in models]
    fit_lockstep(models, d.X_train, d.y_train, steps=25, seeds=[0, 1], batch_size=16, lr=0.1)
    for seed, a, b in zip((0, 1), models, alone):
        nn.fit(b, d.X_train, d.y_train, steps=25, batch_size=16, lr=0.1, seed=seed, progress=False)
        assert max(np.abs(p - q).max() for (_, p), (_, q) in zip(a.params(), b.params())) < 1e-10
        for x, y in zip(a, b):
            if isinstance(x, nn.BatchNorm1d):
                assert np.allclose(x.running_mean, y.running_mean, rtol=1e-9, atol=1e-12)
                assert np.allclose(x.running_var, y.running_var, rtol=1e-9, atol=0)


def test_lockstep_refuses_a_batch_that_does_not_split_into_devices():
    d = load_digits_split()
    with pytest.raises(ValueError, match="multiple of devices=8"):
        fit_lockstep([ip._mlp(8, 10, 1, 0)], d.X_train, d.y_train, steps=1, seeds=[0], batch_size=20)


# ---------------------------------------------------------------- data-parallel training

@pytest.fixture(scope="module", params=VARIANTS)
def runs(request):
    return _over(request.param, lambda seeds: {
        "8 × 4": ip.data_parallel_run(devices=8, per_device=4, seeds=seeds, **DP),
        "8 × 2": ip.data_parallel_run(devices=8, per_device=2, seeds=seeds, **DP)})


def test_runs_have_one_accuracy_per_seed(runs):
    for r in runs.values():
        assert r["per_device"].shape == r["synced"].shape == (5,)
        assert np.array_equal(r["gap"], r["synced"] - r["per_device"])
    assert runs["8 × 4"]["global_batch"] == 32 and runs["8 × 2"]["per_device_batch"] == 2


def test_four_per_device_both_train_and_synced_helps_a_little(runs):
    small = runs["8 × 4"]
    assert min(small["per_device"].min(), small["synced"].min()) > 0.85
    assert small["gap"].mean() > 0.01 and small["gap"].min() > -0.01 and small["gap"].max() < 0.1


def test_two_per_device_break_per_device_statistics_on_every_seed(runs):
    tiny = runs["8 × 2"]
    assert tiny["synced"].min() > 0.9 and tiny["per_device"].max() < 0.65 and tiny["gap"].min() > 0.3


def test_describe_parallel_names_each_layout(runs):
    lines = ip.describe_parallel(runs)
    assert len(lines) == 2 and lines[0].startswith("8 × 4 (5 seeds): per-device ")


# ---------------------------------------------------------------- figures and the live check

def test_parallel_figure_colours_synced_as_batch_norm():
    fig, ax = plt.subplots()
    runs = {"8 × 4": {"per_device": [0.9, 0.92], "synced": [0.95, 0.96]}}
    assert plots.plot_parallel_accuracy(ax, runs) is ax
    bars = ax.patches
    assert len(bars) == 2 and np.isclose(bars[1].get_height(), 0.955)
    assert matplotlib.colors.same_color(bars[1].get_facecolor()[:3], plots.condition_color("with BN"))
    assert "2 seeds" in ax.get_title()
    plt.close(fig)


def test_live_comparison_with_torch_when_installed():
    live = ip.compare_with_torch(steps=3)
    if live is None:
        pytest.skip("torch not installed")
    assert max(v for k, v in live.items() if k != "torch_version") < 1e-12
