"""The claims of 01_why_normalize, asserted as the notebook asserts them, on more than the notebook's runs.

Every claim is checked on three variants: the notebook's seeds (0-4), five seeds
the notebook does not use (5-9), and the notebook's seeds with the inputs
perturbed at the level of rounding (``data.rounding_noise(1e-6)`` for the
digits; the synthetic regression is perturbed here). The margins are the
notebook's; the comments give the ranges measured on this machine over the
three variants. The :class:`~bn_helpers.experiments.why_normalize.StackedMLP`
that runs the seeds together is checked against :func:`bn_helpers.nn.fit`.
"""
import contextlib

import numpy as np
import pytest

from bn_helpers import nn
from bn_helpers.data import load_digits_split, rounding_noise
from bn_helpers.diagnostics import saturation_fraction
from bn_helpers.experiments import why_normalize as E

# one worker runs the whole module: its module-scoped fixtures are computed once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("test_experiments_01")

NOTEBOOK = tuple(E.SEEDS)
OTHER = (5, 6, 7, 8, 9)
VARIANTS = {"notebook seeds": (NOTEBOOK, False), "other seeds": (OTHER, False), "rounding noise": (NOTEBOOK, True)}


def _context(perturbed):
    return rounding_noise(1e-6) if perturbed else contextlib.nullcontext()


def test_notebook_seeds_are_five_and_disjoint_from_the_test_seeds():
    assert len(NOTEBOOK) >= 5 and not set(NOTEBOOK) & set(OTHER)


def test_describe_prints_mean_and_range():
    assert E.describe([0.41, 0.46, 0.51]) == "0.46 (0.41–0.51)"
    assert E.describe(np.array([[1.0, 3.0]]), "{:.0f}") == "2 (1–3)"


# --------------------------------------------------------------------------- gradient descent

@pytest.fixture(scope="module")
def problems():
    return E.scaled_regression(seed=0), E.scaled_regression(seed=0, standardized=True)


def _perturbed(problem, seed):
    z = np.random.default_rng(seed).standard_normal(problem.X.shape)
    X = problem.X * (1 + 1e-6 * z)
    H = X.T @ X / len(X)
    return E.Regression(X, problem.y, H, np.linalg.solve(H, X.T @ problem.y / len(X)), np.linalg.eigvalsh(H))


@pytest.mark.parametrize("seeds", [NOTEBOOK, OTHER])
def test_standardizing_fixes_the_condition_number_in_every_draw(seeds):
    cond = E.conditioning(seeds)
    assert np.all(cond["raw_condition"] > 1000) and np.all(cond["std_condition"] < 1.5)   # 3931-5619; 1.02-1.20
    assert np.all(cond["raw_steps"] / cond["std_steps"] > 1000)                            # 6779 at least


def test_condition_claims_survive_rounding_noise_on_the_features():
    for seed in NOTEBOOK:
        raw = _perturbed(E.scaled_regression(seed=seed), seed)
        std = _perturbed(E.scaled_regression(seed=seed, standardized=True), seed)
        assert raw.condition > 1000 and std.condition < 1.5
        assert E.steps_to_converge(raw, 1 / raw.eigvals[-1]) > 1000 * E.steps_to_converge(std, 1 / std.eigvals[-1])


def test_conditioning_matches_the_problems_one_by_one():
    cond = E.conditioning((0, 3))
    p = E.scaled_regression(seed=3)
    assert cond["raw_condition"][1] == p.condition
    assert cond["raw_steps"][1] == E.steps_to_converge(p, 1 / p.eigvals[-1])


@pytest.mark.parametrize("standardized, factor", [(True, 1.0), (True, 1.5), (False, 1.0)])
def test_step_count_agrees_with_running_gradient_descent(standardized, factor):
    p = E.scaled_regression(seed=0, standardized=standardized)
    lr = factor / p.eigvals[-1]
    steps = E.steps_to_converge(p, lr)
    n = int(steps)
    path = E.gd_path(p, lr, n)
    err = np.linalg.norm(path - p.w_star, axis=1) / np.linalg.norm(path[0] - p.w_star)
    assert err[n] <= 1e-3 < err[n - 1]


