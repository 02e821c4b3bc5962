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
    with pytest.raises(ValueError, match=r"count .* must be an integer >= 2; got 1$"):
        stats.update_running_stats(s, np.ones(3), np.ones(3), count=1)
    with pytest.raises(ValueError, match="x must be 2-D .* or 4-D"):
        stats.batchnorm_eval(np.ones(3), np.ones(3), np.zeros(3), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"counts must have shape \(2,\)"):
        stats.merge_batch_stats([1, 2, 3], np.ones((2, 4)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="counts must be positive"):
        stats.merge_batch_stats([0, 2], np.ones((2, 4)), np.ones((2, 4)))


# --------------------------------------------------------------------------
# Errors for people: the argument, what is required, what was received
# --------------------------------------------------------------------------

GOOD_MERGE = ([3, 5], np.zeros((2, 2)), np.ones((2, 2)))


def _merge_with(**changes):
    args = dict(zip(("counts", "means", "variances"), GOOD_MERGE), **changes)
    return lambda: stats.merge_batch_stats(**args)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (_merge_with(variances=[[1.0, -0.5], [1.0, 1.0]]), ValueError,
         r"^variances must be >= 0 \(biased per-device variances\); got -0.5 at index \(0, 1\) \(1 negative entry\)$"),
        (_merge_with(variances=[[1.0, 1.0], [np.nan, 1.0]]), ValueError,
         r"^variances must be finite; got nan at index \(1, 0\)$"),
        (_merge_with(means=[[0.0, np.inf], [0.0, 0.0]]), ValueError, r"^means must be finite; got inf at index \(0, 1\)$"),
        (_merge_with(counts=[np.nan, 5]), ValueError,
         r"^counts must be positive finite numbers .*; got nan at index 0: \[nan, 5.0\]$"),
        (_merge_with(counts=[3, np.inf]), ValueError, r"^counts must be positive finite numbers .*; got inf at index 1"),
        (_merge_with(counts=[3, -1]), ValueError, r"^counts must be positive finite numbers .*; got -1.0 at index 1"),
        (_merge_with(counts=["3", "5"]), TypeError, r"^counts must hold positive finite numbers, shape \(2,\); got dtype <U1$"),
        (_merge_with(counts=[True, True]), TypeError, r"^counts must hold positive finite numbers, shape \(2,\); got dtype bool$"),
        (_merge_with(counts=[[3, 5]]), ValueError, r"^counts must have shape \(2,\) \(one per device.*\); got shape \(1, 2\)$"),
        (_merge_with(variances=np.ones((2, 3))), ValueError,
         r"^variances must have the shape of means, \(2, 2\); got shape \(2, 3\)$"),
        (_merge_with(means=np.zeros(2)), ValueError, r"^means must be 2-D \(K, D\), one row per device; got shape \(2,\)$"),
        (_merge_with(counts=[], means=np.zeros((0, 2)), variances=np.zeros((0, 2))), ValueError,
         r"^means must have at least one row .*K >= 1; got shape \(0, 2\)$"),
    ],
    ids=["negative variance", "nan variance", "infinite mean", "nan count", "infinite count", "negative count",
         "string counts", "boolean counts", "2-D counts", "variances shape", "1-D means", "no device"],
)
def test_merge_refuses_impossible_statistics(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_merge_accepts_float_counts_as_weights():
    # SyncBatchNorm gathers counts as floats; only n_k / n matters, so [1.5, 4.5] weighs like [1, 3]
    means, variances = np.array([[0.0], [4.0]]), np.array([[1.0], [2.0]])
    for counts in ([1.5, 4.5], np.array([1, 3], np.int64), [2.0, 6.0]):
        mean, var = stats.merge_batch_stats(counts, means, variances)
        assert mean[0] == pytest.approx(3.0) and var[0] == pytest.approx(0.25 * (1 + 9) + 0.75 * (2 + 1))


@pytest.mark.parametrize(
    "count, error, match",
    [
        (2.7, TypeError, r"^count .* must be an integer >= 2; got float 2.7$"),
        (2.0, TypeError, r"^count .* must be an integer >= 2; got float 2.0$"),
        ("5", TypeError, r"^count .* must be an integer >= 2; got str '5'$"),
        (True, TypeError, r"^count .* must be an integer >= 2; got bool True$"),
        (1, ValueError, r"^count \(values per feature; the unbiased variance divides by count - 1\) must be an integer >= 2; got 1$"),
        (0, ValueError, r"^count .* must be an integer >= 2; got 0$"),
    ],
)
def test_update_refuses_counts_that_are_not_integers_from_2(count, error, match):
    with pytest.raises(error, match=match):
        stats.update_running_stats(stats.init_running_stats(2), np.zeros(2), np.ones(2), count=count)


def test_update_accepts_numpy_integer_counts():
    s = stats.update_running_stats(stats.init_running_stats(1), [0.0], [1.0], count=np.int64(5), momentum=1.0)
    assert s.var[0] == pytest.approx(5 / 4)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda s: stats.update_running_stats(s, np.zeros(2), np.ones(2), 4, momentum="0.1"), TypeError,
         r"^momentum must be a real number in \[0, 1\] or None; got str '0.1'$"),
        (lambda s: stats.update_running_stats(s, np.zeros(2), np.ones(2), 4, momentum=float("nan")), ValueError,
         r"^momentum must be in \[0, 1\] or None; got nan$"),
        (lambda s: stats.update_running_stats(s, np.zeros(2), [1.0, -2.0], 4), ValueError,
         r"^batch_var must be >= 0 \(the biased batch variance\); got -2.0 at index 1 \(1 negative entry\)$"),
        (lambda s: stats.update_running_stats((s.mean, s.var, 0), np.zeros(2), np.ones(2), 4), TypeError,
         r"^stats must be a RunningStats \(see init_running_stats\); got tuple$"),
        (lambda s: stats.batchnorm_train_step(np.ones((4, 3)), np.ones(3), np.zeros(3), s), ValueError,
         r"^stats must hold C=3 features \(axis 1 of x\), shape \(3,\); got shape \(2,\)$"),
        (lambda s: stats.batchnorm_eval(np.ones((4, 2)), np.ones(2), np.zeros(2), np.zeros(2), [1.0, -1.0]),
         ValueError, r"^running_var must be >= 0 \(a variance\); got -1.0 at index 1"),
        (lambda s: stats.fold_batchnorm(np.ones((3, 2)), None, np.ones(2), np.zeros(2), np.zeros(2), [-1.0, 1.0]),
         ValueError, r"^running_var must be >= 0 \(a variance\); got -1.0 at index 0"),
        (lambda s: stats.init_running_stats(2.0), TypeError, r"^num_features must be an integer >= 1; got float 2.0$"),
        (lambda s: stats.init_running_stats(0), ValueError, r"^num_features must be an integer >= 1; got 0$"),
        (lambda s: stats.init_running_stats(2, dtype=int), TypeError, r"^dtype must be a floating-point dtype"),
        (lambda s: stats.keras_to_torch_momentum(None), TypeError,
         r"^momentum must be a real number in \[0, 1\]; got NoneType None$"),
        (lambda s: stats.keras_to_torch_momentum("0.99"), TypeError,
         r"^momentum must be a real number in \[0, 1\]; got str '0.99'$"),
        (lambda s: stats.keras_to_torch_momentum(float("nan")), ValueError, r"^momentum must be in \[0, 1\]; got nan$"),
        (lambda s: norms.batch_renorm_forward(np.eye(3), np.ones(3), np.zeros(3), np.zeros(3), np.ones(3), r_max="3"),
         TypeError, r"^r_max must be a real number >= 1; got str '3'$"),
        (lambda s: norms.batch_renorm_forward(np.eye(3), np.ones(3), np.zeros(3), np.zeros(3), np.ones(3), d_max=-1),
         ValueError, r"^d_max must be >= 0 and finite; got -1.0$"),
        (lambda s: norms.batch_renorm_forward(np.eye(3), np.ones(3), np.zeros(3), np.zeros(3), [1.0, -1.0, 1.0]),
         ValueError, r"^running_var must be >= 0 \(a variance\); got -1.0 at index 1"),
    ],
    ids=["update momentum str", "update momentum nan", "update negative batch_var", "update stats tuple",
         "train_step stats of other C", "eval negative running_var", "fold negative running_var",
         "init float num_features", "init zero num_features", "init int dtype", "keras None", "keras str",
         "keras nan", "renorm r_max str", "renorm negative d_max", "renorm negative running_var"],
)
def test_running_statistics_errors_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call(stats.init_running_stats(2))


