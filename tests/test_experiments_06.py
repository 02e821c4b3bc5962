"""The claims of 06_in_practice, asserted on the notebook's own seeded runs (same settings)."""
import numpy as np
import pytest

from bn_helpers import nn, stats
from bn_helpers.experiments import in_practice as ip


def test_bias_before_batch_norm_gets_no_gradient():
    g = ip.bias_gradient()
    assert g["max_abs_db"] < 1e-14 and g["max_abs_dW"] > 1e-2


def test_constant_shift_changes_nothing_after_batch_norm():
    assert ip.shift_invariance(shift=7.0) < 1e-12


@pytest.fixture(scope="module")
def trained():
    return ip.train_bn_net(sizes=(64, 100, 100, 10), steps=300)


def test_folded_network_matches_the_unfolded_one(trained):
    model, X = trained["model"], trained["X_test"]
    folded = ip.fold_network(model)
    with nn.eval_mode(model):
        logits = model.forward(X)
    assert len(folded) == len(model) - 2 and not any(isinstance(m, nn.BatchNorm1d) for m in folded)
    assert np.abs(logits - folded.forward(X)).max() < 1e-10
    assert trained["acc"] > 0.95
    assert ip.time_forward(folded, X, repeats=5) > 0  # reported, not graded


def test_merge_of_device_statistics_equals_the_synced_ones():
    dev = ip.device_statistics(devices=8, per_device=4)
    mean, var = stats.merge_batch_stats(dev["counts"], dev["means"], dev["variances"])
    assert np.allclose(mean, dev["h"].mean(0)) and np.allclose(var, dev["h"].var(0))
    assert not np.allclose(dev["variances"].mean(0), var)  # the between-device term matters


def test_device_batchnorm_with_one_device_is_plain_batchnorm():
    x = np.random.default_rng(0).normal(size=(8, 3))
    a, b = ip.DeviceBatchNorm1d(3, devices=1), nn.BatchNorm1d(3)
    assert np.allclose(a.forward(x), b.forward(x)) and np.allclose(a.running_var, b.running_var)
    dout = np.random.default_rng(1).normal(size=(8, 3))
    assert np.allclose(a.backward(dout), b.backward(dout))


def test_synced_statistics_win_slightly_at_four_per_device():
    r = ip.data_parallel_run(devices=8, per_device=4, seeds=(0, 1, 2))
    assert all(s > p for s, p in zip(r["synced"], r["per_device"]))
    assert max(s - p for s, p in zip(r["synced"], r["per_device"])) < 0.03  # "small": under 3 points


def test_per_device_statistics_break_training_at_two_per_device():
    r = ip.data_parallel_run(devices=8, per_device=2, seeds=(0, 1))
    assert min(r["synced"]) > 0.95 and max(r["per_device"]) < 0.6


def test_live_comparison_with_torch_when_installed():
    live = ip.compare_with_torch(steps=3)
    if live is None:
        pytest.skip("torch not installed")
    assert max(v for k, v in live.items() if k != "torch_version") < 1e-12