def test_beyond_the_stability_limit_gradient_descent_diverges(problems):
    raw, _ = problems
    lr = 2.05 / raw.eigvals[-1]
    assert E.steps_to_converge(raw, lr) == float("inf")
    path = E.gd_path(raw, lr, 200)
    assert np.linalg.norm(path[-1] - raw.w_star) > 10 * np.linalg.norm(path[0] - raw.w_star)


def test_loss_grid_matches_the_loss(problems):
    raw, _ = problems
    w1, w2 = np.linspace(0, 0.5, 4), np.linspace(0, 0.04, 3)
    grid = E.loss_grid(raw, w1, w2)
    assert grid.shape == (3, 4)
    assert np.isclose(grid[1, 2], raw.loss([w1[2], w2[1]]))


def test_standardized_seed_table_columns_are_identical():
    from bn_helpers.data import placement_table
    Z = E.standardize_reference(placement_table()["X"])
    assert np.allclose(Z[:, 0], Z[:, 1]) and np.allclose(Z.std(axis=0), 1)


# --------------------------------------------------------------------------- layer flow

@pytest.mark.parametrize("variant", VARIANTS)
def test_relu_at_twice_the_init_scale_grows_without_bn_and_stays_put_with_it(variant):
    seeds, perturbed = VARIANTS[variant]
    with _context(perturbed):
        flows = {norm: E.layer_flow_seeds(seeds, depth=10, init_scale=2.0, activation="relu", norm=norm)
                 for norm in (None, "batch")}
    std = {norm: np.array([[s for _, s in f["stats"]] for f in fl]) for norm, fl in flows.items()}
    assert np.all(std[None][:, -1] / std[None][:, 0] > 5)                       # 13.2-30.8
    assert np.all(std["batch"].max(axis=1) < 1.2 * std["batch"].min(axis=1))    # at most 1.09


@pytest.mark.parametrize("variant", VARIANTS)
def test_tanh_at_init_scale_3_saturates_without_bn_not_with(variant):
    seeds, perturbed = VARIANTS[variant]
    with _context(perturbed):
        sat = {norm: np.array([[saturation_fraction(a) for a in f["activations"]]
                               for f in E.layer_flow_seeds(seeds, depth=10, init_scale=3.0, activation="tanh",
                                                           norm=norm)])
               for norm in (None, "batch")}
    assert np.all(sat[None] > 0.3) and np.all(sat["batch"] < 0.1)              # 0.39-0.43 vs 0.03


def test_bn_pre_activations_are_standardized_whatever_the_init_scale():
    for scale in (0.25, 1.0, 4.0):
        flow = E.layer_flow(depth=5, init_scale=scale, activation="relu", norm="batch")
        for m, s in flow["pre_stats"]:
            assert abs(m) < 1e-9 and abs(s - 1) < 1e-3
    a = E.layer_flow(depth=5, init_scale=0.25, activation="tanh", norm="batch")["stats"]
    b = E.layer_flow(depth=5, init_scale=4.0, activation="tanh", norm="batch")["stats"]
    assert np.allclose(a, b, atol=1e-3)        # BN's output does not depend on the scale of W


# --------------------------------------------------------------------------- StackedMLP is nn.fit, seed by seed

