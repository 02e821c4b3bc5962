"""The claims of 03_backward's experiments, asserted on the notebook's seeded runs."""
import numpy as np
import pytest

from bn_helpers.experiments import backward as experiments
from bn_helpers.norms import batchnorm_backward_compact


@pytest.fixture(scope="module")
def flow():
    return {"without": experiments.gradient_flow("sigmoid"), "with": experiments.gradient_flow("sigmoid", "batch")}


def test_gradient_flow_shape(flow):
    assert flow["without"].shape == flow["with"].shape == (21,)  # 20 hidden layers + the output layer


def test_sigmoid_gradients_vanish_without_bn_and_not_with_it(flow):
    without, with_bn = flow["without"], flow["with"]
    assert with_bn[0] > 1e6 * without[0]                  # the notebook's claim, with its margin
    assert without[0] / without[-1] < 1e-9 and with_bn[0] / with_bn[-1] > 0.1
    assert 0.5 < without[-1] < 2 and 0.5 < with_bn[-1] < 2
    assert np.all(np.diff(np.log(without[:-1])) > 0)      # decays layer after layer toward the input
    # the numbers the notebook cites
    assert 3e-13 < without[0] < 6e-13 and 0.4 < with_bn[0] < 0.6


def test_init_scale_sets_gradient_size_without_bn_only():
    for act in ("sigmoid", "tanh", "relu"):
        no_bn = [experiments.gradient_flow(act, gain=g)[0] for g in (0.5, 1.0, 2.0)]
        bn = [experiments.gradient_flow(act, "batch", gain=g)[0] for g in (0.5, 1.0, 2.0)]
        assert max(no_bn) > 1e3 * min(no_bn), act
        assert max(bn) < 1.5 * min(bn), act


def test_with_bn_tanh_and_relu_gradients_grow_toward_the_input():
    for act, low, high in (("tanh", 3, 8), ("relu", 20, 60)):
        g = experiments.gradient_flow(act, "batch")
        assert low < g[0] / g[-1] < high, act


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
