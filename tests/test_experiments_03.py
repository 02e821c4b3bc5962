"""The claims of 03_backward's experiments: on the notebook's seeds, on other seeds, and on perturbed inputs."""
import numpy as np
import pytest

from bn_helpers import data
from bn_helpers.data import rounding_noise
from bn_helpers.experiments import backward as experiments
from bn_helpers.norms import batchnorm_backward, batchnorm_backward_compact
from bn_helpers.numerics import batchnorm_forward

# one worker runs the whole module: its module-scoped fixtures are computed once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("test_experiments_03")


NOTEBOOK_SEEDS, OTHER_SEEDS = range(5), range(5, 10)


def _flows(seeds, activation="sigmoid", gain=1.0):
    return {norm: np.array([experiments.gradient_flow(activation, norm, gain=gain, seed=s) for s in seeds])
            for norm in (None, "batch")}


@pytest.fixture(scope="module", params=["notebook seeds", "other seeds", "inputs perturbed at rounding level"])
def flow(request):
    if request.param == "notebook seeds":
        return _flows(NOTEBOOK_SEEDS)
    if request.param == "other seeds":
        return _flows(OTHER_SEEDS)
    with rounding_noise(1e-6):
        return _flows(NOTEBOOK_SEEDS)


def test_gradient_flow_shape(flow):
    assert flow[None].shape == flow["batch"].shape == (5, 21)  # 20 hidden layers + the output layer, 5 seeds


def test_sigmoid_gradients_vanish_without_bn_and_not_with_it(flow):
    """The claims of the notebook's Section 8, for every seed (same margins as the notebook)."""
    without, with_bn = flow[None], flow["batch"]
    ratio_no_bn, ratio_bn = without[:, 0] / without[:, -1], with_bn[:, 0] / with_bn[:, -1]
    assert np.all(with_bn[:, 0] > 1e6 * without[:, 0])
    assert np.all((1e-13 < ratio_no_bn) & (ratio_no_bn < 1e-11))
    assert np.all((0.3 < ratio_bn) & (ratio_bn < 0.9))
    assert np.all((0.5 < without[:, -1]) & (without[:, -1] < 2) & (0.5 < with_bn[:, -1]) & (with_bn[:, -1] < 2))
    assert np.all(np.diff(np.log(without[:, :-1]), axis=1) > 0)   # decays layer after layer toward the input


@pytest.mark.parametrize("seeds", [range(3), range(3, 6)], ids=["notebook seeds", "other seeds"])
def test_init_scale_sets_gradient_size_without_bn_only(seeds):
    for act in ("sigmoid", "tanh", "relu"):
        runs = {g: _flows(seeds, act, g) for g in (0.5, 1.0, 2.0)}
        no_bn = np.array([runs[g][None][:, 0] for g in runs])
        bn = np.array([runs[g]["batch"][:, 0] for g in runs])
        assert np.all(no_bn.max(0) > 1e3 * no_bn.min(0)), act
        assert np.all(bn.max(0) < 1.5 * bn.min(0)), act
        if act != "sigmoid":   # with BN, gradients grow toward the input (the notebook's margins)
            grow = np.array([runs[g]["batch"][:, 0] / runs[g]["batch"][:, -1] for g in runs])
            assert grow.min() > (2 if act == "tanh" else 10), act


def test_flow_table_prints_every_row_as_a_range_over_seeds():
    table = {("tanh", 1.0, None): np.array([[1e-12, 0.5], [3e-12, 0.7]]),
             ("tanh", 1.0, "batch"): np.array([[4.0, 1.0], [5.0, 1.2]])}
    text = experiments.format_flow_table(table)
    assert "over 2 weight seeds" in text
    (row,) = [line for line in text.splitlines() if line.strip().startswith("tanh")]
    assert row.split() == ["tanh", "1.0", "|", "1.0e-12-3.0e-12", "5.0e-01-7.0e-01", "|", "4.00-5.00", "1.00-1.20"]


def test_worked_batch_dout_e1_couples_the_examples():
    """The notebook's Section 1 example: the worked batch of 02, dout = e_1, through the reference backward."""
    x = data.worked_example()
    _, cache = batchnorm_forward(x, np.array([data.WORKED_GAMMA]), np.array([data.WORKED_BETA]))
    e1 = np.zeros_like(x)
    e1[0] = 1.0
    for backward in (batchnorm_backward, batchnorm_backward_compact):
        dx = backward(e1, cache)[0].ravel()
        np.testing.assert_allclose(dx, [0.500, -0.0465, -0.1828, -0.2657, -0.0050], atol=5e-4)
        assert abs(dx.sum()) < 1e-12 and np.all(dx[1:] != 0)
    assert abs(float(data.WORKED_GAMMA * cache.inv_std[0]) - 0.7124) < 5e-5


def _case(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(1.0, 2.0, size=(5, 3))
    return x, rng.uniform(0.5, 2.0, 3), rng.normal(0.0, 1.0, 3), rng


def test_with_dout_ones_dx_is_zero_and_hides_a_bug():
    x, gamma, beta, rng = _case()
    ones, random = np.ones_like(x), rng.standard_normal(x.shape)
    _, good_abs_ones, size_ok = experiments.gradcheck_errors(batchnorm_backward_compact, x, gamma, beta, ones)
    assert size_ok < 1e-12 and good_abs_ones < 1e-8         # the true dx is zero
    _, bug_abs_ones, bug_size = experiments.gradcheck_errors(experiments.backward_without_variance_path, x, gamma, beta, ones)
    bug_random = experiments.gradcheck_errors(experiments.backward_without_variance_path, x, gamma, beta, random)[0]
    good_random = experiments.gradcheck_errors(batchnorm_backward_compact, x, gamma, beta, random)[0]
    assert bug_size < 1e-12 and bug_abs_ones < 1e-8 < 1e-2 < bug_random   # the notebook's assertion
    assert good_random < 1e-6


def test_median_seconds_is_positive_and_finite():
    t = experiments.median_seconds(np.sum, np.ones(10), repeats=5)
    assert 0 < t < 1


def test_gain_must_be_positive():
    with pytest.raises(ValueError, match="gain must be positive"):
        experiments.gradient_flow(gain=0)
