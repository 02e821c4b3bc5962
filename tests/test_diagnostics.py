"""Diagnostics on inputs whose answers are known by hand."""
import doctest

import numpy as np
import pytest

from bn_helpers import diagnostics as dg
from bn_helpers import nn


def test_layer_stats():
    rng = np.random.default_rng(0)
    a = rng.normal(loc=3.0, scale=2.0, size=(4000, 50))
    stats = dg.layer_stats([np.array([[1.0, 3.0], [5.0, 7.0]]), a])
    assert stats[0] == (4.0, pytest.approx(np.sqrt(5.0), rel=1e-12))
    assert stats[1][0] == pytest.approx(3.0, abs=0.01) and stats[1][1] == pytest.approx(2.0, abs=0.01)
    assert dg.layer_stats([]) == []


def test_saturation_fractions():
    assert dg.saturation_fraction([[-1.0, -0.98, 0.5, 0.97]]) == 0.5  # 0.97 itself is not above the threshold
    assert dg.saturation_fraction(np.tanh(np.array([-10.0, 0.1, 10.0, 0.2])), threshold=0.9) == 0.5
    assert dg.sigmoid_saturation_fraction([0.0, 0.02, 0.5, 0.97, 0.98, 1.0]) == pytest.approx(4 / 6)
    x = np.random.default_rng(1).normal(scale=4.0, size=1000)
    s = 0.5 * (1 + np.tanh(x / 2))
    # the two definitions pick the same units through 2 sigmoid(x) - 1 = tanh(x / 2)
    assert dg.sigmoid_saturation_fraction(s, 0.05) == dg.saturation_fraction(np.tanh(x / 2), 0.9)


def test_grad_and_update_ratios():
    W = np.array([[1.0, -1.0], [3.0, -3.0]])  # std sqrt(5)
    assert dg.grad_data_ratio(W, 0.01 * W) == pytest.approx(0.01, rel=1e-12)
    assert dg.grad_data_ratio(W, W + 100.0) == pytest.approx(1.0, rel=1e-12)  # std ignores a shift
    assert dg.update_data_ratio(W, W * 0.999) == pytest.approx(1e-3, rel=1e-9)
    with pytest.raises(ValueError, match=r"dW must have the shape of W, \(2, 2\); got shape \(4,\)"):
        dg.grad_data_ratio(W, np.zeros(4))
    with pytest.raises(ValueError, match=r"W_after must have the shape of W_before"):
        dg.update_data_ratio(W, np.zeros((2, 3)))


def test_update_ratio_of_an_sgd_step_is_lr_times_the_grad_ratio():
    rng = np.random.default_rng(2)
    model = nn.mlp([6, 5, 3], seed=0)
    x, y = rng.normal(size=(10, 6)), rng.integers(0, 3, size=10)
    with nn.record(model) as rec:
        model.backward(nn.softmax_cross_entropy(model.forward(x), y)[1])
    W = model.modules[0].W
    before = W.copy()
    nn.SGD(model, lr=0.05).step()
    ratio = dg.grad_data_ratio(before, rec.of(nn.Linear)[0].grads["W"])
    assert dg.update_data_ratio(before, W) == pytest.approx(0.05 * ratio, rel=1e-12)


def test_percentiles_over_training():
    x = np.arange(101.0)
    snaps = [np.column_stack([x, 2 * x]), np.column_stack([x - 50, x + 50])]
    assert np.allclose(dg.percentiles_over_training(snaps), [[22.5, 75.0, 127.5], [15.0, 50.0, 85.0]])
    assert np.allclose(dg.percentiles_over_training(snaps, unit=1), [[30.0, 100.0, 170.0], [65.0, 100.0, 135.0]])
    assert dg.percentiles_over_training(snaps, q=(50,)).shape == (2, 1)
    assert dg.percentiles_over_training([]).shape == (0, 3)
    with pytest.raises(ValueError, match=r"snapshots\[1\] must have 2 features"):
        dg.percentiles_over_training([snaps[0], np.zeros((3, 3))])
    with pytest.raises(ValueError, match="unit must be a unit index below D=2"):
        dg.percentiles_over_training(snaps, unit=2)
    with pytest.raises(ValueError, match=r"snapshots\[0\] must be 2-D"):
        dg.percentiles_over_training([x])


def test_doctests():
    assert doctest.testmod(dg).failed == 0