def test_nan_from_a_diverged_run_passes_through_as_in_pytorch():
    # A NaN batch (a diverging run) must not stop training: PyTorch's buffers turn NaN, and so do ours
    s = stats.update_running_stats(stats.init_running_stats(2), [np.nan, 0.0], [np.nan, 1.0], count=4)
    assert np.isnan(s.mean[0]) and np.isnan(s.var[0]) and s.var[1] == pytest.approx(0.9 + 0.1 * 4 / 3)
    out = stats.batchnorm_eval(np.ones((2, 2)), np.ones(2), np.zeros(2), s.mean, s.var)
    assert np.isnan(out[:, 0]).all() and np.isfinite(out[:, 1]).all()


# --------------------------------------------------------------------------
# float16: running statistics, eval and folding computed in float32, rounded once
# --------------------------------------------------------------------------


def test_float16_running_statistics_match_float64():
    rng = np.random.default_rng(11)
    batches = [(300 * rng.standard_normal((16, 3)) + 100 * i).astype(np.float16) for i in range(3)]  # var ~ 90000
    gamma, beta = np.array([1.0, 0.5, 2.0], np.float16), np.array([0.0, 1.0, -1.0], np.float16)
    s16, s64 = stats.init_running_stats(3, np.float16), stats.init_running_stats(3)
    for xb in batches:
        out16, _, s16 = stats.batchnorm_train_step(xb, gamma, beta, s16, momentum=0.1)
        out64, _, s64 = stats.batchnorm_train_step(xb.astype(np.float64), gamma, beta, s64, momentum=0.1)
        assert out16.dtype == np.float16
        np.testing.assert_allclose(out16, out64, rtol=2**-11, atol=2**-11 * np.abs(out64).max())
    assert s16.mean.dtype == s16.var.dtype == np.float16 and np.all(np.isfinite(s16.var))
    # the buffers went through float16 after each step: a relative error of up to 2**-11 per step
    np.testing.assert_allclose(s16.var, s64.var, rtol=3 * 2**-11)
    np.testing.assert_allclose(s16.mean, s64.mean, rtol=3 * 2**-11, atol=3 * 2**-11 * np.abs(s64.mean).max())


