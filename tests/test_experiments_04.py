"""The claims of 04_train_vs_inference, asserted on the notebook's own seeded runs (same settings, one seed)."""
import numpy as np
import pytest

from bn_helpers.experiments import train_eval as te


@pytest.fixture(scope="module")
def lrs():
    return te.lr_sweep([0.1, 1.0, 3.0], eval_every=20)


def test_both_train_at_a_small_learning_rate(lrs):
    assert min(lrs.accuracy["with BN"][0], lrs.accuracy["without BN"][0]) > 0.93


def test_only_batch_norm_trains_at_learning_rates_1_and_3(lrs):
    assert min(lrs.accuracy["with BN"][1:]) > 0.85
    assert max(lrs.accuracy["without BN"][1:]) < 0.6


def test_curves_at_learning_rate_1_separate_early(lrs):
    steps, with_bn = lrs.curves["with BN"][1]
    _, without = lrs.curves["without BN"][1]
    assert steps == list(range(20, 201, 20))
    assert with_bn[1] > 0.9 and max(without) < 0.5  # BN above 0.9 by step 40; no BN never reaches 0.5
    assert with_bn[-1] == lrs.accuracy["with BN"][1]


def test_sigmoid_without_batch_norm_stays_at_chance():
    sig = te.lr_sweep([0.1, 1.0, 3.0], activation="sigmoid", norms=(None,))
    assert list(sig.accuracy) == ["without BN"] and max(sig.accuracy["without BN"]) < 0.15


def test_batch_norm_forgives_the_initial_weight_scale():
    init = te.init_sweep([1e-3, 1e-2, 1e-1, 1.0], lr=0.3)
    with_bn, without = init.accuracy["with BN"], init.accuracy["without BN"]
    assert min(with_bn) > 0.85
    assert max(without[:2]) < 0.15 and without[3] < 0.75 and without[2] > 0.93


def test_runs_are_reproducible():
    a = te.train_run(depth=2, steps=30, norm="batch", lr=0.5)["final_acc"]
    b = te.train_run(depth=2, steps=30, norm="batch", lr=0.5)["final_acc"]
    assert a == b


def test_biased_running_variance_settles_at_three_quarters():
    est = te.running_var_estimates(batch_size=4, steps=500)
    assert est["unbiased"].shape == (500,)
    assert abs(est["unbiased"][100:].mean() - 1) < 0.1 and abs(est["biased"][100:].mean() - 0.75) < 0.08


@pytest.mark.parametrize("bug, phrase", [
    ("zero_running_var", "zeros"), ("biased_running_var", "biased"), ("keras_momentum", "reversed"),
    ("updates_in_eval", "eval mode"), ("eval_uses_batch_stats", "batch statistics")])
def test_each_buggy_class_is_named_by_the_check(bug, phrase):
    assert phrase in te.diagnosis(te.buggy_batchnorm(bug))


def test_unknown_bug_is_refused():
    with pytest.raises(ValueError, match="bug must be one of"):
        te.buggy_batchnorm("typo")


def test_batch_dependence_in_training_not_in_eval():
    layer = te.buggy_batchnorm("keras_momentum")(3)  # any layer: the modes matter here, not the update
    rng = np.random.default_rng(0)
    pool, row = rng.normal(size=(50, 3)), np.array([0.5, -1.0, 2.0])
    assert np.ptp(te.batch_dependence(layer.train(), row, pool), axis=0).min() > 0.1
    assert np.ptp(te.batch_dependence(layer.eval(), row, pool), axis=0).max() == 0
    with pytest.raises(ValueError, match="at least 7 rows"):
        te.batch_dependence(layer, row, pool[:3])


def test_zero_running_var_blows_up_eval_outputs():
    x = np.random.default_rng(1).normal(size=(4, 3))
    out = te.buggy_batchnorm("zero_running_var")(3).eval().forward(x)
    assert np.allclose(out, x / np.sqrt(1e-5))