@pytest.mark.parametrize("sizes, activation, norm, noise", [
    ((64, 100, 100, 100, 10), "sigmoid", None, None),
    ((64, 100, 100, 100, 10), "sigmoid", "batch", None),
    ((64, 100, 100, 100, 10), "sigmoid", "batch", 1.0),
    ((64, 30, 30, 30, 30, 10), "relu", "batch", None),
    ((64, 30, 30, 30, 30, 10), "relu", None, None),
])
def test_stacked_seeds_train_exactly_as_nn_fit(sizes, activation, norm, noise):
    d = load_digits_split(seed=0)
    seeds, steps = (0, 3), 25
    stacked = E.StackedMLP(sizes, activation, norm, seeds, noise=noise)
    losses = stacked.fit(d.X_train, d.y_train, steps=steps, batch_size=60, lr=0.1)
    acc = stacked.evaluate(d.X_test, d.y_test)[0]
    for j, seed in enumerate(seeds):
        model = E.noisy_mlp(noise, seed, sizes, activation) if noise else \
            nn.mlp(list(sizes), activation=activation, norm=norm, seed=seed)
        hist = nn.fit(model, d.X_train, d.y_train, steps=steps, batch_size=60, lr=0.1, seed=seed, progress=False)
        if noise:                            # the last draw of the last layer, from the same generator
            mu, sigma = stacked.noise_log[-1][-1]
            assert (mu[j], sigma[j]) == [m for m in model.modules if isinstance(m, E.NoisyBatchNorm1d)][-1].last_noise
        np.testing.assert_allclose(losses[:, j], hist["loss"], rtol=1e-10)
        copy = stacked.model(j)
        for mine, theirs in zip(copy.params(), model.params()):
            np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-9, atol=1e-12)
        for mine, theirs in zip(copy.modules, model.modules):
            if isinstance(theirs, nn.BatchNorm1d):
                np.testing.assert_allclose(mine.running_var, theirs.running_var, rtol=1e-9)
        assert acc[j] == nn.accuracy(model, d.X_test, d.y_test)


def test_the_experiments_single_precision_changes_nothing_that_is_claimed():
    # the notebook's runs use float32 (half the cost); on the sigmoid net it tracks float64 closely
    single = E.ics_run("batch", seeds=(0, 1), steps=100)
    double = E.ics_run("batch", seeds=(0, 1), steps=100, dtype=np.float64)
    assert single["net"].W[0].dtype == np.float32 and double["net"].W[0].dtype == np.float64
    np.testing.assert_allclose(single["test_acc"], double["test_acc"], atol=0.01)
    np.testing.assert_allclose(single["unit_percentiles"], double["unit_percentiles"], atol=1e-3)