def test_float16_update_weights_a_variance_past_65504_before_rounding():
    # batch variance 9e4 does not fit float16, 0.9 * 1 + 0.1 * 9e4 * 4/3 = 12000.9 does
    s = stats.update_running_stats(stats.init_running_stats(1, np.float16), [0.0], np.float32([9e4]), count=4)
    assert s.var.dtype == np.float16 and s.var[0] == np.float16(0.9 + 0.1 * 9e4 * 4 / 3)


def test_float16_eval_and_folding_match_float64():
    x = np.array([[6e4, 1.0], [-6e4, 2.0]], np.float16)
    args = (np.array([1.0, 2.0]), np.array([0.5, 0.0]), np.array([-6e4, 1.5]), np.array([3.6e9, 0.25]))
    out = stats.batchnorm_eval(x, *(a.astype(np.float16) if i < 2 else a for i, a in enumerate(args)))
    exact = stats.batchnorm_eval(x.astype(np.float64), *args)  # x - running_mean reaches 1.2e5 > 65504
    assert out.dtype == np.float16 and np.all(np.isfinite(out))
    np.testing.assert_allclose(out, exact, rtol=2**-10)
    W = np.array([[300.0, -2.0], [1.0, 0.5]], np.float16)
    Wf, bf = stats.fold_batchnorm(W, None, *args)
    Wf64, bf64 = stats.fold_batchnorm(W.astype(np.float64), None, *args)
    assert Wf.dtype == bf.dtype == np.float16
    # rounding once: half an ulp, or half float16's spacing of 2**-24 below 6.1e-5 (W'[1, 0] = 1.7e-5)
    np.testing.assert_allclose(Wf, Wf64, rtol=2**-11, atol=2**-25)
    np.testing.assert_allclose(bf, bf64, rtol=2**-11, atol=2**-25)


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
