"""Running statistics, eval mode, folding, merging, batch renormalization."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bn_helpers import data, norms, numerics, stats
from bn_helpers.gradcheck import numerical_gradient, rel_error


def test_one_step_on_the_worked_example():
    x = data.worked_example()
    out, cache, s = stats.batchnorm_train_step(x, [1.0], [0.0], stats.init_running_stats(1), momentum=0.1)
    assert s.mean[0] == pytest.approx(0.112, abs=1e-12)
    assert s.var[0] == pytest.approx(0.9 * 1 + 0.1 * 3.547, abs=1e-12)  # 1.2547: unbiased batch var 3.547
    assert s.num_batches_tracked == 1


def test_cumulative_average_when_momentum_is_none():
    rng = np.random.default_rng(0)
    s = stats.init_running_stats(3)
    batches = [rng.normal(i, 1 + i, (6, 3)) for i in range(4)]
    for xb in batches:
        _, _, s = stats.batchnorm_train_step(xb, np.ones(3), np.zeros(3), s, momentum=None)
    np.testing.assert_allclose(s.mean, np.mean([b.mean(0) for b in batches], axis=0), rtol=1e-12)
    np.testing.assert_allclose(s.var, np.mean([b.var(0, ddof=1) for b in batches], axis=0), rtol=1e-12)


def test_spatial_running_var_uses_n_h_w_values():
    x = np.random.default_rng(1).normal(size=(2, 3, 4, 5))
    _, _, s = stats.batchnorm_train_step(x, np.ones(3), np.zeros(3), stats.init_running_stats(3), momentum=1.0)
    flat = x.transpose(1, 0, 2, 3).reshape(3, -1)
    np.testing.assert_allclose(s.var, flat.var(axis=1, ddof=1), rtol=1e-12)


def test_keras_momentum_is_the_complement():
    assert stats.keras_to_torch_momentum(0.99) == pytest.approx(0.01)
    s0 = stats.init_running_stats(1)
    s = stats.update_running_stats(s0, [2.0], [0.0], count=2, momentum=stats.keras_to_torch_momentum(0.9))
    assert s.mean[0] == pytest.approx(0.9 * 0 + 0.1 * 2.0)  # Keras: moving * m + batch * (1 - m)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\]; got 1.5"):
        stats.keras_to_torch_momentum(1.5)


def test_eval_output_of_an_example_does_not_depend_on_the_batch():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5, 3))
    args = (np.ones(3), np.zeros(3), rng.normal(size=3), rng.uniform(1, 2, 3))
    alone = stats.batchnorm_eval(x[:1], *args)
    together = stats.batchnorm_eval(x, *args)
    np.testing.assert_allclose(alone[0], together[0], rtol=1e-15)
    train_alone = numerics.batchnorm_forward(x[:2], np.ones(3), np.zeros(3))[0]
    train_together = numerics.batchnorm_forward(x, np.ones(3), np.zeros(3))[0]
    assert not np.allclose(train_alone[0], train_together[0])


def test_errors_name_what_was_expected():
    s = stats.init_running_stats(3)
    with pytest.raises(ValueError, match=r"batch_mean must have shape \(3,\).*got shape \(2,\)"):
        stats.update_running_stats(s, np.ones(2), np.ones(3), count=4)
    with pytest.raises(ValueError, match="count must be >= 2.*got 1"):
        stats.update_running_stats(s, np.ones(3), np.ones(3), count=1)
    with pytest.raises(ValueError, match="x must be 2-D .* or 4-D"):
        stats.batchnorm_eval(np.ones(3), np.ones(3), np.zeros(3), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"counts must have shape \(2,\)"):
        stats.merge_batch_stats([1, 2, 3], np.ones((2, 4)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="counts must be positive"):
        stats.merge_batch_stats([0, 2], np.ones((2, 4)), np.ones((2, 4)))


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 8), st.integers(1, 5), st.integers(0, 2**31))
def test_folding_changes_no_output(d_in, d, seed):
    rng = np.random.default_rng(seed)
    W, b, x = rng.normal(size=(d_in, d)), rng.normal(size=d), rng.normal(size=(4, d_in))
    gamma, beta, mean, var = rng.normal(size=d), rng.normal(size=d), rng.normal(size=d), rng.uniform(0.01, 5, d)
    Wf, bf = stats.fold_batchnorm(W, b, gamma, beta, mean, var)
    np.testing.assert_allclose(x @ Wf + bf, stats.batchnorm_eval(x @ W + b, gamma, beta, mean, var), rtol=1e-10, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 20), min_size=1, max_size=5), st.integers(0, 2**31), st.floats(-1e4, 1e4))
def test_merging_equals_the_statistics_of_all_data(sizes, seed, offset):
    rng = np.random.default_rng(seed)
    parts = [offset + rng.normal(rng.normal(0, 3), rng.uniform(0.01, 2), (n, 3)) for n in sizes]
    mean, var = stats.merge_batch_stats(sizes, [p.mean(0) for p in parts], [p.var(0) for p in parts])
    whole = np.concatenate(parts)
    np.testing.assert_allclose(mean, whole.mean(0), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(var, whole.var(0), rtol=1e-9, atol=1e-12)
    assert np.all(var >= 0)


batches = arrays(np.float64, st.tuples(st.integers(2, 20), st.integers(1, 5)),
                 elements=st.floats(-100, 100, allow_nan=False))


@settings(max_examples=40, deadline=None)
@given(batches, st.integers(0, 2**31))
def test_renorm_with_no_correction_is_batch_norm(x, seed):
    rng = np.random.default_rng(seed)
    d = x.shape[1]
    gamma, beta, dout = rng.normal(size=d), rng.normal(size=d), rng.normal(size=x.shape)
    rm, rv = rng.normal(size=d), rng.uniform(0.1, 3, d)
    out, cache = norms.batch_renorm_forward(x, gamma, beta, rm, rv, r_max=1.0, d_max=0.0)
    ref, ref_cache = numerics.batchnorm_forward(x, gamma, beta)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    for a, b in zip(norms.batch_renorm_backward(dout, cache), norms.batchnorm_backward_compact(dout, ref_cache)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


def test_renorm_clips_and_its_gradient_holds_r_d_constant():
    rng = np.random.default_rng(3)
    x, dout = rng.normal(4.0, 3.0, (6, 2)), rng.normal(size=(6, 2))
    gamma, beta, rm, rv = np.array([1.5, 0.7]), np.array([0.1, -0.2]), np.zeros(2), np.ones(2)
    _, cache = norms.batch_renorm_forward(x, gamma, beta, rm, rv, r_max=2.0, d_max=1.0)
    assert np.all(cache.r <= 2.0) and np.all(np.abs(cache.d) <= 1.0)
    assert np.any(cache.r == 2.0) or np.any(np.abs(cache.d) == 1.0)  # this batch is far from (0, 1): clipping bites
    dx, dgamma, dbeta = norms.batch_renorm_backward(dout, cache)
    r, d = cache.r, cache.d

    def f(z):  # the forward with r and d frozen at their values
        _, c = numerics.batchnorm_forward(z, gamma, beta)
        return gamma * (c.x_hat * r + d) + beta

    assert rel_error(dx, numerical_gradient(f, x, dout)) < 1e-7
    assert rel_error(dgamma, (dout * cache.x_hat).sum(0)) < 1e-12 and rel_error(dbeta, dout.sum(0)) < 1e-12
    with pytest.raises(ValueError, match="r_max must be >= 1"):
        norms.batch_renorm_forward(x, gamma, beta, rm, rv, r_max=0.5)