def test_population_stats_are_a_noise_free_cumulative_average():
    d = load_digits_split(seed=0)
    stacked = E.StackedMLP((64, 20, 20, 10), "sigmoid", "batch", (1, 2), noise=1.0)
    stacked.fit(d.X_train, d.y_train, steps=30, batch_size=60, lr=0.5)
    means, variances = stacked.population_stats(d.X_train[:300], batch_size=60)
    model = stacked.model(1)
    bns = [m for m in model.modules if isinstance(m, nn.BatchNorm1d)]
    for bn in bns:
        bn.noise, bn.momentum = 0.0, None
        bn.running_mean, bn.running_var, bn.num_batches_tracked = np.zeros(20), np.ones(20), 0
    for k in range(5):
        model.forward(d.X_train[60 * k:60 * (k + 1)])
    for i, bn in enumerate(bns):
        np.testing.assert_allclose(means[i][1, 0], bn.running_mean, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(variances[i][1, 0], bn.running_var, rtol=1e-9)


def test_stacked_mlp_names_bad_arguments():
    with pytest.raises(ValueError, match="norm"):
        E.StackedMLP((4, 3, 2), norm="layer")
    with pytest.raises(ValueError, match="activation"):
        E.StackedMLP((4, 3, 2), activation="gelu")
    with pytest.raises(ValueError, match="noise"):
        E.StackedMLP((4, 3, 2), noise=1.0)


# --------------------------------------------------------------------------- Ioffe 4.1 and Santurkar 2.1

@pytest.fixture(scope="module", params=list(VARIANTS))
def runs(request):
    seeds, perturbed = VARIANTS[request.param]
    with _context(perturbed):
        ics = {label: E.ics_run(norm, seeds=seeds) for label, norm in [("without BN", None), ("with BN", "batch")]}
        noisy = E.noisy_bn_run(1.0, seeds=seeds)
    return ics, noisy


def _acc(run, step):
    return dict(zip(run["step"], run["test_acc"].T))[step]


def test_each_unit_moves_more_without_bn(runs):
    ics, _ = runs
    drift = {k: E.unit_drift(r, start=100) for k, r in ics.items()}
    ratio = drift["without BN"].mean(axis=2) / drift["with BN"].mean(axis=2)
    assert np.all(ratio > 1.5)                       # 1.77-2.50 (15th), 2.13-3.34 (median), 4.43-6.22 (85th)


def test_per_unit_of_loss_decrease_units_move_more_with_bn(runs):
    """The notebook's confound check: over steps 100-300 BN has converged; per unit of progress the order reverses."""
    ics, _ = runs
    per_loss = {k: E.unit_drift(r, start=100).mean(axis=2) / E.loss_decrease(r, start=100)[:, None]
                for k, r in ics.items()}
    assert np.all(E.loss_decrease(ics["without BN"]) > 5 * E.loss_decrease(ics["with BN"]))
    assert np.all(per_loss["with BN"] > 1.5 * per_loss["without BN"])   # about 2-8 times, every seed and percentile


def test_loss_decrease_smooths_and_checks_the_window():
    loss = np.concatenate([np.full(100, 2.0), np.linspace(2.0, 1.0, 200)])[None]     # (1, 300)
    assert E.loss_decrease({"loss": loss}, start=100, window=20) == pytest.approx(1.0, abs=0.06)
    with pytest.raises(ValueError, match="steps"):
        E.loss_decrease({"loss": loss[:, :110]}, start=100, window=20)


def test_averaging_over_units_first_hides_bn_drift(runs):
    ics, _ = runs
    run = ics["with BN"]
    averaged = np.ptp(run["percentiles"][:, run["step"] >= 100, 1], axis=1)
    per_unit = E.unit_drift(run)[:, 1].mean(axis=1)
    assert np.all(averaged < 0.2 * per_unit)                                      # 0.10 of it at most


def test_bn_trains_much_faster_and_stays_ahead(runs):
    ics, _ = runs
    assert np.all(_acc(ics["with BN"], 40) > 0.8) and np.all(_acc(ics["without BN"], 40) < 0.3)  # >= 0.88; <= 0.20
    assert np.all(_acc(ics["with BN"], 300) > _acc(ics["without BN"], 300) + 0.03)             # +0.075 at least


def test_noisy_bn_trains_about_as_well_as_bn(runs):
    ics, noisy = runs
    bn, without = _acc(ics["with BN"], 200), _acc(ics["without BN"], 200)
    for acc in (noisy["test_acc"][:, -1], noisy["test_acc_clean_stats"]):
        assert np.all(np.abs(acc - bn) < 0.03)           # 0.008 apart at most
        assert np.all(acc > without + 0.15)              # +0.22 at least
    assert noisy["step"][-1] == 200


def test_the_noise_moves_distributions_more_than_training_without_bn(runs):
    ics, noisy = runs
    mu = noisy["noise"][:, 0]                                                    # (layers, seeds, steps)
    assert mu.shape == (3, 5, 200)
    assert np.abs(np.diff(mu, axis=-1)).mean() > 0.5                             # 0.65-0.66
    drift = E.unit_drift(ics["without BN"])[:, 1].mean(axis=1)
    assert np.ptp(mu, axis=-1).min() > 2 * drift.max()                           # 1.43 times that at least


def test_noise_zero_is_plain_batch_norm():
    bn = E.ics_run("batch", seeds=(0, 1), steps=60)
    plain = E.noisy_bn_run(0.0, seeds=(0, 1), steps=60)
    np.testing.assert_array_equal(plain["test_acc"], bn["test_acc"])
    assert "noise" not in plain and "test_acc_clean_stats" not in plain


def test_unit_drift_and_typical_unit():
    run = {"step": np.array([0, 100, 200]),
           "unit_percentiles": np.array([[[[9.0, 9.0, 9.0]], [[0.0, 1.0, 2.0]], [[0.5, 4.0, 2.0]]]])}  # (1, 3, 1, 3)
    drift = E.unit_drift(run, start=100)
    np.testing.assert_allclose(drift, [[[0.5, 3.0, 0.0]]])
    assert E.typical_unit(np.array([[[5.0, 1.0, 3.0]] * 3])) == 2


# --------------------------------------------------------------------------- the noisy layer

def test_noisy_bn_layer_adds_iid_noise_of_the_drawn_distribution_in_training_only():
    layer = E.NoisyBatchNorm1d(50, noise=1.0, rng=0)
    x = np.random.default_rng(1).normal(2.0, 3.0, size=(2000, 50))
    y = layer.forward(x)
    x_hat = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    z = y - x_hat
    mu, sigma = layer.last_noise
    assert -1 <= mu <= 1 and 0 <= sigma <= 1
    assert abs(z.mean() - mu) < 5 * sigma / np.sqrt(z.size) + 1e-12
    assert abs(z.std() - sigma) < 0.02 * sigma
    assert np.ptp(z[:, 0]) > 3 * sigma and np.ptp(z[0]) > 3 * sigma    # differs across examples and units
    y2 = layer.forward(x)
    assert layer.last_noise != (mu, sigma) and not np.allclose(y, y2)  # a new distribution at every step
    layer.eval()
    out = layer.forward(x)
    assert layer.last_noise is None
    np.testing.assert_allclose(out, (x - layer.running_mean) / np.sqrt(layer.running_var + 1e-5))


def test_noisy_bn_backward_is_batch_norms():
    from bn_helpers.gradcheck import numerical_gradient
    layer = E.NoisyBatchNorm1d(3, noise=1.0, rng=0)
    x = np.random.default_rng(2).normal(size=(6, 3))
    dout = np.random.default_rng(3).normal(size=(6, 3))
    layer.forward(x)
    dx = layer.backward(dout)

    def f(xx):                               # the noise is additive: it does not depend on x
        return (xx - xx.mean(0)) / np.sqrt(xx.var(0) + 1e-5)
    np.testing.assert_allclose(dx, numerical_gradient(f, x, dout), atol=1e-6)


def test_noisy_bn_refuses_negative_noise():
    with pytest.raises(ValueError, match="noise"):
        E.NoisyBatchNorm1d(3, noise=-1.0)


# --------------------------------------------------------------------------- Santurkar 3.1

@pytest.fixture(scope="module", params=list(VARIANTS))
def probes(request):
    seeds, perturbed = VARIANTS[request.param]
    with _context(perturbed):
        return {label: E.loss_along_gradient(norm, seeds=seeds) for label, norm in [("without BN", None),
                                                                                    ("with BN", "batch")]}


def test_while_learning_the_loss_varies_far_more_along_the_gradient_without_bn(probes):
    late = probes["with BN"]["step"] >= 50
    median = {k: np.median(p["range"][:, late], axis=1) for k, p in probes.items()}
    assert np.all(median["without BN"] > 10 * median["with BN"])      # 21x at least
    early = probes["with BN"]["range"][:, :3].mean(axis=1)
    assert np.all(median["with BN"] < early)                          # with BN the range falls over training


def test_on_its_initial_plateau_the_network_without_bn_varies_less(probes):
    early = {k: p["range"][:, :3].mean(axis=1) for k, p in probes.items()}
    assert np.all(early["without BN"] < early["with BN"])             # 0.40 of it at most
    assert np.all(probes["without BN"]["loss"][:, :21] > 2.0)         # 2.20-2.32: the plateau near ln 10


def test_probe_does_not_change_the_run():
    a = E.loss_along_gradient("batch", seeds=(0,), steps=30, every=10, etas=(0.1,))
    b = E.loss_along_gradient("batch", seeds=(0,), steps=30, every=10, etas=(0.1, 0.3))
    np.testing.assert_array_equal(a["losses"][:, :, 0], b["losses"][:, :, 0])
    np.testing.assert_array_equal(a["loss"], b["loss"])
    assert a["range"].shape == (1, 3) and np.all(a["range"] == 0)
